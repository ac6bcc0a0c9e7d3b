// What wardd's outputs need from a message without a serializer: the
// terminal's one-line summary and the fields a sink indexes a record by.
#pragma once

#include <cstdint>
#include <string>

#include "output/writer.h"
#include "ward/client.h"
#include "ward/message.h"

namespace ward::daemon {

// "exec pid=12 ppid=1 uid=0 /usr/bin/ls [ls -l] pkg=coreutils", "open pid=9
// /usr/bin/cat /etc/passwd", …
std::string summary_line(const Message& message);
std::string summary_line(const DropReport& drop);

// The event's main path: the executable an exec runs, the file a file event
// is about, the decided target of an auth_result; else the instigator's
// executable.
std::string main_path(const Message& message);

// A drop report as a record: sinks index it under this name and type.
inline constexpr std::string_view kDropRecordName = "drop";
inline constexpr uint32_t kDropRecordType = 0xFFFFFFFFu;

// Everything but the payload. `id` is unique across agent runs: the run id
// (output::HostInfo::run_id) and the observer's global sequence number.
output::Record record_header(const Message& message, const std::string& run_id);

}  // namespace ward::daemon

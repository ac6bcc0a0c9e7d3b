// Decodes the activity sensors' records (bpf/ward_event_wire.h) into
// RawNotify events. Pure: no kernel access, so every record shape is unit
// tested without root.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "sensors/raw_event.h"

namespace ward::sensors::bpf {

// The event type of an activity record type (WARD_EV_*), and back.
std::optional<EventType> event_type_of_record(uint32_t record_type);
std::optional<uint32_t> record_type_of_event(EventType type);

// A path as the kernel resolved it: `base` is a directory the kernel gave
// ("/a/b", from a file, the cwd or the process root), `rel` the string the
// syscall was given ("" = base is the whole path; an absolute rel starts at
// base, the root). ".", ".." and repeated slashes are folded lexically. For a
// rel without them the result is exactly base + "/" + rel: what the kernel's
// mute filter compares (ward_target_lookup in bpf/ward_fs_paths.bpf.h).
std::string resolve_path(std::string_view base, std::string_view rel);

// "/a/b/c" -> "/a/b" and "c"; "/c" -> "/" and "c".
std::string_view parent_of(std::string_view path);
std::string_view name_of(std::string_view path);

struct ActivityDecodeContext {
  int64_t boot_to_realtime_ns = 0;  // for times the kernel gives as "now"
};

// nullopt: not an activity record, or malformed.
std::optional<RawEvent> decode_activity_record(std::span<const uint8_t> record,
                                               const ActivityDecodeContext& context = {});

}  // namespace ward::sensors::bpf

// Serializers turn a Message into bytes; they never know where the bytes go
// (writers do that) and never branch on an event type by hand where the
// event table can tell them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ward/client.h"
#include "ward/message.h"

namespace ward::output {

class Serializer {
 public:
  virtual ~Serializer() = default;
  // Appends one record, without a trailing newline.
  virtual void serialize(const Message& message, std::string& out) const = 0;
  // Appends one record saying what was lost.
  virtual void serialize_drop(const DropReport& drop, std::string& out) const = 0;
};

// eslogger-style JSON: Apple's es_message_t field names.
std::unique_ptr<Serializer> make_eslogger_json_serializer();

inline constexpr uint32_t kEsloggerSchemaVersion = 1;

// The machine the events come from, as ECS `host.*` and OCSF `device` name it.
// Read once at start (local_host_info()); empty strings are left out.
struct HostInfo {
  std::string hostname;      // gethostname(2)
  std::string id;            // /etc/machine-id
  std::string architecture;  // uname -m: "x86_64"
  std::string kernel;        // uname -r
  std::string os_name;       // os-release NAME: "Debian GNU/Linux"
  std::string os_version;    // os-release VERSION_ID: "12"
  std::string os_family;     // os-release ID_LIKE's first word, else ID: "debian"
  // Part of every process entity id. pidversion counts from 1 again when the
  // agent restarts, so pid + pidversion is unique only within one agent run;
  // this random value (per run) keeps ids from two runs apart.
  std::string run_id;
};

// Reads this machine's HostInfo and draws a fresh run_id.
HostInfo local_host_info();

// Realtime ns since the epoch. Drop reports carry no time of their own, so the
// ECS/OCSF serializers stamp them with this (tests pass a fixed clock).
using WallClock = uint64_t (*)();
uint64_t wall_clock_now_ns();

// Elastic Common Schema documents (nested JSON, one per line).
inline constexpr std::string_view kEcsVersion = "8.11.0";
std::unique_ptr<Serializer> make_ecs_serializer(HostInfo host, WallClock clock = wall_clock_now_ns);

// Open Cybersecurity Schema Framework events: Process Activity (1007), File
// System Activity (1001); types without a mapping yet use Base Event (0).
inline constexpr std::string_view kOcsfVersion = "1.4.0";
std::unique_ptr<Serializer> make_ocsf_serializer(HostInfo host, WallClock clock = wall_clock_now_ns);

}  // namespace ward::output

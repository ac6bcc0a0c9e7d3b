// Per-event payloads. Each struct lists its fields once (fields()); the
// serializers and golden files follow from that list.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ward/activity_events.h"
#include "ward/fields.h"
#include "ward/process.h"

namespace ward {

// exec: `target` is the new image (same pid, new pidversion); the message's
// process is the image that called execve.
struct ExecEvent {
  static constexpr std::string_view kKey = "exec";  // its key in event{}
  ProcessPtr target;
  std::vector<std::string> args;
  bool args_truncated = false;
  std::optional<std::vector<std::string>> env;  // only when env capture is on
  bool env_truncated = false;
  File cwd;
  std::optional<File> script;  // the #! script when an interpreter was run

  static constexpr auto fields() {
    return std::make_tuple(field("target", &ExecEvent::target), field("args", &ExecEvent::args),
                           field("args_truncated", &ExecEvent::args_truncated), field("env", &ExecEvent::env),
                           field("env_truncated", &ExecEvent::env_truncated), field("cwd", &ExecEvent::cwd),
                           field("script", &ExecEvent::script));
  }
};

struct ForkEvent {
  static constexpr std::string_view kKey = "fork";
  ProcessPtr child;
  static constexpr auto fields() { return std::make_tuple(field("child", &ForkEvent::child)); }
};

struct ExitEvent {
  static constexpr std::string_view kKey = "exit";
  int32_t stat = 0;  // wait(2)-style status: WIFEXITED/WEXITSTATUS apply
  static constexpr auto fields() { return std::make_tuple(field("stat", &ExitEvent::stat)); }
};

// open(2) flags as ES reports them (fflag): FREAD / FWRITE bits, plus the
// raw O_* flags the file was opened with.
inline constexpr int32_t kFflagRead = 0x1;
inline constexpr int32_t kFflagWrite = 0x2;

struct OpenEvent {
  static constexpr std::string_view kKey = "open";
  File file;
  int32_t fflag = 0;  // kFflagRead | kFflagWrite
  static constexpr auto fields() {
    return std::make_tuple(field("file", &OpenEvent::file), field("fflag", &OpenEvent::fflag));
  }
};

// Ward's record of an AUTH decision: what was decided, by whom, and why. One
// per AUTH message, whoever answered (a client, the watchdog, the cache).
struct AuthResultEvent {
  static constexpr std::string_view kKey = "auth_result";
  uint32_t auth_event_type = 0;  // ES number of the AUTH event decided
  std::string target;            // the executable or file
  std::string result;            // "allow" | "deny"
  std::string decided_by;        // "client" | "watchdog" | "default" | "cache" | "self"
  bool cached = false;           // the allow was cached (kernel ignore mark + user cache)
  bool would_deny = false;       // allowed, but a rule would have denied (monitor, audit-only)
  std::string rule;              // the rule that decided, as the deciding client said
  uint64_t latency_ns = 0;       // from the kernel's request to the answer
  static constexpr auto fields() {
    return std::make_tuple(
        field("auth_event_type", &AuthResultEvent::auth_event_type),
        field("target", &AuthResultEvent::target), field("result", &AuthResultEvent::result),
        field("decided_by", &AuthResultEvent::decided_by), field("cached", &AuthResultEvent::cached),
        field("would_deny", &AuthResultEvent::would_deny), field("rule", &AuthResultEvent::rule),
        field("latency_ns", &AuthResultEvent::latency_ns));
  }
};

using Event = std::variant<ExecEvent, ForkEvent, ExitEvent, OpenEvent, AuthResultEvent,
                           // ward/activity_events.h
                           CloseEvent, WriteEvent, CreateEvent, UnlinkEvent, RenameEvent, LinkEvent,
                           TruncateEvent, SetModeEvent, SetOwnerEvent, UtimesEvent, SetExtattrEvent,
                           DeleteExtattrEvent, MmapEvent, MprotectEvent, SignalEvent, TraceEvent, SetuidEvent,
                           SetgidEvent, SeteuidEvent, SetegidEvent, SetreuidEvent, SetregidEvent, ChdirEvent,
                           ChrootEvent, ProcCheckEvent, KextloadEvent, MountEvent, UnmountEvent, SettimeEvent,
                           BpfEvent, MemfdCreateEvent, UipcConnectEvent, UipcBindEvent, ConnectEvent, BindEvent,
                           AcceptEvent>;

}  // namespace ward

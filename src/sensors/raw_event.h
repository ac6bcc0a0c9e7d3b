// What a sensor hands to enrichment: the kernel's facts, decoded, before the
// process tree gives them identity. One shape for every sensor backend, so the
// BPF sensor and the proc connector fallback feed the same tree.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ward/event_table.h"
#include "ward/events.h"
#include "ward/process.h"

namespace ward::sensors {

struct RawProc {
  pid_t tgid = 0;
  pid_t ppid = 0;
  pid_t pgid = 0;
  pid_t sid = 0;
  uid_t ruid = 0, euid = 0, suid = 0;
  gid_t rgid = 0, egid = 0, sgid = 0;
  uint32_t auid = 0xffffffff;
  uint32_t sessionid = 0xffffffff;
  uint64_t start_boot_ns = 0;  // CLOCK_BOOTTIME ns of the group leader's start
  // /proc reports start time in clock ticks; true when start_boot_ns came from
  // there, so identity checks compare at tick granularity.
  bool start_from_ticks = false;
  std::string comm;
  std::optional<std::string> tty;  // "/dev/pts/0"; nullopt = none
};

struct RawExec {
  uint64_t boot_ns = 0;
  pid_t tid = 0;
  RawProc proc;  // after exec
  std::string exe_path;
  bool exe_path_truncated = false;
  std::optional<FileStat> exe_stat;  // identity of the file the kernel ran
  std::string cwd;
  bool cwd_truncated = false;
  std::string filename;  // as given to execve
  std::string interp;    // bprm->interp: differs from filename for #! scripts
  std::vector<std::string> args;
  bool args_truncated = false;
  std::optional<std::vector<std::string>> env;
  bool env_truncated = false;
};

struct RawFork {
  uint64_t boot_ns = 0;
  pid_t tid = 0;
  RawProc child;
  pid_t parent_tgid = 0;
  uint64_t parent_start_boot_ns = 0;
};

struct RawExit {
  uint64_t boot_ns = 0;
  pid_t tid = 0;
  RawProc proc;
  int32_t status = 0;  // wait(2)-style
};

enum class RawKind : uint8_t { Exec, Fork, Exit, Unknown };

// Records lost before user space saw them (ring buffer full, netlink ENOBUFS).
// `kind` is Unknown when the facility cannot tell (netlink overflow).
struct RawLost {
  std::string source;
  RawKind kind = RawKind::Unknown;
  uint64_t count = 0;
  std::optional<EventType> type = std::nullopt;  // for the activity sensors' types (kind is Unknown)
};

// A NOTIFY event a sensor decoded completely (file, network, signal…): only
// its instigator still needs the process tree. `targets` are the paths ES
// target-path muting applies to.
struct RawNotify {
  EventType type = EventType::NotifyExec;
  uint64_t boot_ns = 0;
  pid_t tid = 0;
  RawProc proc;  // the instigator as the kernel saw it
  Event payload;
  std::vector<std::string> targets;
  // signal / trace / proc_check: the target process as the kernel saw it; the
  // hub puts its tree entry into the payload's `target` and adds its
  // executable to `targets`.
  std::optional<RawProc> target_process;
};

using RawEvent = std::variant<RawExec, RawFork, RawExit, RawLost, RawNotify>;

}  // namespace ward::sensors

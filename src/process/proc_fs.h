// The /proc interface the process tree and the proc connector sensor read,
// behind an all-virtual class so tests can fake it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "sensors/raw_event.h"
#include "ward/process.h"

namespace ward::process {

struct ProcSnapshot {
  sensors::RawProc proc;             // start_from_ticks = true
  std::string exe_path;              // readlink(/proc/PID/exe), " (deleted)" kept off
  std::optional<FileStat> exe_stat;  // stat(/proc/PID/exe)
  std::string cwd;                   // readlink(/proc/PID/cwd)
  std::vector<std::string> args;     // /proc/PID/cmdline split at NULs
};

class ProcFs {
 public:
  virtual ~ProcFs() = default;
  virtual std::vector<pid_t> list_pids() = 0;               // thread-group leaders only
  virtual std::optional<ProcSnapshot> read(pid_t pid) = 0;  // nullopt: gone
  virtual uint64_t boot_time_ns_now() = 0;                  // CLOCK_BOOTTIME now
};

// The real one. `root` is where proc is mounted ("/proc"); tests point it at a
// fixture directory.
std::unique_ptr<ProcFs> make_linux_procfs(std::string root = "/proc");

}  // namespace ward::process

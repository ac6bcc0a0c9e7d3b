// The process tree: every live process, kept from the sensors' events and
// seeded from /proc at start. It gives each program image its identity
// (pid + pidversion) and each event its instigator.
//
// Not thread-safe: the hub's loop thread owns it. The snapshots it hands out
// are immutable and may be kept and read from any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "process/exe_identity.h"
#include "process/proc_fs.h"
#include "sensors/raw_event.h"
#include "ward/process.h"

namespace ward::process {

class ProcessTree {
 public:
  // `identifier` may be null (no hashing or package lookup). Kernel times are
  // CLOCK_BOOTTIME; `boot_to_realtime_ns` is added to make wall-clock times.
  ProcessTree(ExeIdentifier* identifier, int64_t boot_to_realtime_ns);

  // Adds every process /proc lists now. Existing entries are kept.
  void seed(ProcFs& procfs);

  struct ExecChange {
    ProcessPtr before;  // the image that called execve: the message's process
    ProcessPtr after;   // the new image, with ancestry: the event's target
  };
  ExecChange on_exec(const sensors::RawExec& exec);

  struct ForkChange {
    ProcessPtr parent;
    ProcessPtr child;
  };
  ForkChange on_fork(const sensors::RawFork& fork);

  // Removes the process; returns it as it was when it exited.
  ProcessPtr on_exit(const sensors::RawExit& exit);

  // The process an event came from, as the kernel just described it: the live
  // entry (brought up to date) or, if the tree has none, a newly adopted one.
  ProcessPtr instigator(const sensors::RawProc& proc);

  // The live image of `pid`, or null.
  ProcessPtr find(pid_t pid) const;

  // Nearest parent first, up to pid 1 (or a process the tree does not know).
  std::vector<Ancestor> ancestry(pid_t ppid, std::size_t max_depth = 64) const;

  std::size_t size() const { return live_.size(); }
  uint64_t boot_to_realtime(uint64_t boot_ns) const {
    return static_cast<uint64_t>(static_cast<int64_t>(boot_ns) + boot_to_realtime_ns_);
  }

 private:
  struct Entry {
    ProcessPtr process;
    uint64_t start_boot_ns = 0;
    bool start_from_ticks = false;
  };

  // The entry for `proc` if it is the same process instance (not a reused
  // pid); otherwise null.
  Entry* instance_of(const sensors::RawProc& proc);
  // Brings an entry's mutable facts (ppid, credentials, group) up to what the
  // kernel just reported; a new snapshot only when something changed.
  void refresh(Entry& entry, const sensors::RawProc& proc);
  // A process the tree has not seen (missed fork, or a reused pid).
  Entry& adopt(const sensors::RawProc& proc);
  Process base_from(const sensors::RawProc& proc) const;
  void identify(Process& p, const std::optional<FileStat>& expected) const;
  uint32_t next_version() { return next_version_++; }

  ExeIdentifier* identifier_;
  int64_t boot_to_realtime_ns_;
  uint32_t next_version_ = 1;
  std::unordered_map<pid_t, Entry> live_;
};

}  // namespace ward::process

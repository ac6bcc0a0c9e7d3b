// Self-protection of Ward's files where the BPF LSM is missing: a fanotify
// permission group with an inode mark on each protected file (and each
// protected directory's entries) denies every write-open (O_WRONLY, O_RDWR,
// O_TRUNC, O_CREAT in a protected directory) by any process but the agent.
//
// fanotify cannot deny unlink, rename, link, truncate(2) by path or chmod.
// With `immutable`, the files the agent never writes also get the immutable
// attribute (FS_IMMUTABLE_FL: every one of those fails with EPERM, even for
// root), which the guard puts back whenever someone removes it (inotify
// IN_ATTRIB) and clears when unlocked or stopped. Root can still remove the
// attribute and race the guard: that is recorded, not prevented.
//
// The reader thread never opens a file (the agent's own opens of its files
// raise events too, and are answered at once): it reads only /proc.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ward/status.h"
#include "ward_guard_wire.h"

namespace ward::tamper {

struct GuardTarget {
  std::string path;
  bool is_dir = false;     // protect the directory's entries (its children)
  bool immutable = false;  // set FS_IMMUTABLE_FL (regular files the agent never writes)
};

struct FileGuardEvent {
  ward_guard_rec rec{};
  bool start_from_ticks = true;  // rec.start_boot_ns came from /proc (clock ticks)
  std::string description;       // overrides the decoder's when not empty
};

// What a blocked thread's open asks for, from /proc/TID/syscall (the thread is
// blocked inside the syscall until the guard answers). nullopt = unknown
// (io_uring, an unknown syscall, /proc unreadable); then `running`, if given,
// says whether the kernel reported the thread as momentarily running.
std::optional<bool> open_wants_write(pid_t tid, bool* running = nullptr);

class FileGuard {
 public:
  explicit FileGuard(std::function<void(FileGuardEvent&&)> emit);
  ~FileGuard();  // stop()

  Status start(const std::vector<GuardTarget>& targets);
  // Marks what is not marked yet (a file the agent replaced has a new inode).
  void refresh(const std::vector<GuardTarget>& targets);
  // Unlocked: every open is allowed and the immutable attributes set by the
  // guard are cleared.
  void set_unlocked(bool unlocked);
  // Clears the attributes it set and closes the group (nobody is left waiting).
  void stop();

  // One line per protected path: how it is protected.
  std::vector<std::string> describe() const;

 private:
  struct Immutable {
    std::string path;
    int fd = -1;            // kept open: the reader can re-assert without opening
    bool set_by_us = false;
    int watch = -1;
  };
  Status mark(const GuardTarget& t);
  void make_immutable(const GuardTarget& t);
  void reader();
  void on_permission(int fd, pid_t tid);
  void on_attrib(int watch);
  void clear_immutable_locked();

  std::function<void(FileGuardEvent&&)> emit_;
  int fan_fd_ = -1, inotify_fd_ = -1, stop_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> unlocked_{false};
  const pid_t self_;

  mutable std::mutex mu_;
  std::map<std::pair<dev_t, ino_t>, std::string> marked_;  // inode → path
  std::vector<Immutable> immutable_;
  std::vector<std::string> notes_;  // what could not be done, for describe()
};

}  // namespace ward::tamper

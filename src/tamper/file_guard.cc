#include "tamper/file_guard.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "sensors/bpf/lsm_records.h"

namespace ward::tamper {
namespace {

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

bool is_write(uint64_t flags) { return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0; }

// The instigator, from /proc (the thread is blocked in its open).
void fill_instigator(ward_guard_rec& r, pid_t tid) {
  timespec now{};
  clock_gettime(CLOCK_BOOTTIME, &now);
  r.boot_ns = static_cast<uint64_t>(now.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(now.tv_nsec);
  r.tid = static_cast<uint32_t>(tid);
  r.tgid = static_cast<uint32_t>(tid);
  std::ifstream status("/proc/" + std::to_string(tid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    std::istringstream in(line.substr(line.find(':') + 1));
    if (line.rfind("Name:", 0) == 0) {
      std::string comm;
      in >> comm;
      std::strncpy(r.comm, comm.c_str(), sizeof(r.comm) - 1);
    } else if (line.rfind("Tgid:", 0) == 0) {
      in >> r.tgid;
    } else if (line.rfind("PPid:", 0) == 0) {
      in >> r.ppid;
    } else if (line.rfind("Uid:", 0) == 0) {
      in >> r.ruid >> r.euid;
    }
  }
  // Field 22 of /proc/PID/stat: start time in clock ticks since boot.
  std::ifstream stat("/proc/" + std::to_string(r.tgid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close_paren = all.rfind(')');
  if (close_paren != std::string::npos) {
    std::istringstream in(all.substr(close_paren + 2));
    std::string field;
    for (int i = 3; i <= 22 && (in >> field); ++i)
      if (i == 22)
        r.start_boot_ns = std::strtoull(field.c_str(), nullptr, 10) *
                          (1'000'000'000ull / static_cast<uint64_t>(sysconf(_SC_CLK_TCK)));
  }
}

}  // namespace

// `running` is set when the kernel said the thread was running (momentarily
// awake inside the permission wait): worth asking again.
std::optional<bool> open_wants_write(pid_t tid, bool* running) {
  std::ifstream in("/proc/" + std::to_string(tid) + "/syscall");
  long nr = -1;
  if (!(in >> nr)) {
    in.clear();
    std::string word;
    if (running) *running = (in >> word) && word == "running";
    return std::nullopt;
  }
  std::array<uint64_t, 6> arg{};
  for (auto& a : arg) {
    std::string hex;
    if (!(in >> hex)) return std::nullopt;
    char* end = nullptr;
    a = std::strtoull(hex.c_str(), &end, 16);
    if (end == hex.c_str()) return std::nullopt;
  }
  switch (nr) {
#ifdef SYS_open
    case SYS_open:
      return is_write(arg[1]);
#endif
#ifdef SYS_creat
    case SYS_creat:
      return true;
#endif
    case SYS_openat:
      return is_write(arg[2]);
#ifdef SYS_openat2
    case SYS_openat2: {
      uint64_t flags = 0;  // struct open_how starts with flags
      iovec local{&flags, sizeof(flags)}, remote{reinterpret_cast<void*>(arg[2]), sizeof(flags)};
      if (process_vm_readv(tid, &local, 1, &remote, 1, 0) != sizeof(flags)) return std::nullopt;
      return is_write(flags);
    }
#endif
    case SYS_execve:
    case SYS_execveat:
      return false;
  }
  return std::nullopt;
}

FileGuard::FileGuard(std::function<void(FileGuardEvent&&)> emit) : emit_(std::move(emit)), self_(getpid()) {}

FileGuard::~FileGuard() { stop(); }

Status FileGuard::start(const std::vector<GuardTarget>& targets) {
  // FAN_REPORT_TID: the blocked thread, whose syscall says what it asked for.
  fan_fd_ = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_TID,
                          O_RDONLY | O_CLOEXEC | O_LARGEFILE);
  if (fan_fd_ < 0) return Status::error(errno_text("tamper: fanotify_init"));
  inotify_fd_ = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  // The attributes first: their opens happen before any mark exists.
  for (const auto& t : targets)
    if (t.immutable) make_immutable(t);
  for (const auto& t : targets)
    if (Status s = mark(t); !s) notes_.push_back(s.message());
  thread_ = std::thread([this] { reader(); });
  return Status::ok();
}

void FileGuard::refresh(const std::vector<GuardTarget>& targets) {
  for (const auto& t : targets) (void)mark(t);
}

Status FileGuard::mark(const GuardTarget& t) {
  struct stat st {};
  if (stat(t.path.c_str(), &st) != 0) return Status::error(errno_text("tamper: " + t.path));
  {
    std::lock_guard lock(mu_);
    if (marked_.count({st.st_dev, st.st_ino})) return Status::ok();
  }
  unsigned flags = FAN_MARK_ADD;
  uint64_t mask = FAN_OPEN_PERM;
  if (t.is_dir) {
    flags |= FAN_MARK_ONLYDIR;
    mask |= FAN_EVENT_ON_CHILD;
  }
  if (fanotify_mark(fan_fd_, flags, mask, AT_FDCWD, t.path.c_str()) != 0)
    return Status::error(errno_text("tamper: fanotify_mark " + t.path));
  std::lock_guard lock(mu_);
  marked_[{st.st_dev, st.st_ino}] = t.path;
  return Status::ok();
}

void FileGuard::make_immutable(const GuardTarget& t) {
  Immutable im;
  im.path = t.path;
  im.fd = open(t.path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (im.fd < 0) {
    notes_.push_back(errno_text("tamper: immutable: " + t.path));
    return;
  }
  int attrs = 0;
  if (ioctl(im.fd, FS_IOC_GETFLAGS, &attrs) != 0) {
    notes_.push_back(errno_text("tamper: immutable attribute unsupported for " + t.path));
    close(im.fd);
    return;
  }
  if (!(attrs & FS_IMMUTABLE_FL)) {
    attrs |= FS_IMMUTABLE_FL;
    if (ioctl(im.fd, FS_IOC_SETFLAGS, &attrs) != 0) {
      notes_.push_back(errno_text("tamper: cannot set the immutable attribute on " + t.path));
      close(im.fd);
      return;
    }
    im.set_by_us = true;
  }
  if (inotify_fd_ >= 0) im.watch = inotify_add_watch(inotify_fd_, t.path.c_str(), IN_ATTRIB);
  std::lock_guard lock(mu_);
  immutable_.push_back(im);
}

void FileGuard::clear_immutable_locked() {
  for (auto& im : immutable_) {
    if (!im.set_by_us || im.fd < 0) continue;
    int attrs = 0;
    if (ioctl(im.fd, FS_IOC_GETFLAGS, &attrs) == 0 && (attrs & FS_IMMUTABLE_FL)) {
      attrs &= ~FS_IMMUTABLE_FL;
      ioctl(im.fd, FS_IOC_SETFLAGS, &attrs);
    }
    im.set_by_us = false;
  }
}

void FileGuard::set_unlocked(bool unlocked) {
  unlocked_ = unlocked;
  if (unlocked) {
    std::lock_guard lock(mu_);
    clear_immutable_locked();
  }
}

void FileGuard::stop() {
  if (stop_fd_ >= 0) {
    uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof(one));
  }
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(mu_);
    clear_immutable_locked();
    for (auto& im : immutable_)
      if (im.fd >= 0) close(im.fd);
    immutable_.clear();
  }
  // Closing the group answers (allows) whatever was still waiting.
  for (int* fd : {&fan_fd_, &inotify_fd_, &stop_fd_})
    if (*fd >= 0) {
      close(*fd);
      *fd = -1;
    }
}

std::vector<std::string> FileGuard::describe() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [key, path] : marked_) {
    bool immutable = false;
    for (const auto& im : immutable_) immutable = immutable || (im.path == path && im.fd >= 0);
    out.push_back(path + ": write-open denied (fanotify)" +
                  (immutable ? "; write, truncate, unlink, rename, link, chmod denied (immutable attribute)"
                             : "; unlink/rename/link/truncate(2) NOT prevented on this kernel"));
  }
  for (const auto& n : notes_) out.push_back(n);
  return out;
}

void FileGuard::reader() {
  alignas(fanotify_event_metadata) std::array<char, 16 * 1024> buf;
  for (;;) {
    pollfd fds[3] = {{fan_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[2].revents) return;
    if (fds[0].revents) {
      ssize_t n;
      while ((n = read(fan_fd_, buf.data(), buf.size())) > 0) {
        const auto* md = reinterpret_cast<const fanotify_event_metadata*>(buf.data());
        for (; FAN_EVENT_OK(md, n); md = FAN_EVENT_NEXT(md, n)) {
          if (md->vers != FANOTIFY_METADATA_VERSION) return;
          if (md->fd < 0) continue;
          if (md->mask & FAN_OPEN_PERM)
            on_permission(md->fd, md->pid);
          else
            close(md->fd);
        }
      }
    }
    if (fds[1].revents) {
      alignas(inotify_event) std::array<char, 4096> ibuf;
      ssize_t n;
      while ((n = read(inotify_fd_, ibuf.data(), ibuf.size())) > 0)
        for (ssize_t off = 0; off < n;) {
          const auto* ev = reinterpret_cast<const inotify_event*>(ibuf.data() + off);
          if (ev->mask & IN_ATTRIB) on_attrib(ev->wd);
          off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
        }
    }
  }
}

void FileGuard::on_permission(int fd, pid_t tid) {
  auto respond = [&](bool allow) {
    fanotify_response r{fd, static_cast<__u32>(allow ? FAN_ALLOW : FAN_DENY)};
    (void)!write(fan_fd_, &r, sizeof(r));
    close(fd);
  };
  if (unlocked_) return respond(true);
  FileGuardEvent ev;
  fill_instigator(ev.rec, tid);
  if (static_cast<pid_t>(ev.rec.tgid) == self_) return respond(true);  // the agent's own opens
  // /proc/TID/syscall says "running" when the waiter is momentarily awake
  // (a spurious wakeup inside the permission wait): ask again before
  // failing closed, or a read of Ward's config would now and then fail.
  // Only "running" is retried: any other failure (an unreadable openat2
  // how, an unknown syscall) is denied at once.
  bool running = false;
  std::optional<bool> wants_write = open_wants_write(tid, &running);
  for (int attempt = 1; attempt < 20 && !wants_write && running; ++attempt) {
    usleep(200);
    running = false;
    wants_write = open_wants_write(tid, &running);
  }
  if (wants_write && !*wants_write) return respond(true);
  // A write, or an open whose mode cannot be told: denied (fail closed, these
  // are the agent's own files). The file is named before the fd goes.
  struct stat st {};
  if (fstat(fd, &st) == 0) {
    ev.rec.dev = sensors::bpf::kernel_dev_of(st.st_dev);
    ev.rec.ino = st.st_ino;
  }
  char link[64], target[sizeof(ev.rec.path)];
  std::snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  ssize_t len = readlink(link, target, sizeof(target) - 1);  // procfs: never marked
  if (len > 0) std::memcpy(ev.rec.path, target, static_cast<std::size_t>(len));
  respond(false);
  ev.rec.kind = WARD_GUARD_OPEN_WRITE;
  ev.rec.verdict = WARD_GUARD_DENIED;
  ev.rec.rule_index = -1;
  if (!wants_write) ev.rec.arg = -1;  // the open mode could not be read
  emit_(std::move(ev));
}

void FileGuard::on_attrib(int watch) {
  if (unlocked_) return;
  std::lock_guard lock(mu_);
  for (auto& im : immutable_) {
    if (im.watch != watch || im.fd < 0) continue;
    int attrs = 0;
    if (ioctl(im.fd, FS_IOC_GETFLAGS, &attrs) != 0 || (attrs & FS_IMMUTABLE_FL)) return;
    attrs |= FS_IMMUTABLE_FL;
    bool restored = ioctl(im.fd, FS_IOC_SETFLAGS, &attrs) == 0;
    im.set_by_us = im.set_by_us || restored;
    FileGuardEvent ev;
    fill_instigator(ev.rec, 0);  // the time; who did it is unknown
    ev.rec.tgid = ev.rec.tid = 0;
    ev.rec.kind = WARD_GUARD_SETATTR;
    ev.rec.verdict = WARD_GUARD_OBSERVED;
    ev.rec.rule_index = -1;
    struct stat st {};
    if (fstat(im.fd, &st) == 0) {
      ev.rec.dev = sensors::bpf::kernel_dev_of(st.st_dev);
      ev.rec.ino = st.st_ino;
    }
    ev.description = "tamper: someone removed the immutable attribute of " + im.path +
                     (restored ? " (restored)" : " (could NOT restore it: " + std::string(std::strerror(errno)) + ")");
    emit_(std::move(ev));
    return;
  }
}

}  // namespace ward::tamper

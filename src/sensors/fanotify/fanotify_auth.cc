#include "sensors/fanotify/fanotify_auth.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "sensors/bpf/bpf_process_sensor.h"
#include "sensors/bpf/record_decoder.h"
#include "ward_wire.h"

// Generated C: exempt from the C++ warnings.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include "auth.skel.h"
#pragma GCC diagnostic pop

namespace ward::sensors::fanotify {
namespace {

uint64_t boottime_ns() {
  timespec t{};
  clock_gettime(CLOCK_BOOTTIME, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(t.tv_nsec);
}

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

struct FanotifyAuth::Bpf {
  auth_bpf* skel = nullptr;
  ~Bpf() {
    if (skel) auth_bpf__destroy(skel);
  }
};

FanotifyAuth::FanotifyAuth() = default;
FanotifyAuth::~FanotifyAuth() { stop(); }

Status FanotifyAuth::start(auth::AuthBroker* broker, std::function<void(auth::Request&&)> to_hub,
                           std::function<DeadlineMissMode()> fallback_mode) {
  broker_ = broker;
  to_hub_ = std::move(to_hub);
  fallback_mode_ = std::move(fallback_mode);

  bpf_ = std::make_unique<Bpf>();
  bpf_->skel = auth_bpf__open_and_load();
  int attach_err = bpf_->skel ? auth_bpf__attach(bpf_->skel) : 0;
  if (!bpf_->skel || attach_err != 0) {
    // AUTH still works, without exec arguments and open flags.
    context_error_ = std::string("bpf:auth-context: ") + (bpf_->skel ? "attach" : "load") +
                     " failed: " + std::strerror(bpf_->skel ? -attach_err : errno) + " " +
                     bpf::last_libbpf_error().substr(0, 400);
    bpf_.reset();
  }

  // FAN_REPORT_TID: the blocked thread, to join the syscall-entry context.
  fan_fd_ =
      fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_TID | FAN_UNLIMITED_QUEUE,
                    O_RDONLY | O_LARGEFILE | O_CLOEXEC);
  if (fan_fd_ < 0) {
    Status s = Status::error(errno_text("fanotify_init"));
    stop();
    return s;
  }
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  thread_ = std::thread([this] { reader(); });
  return Status::ok();
}

void FanotifyAuth::stop() {
  if (stop_fd_ >= 0) {
    uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof(one));
  }
  if (thread_.joinable()) thread_.join();
  // Closing the group releases every process still waiting on it.
  if (fan_fd_ >= 0) close(fan_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
  fan_fd_ = stop_fd_ = -1;
  bpf_.reset();
}

uint64_t FanotifyAuth::mask() const { return (exec_ ? FAN_OPEN_EXEC_PERM : 0) | (open_ ? FAN_OPEN_PERM : 0); }

Status FanotifyAuth::apply_mark(const std::string& path, AuthScope scope, unsigned add_or_remove,
                                uint64_t m) {
  unsigned flags = add_or_remove;
  uint64_t event_mask = m;
  switch (scope) {
    case AuthScope::Mount:
      flags |= FAN_MARK_MOUNT;
      break;
    case AuthScope::Filesystem:
      flags |= FAN_MARK_FILESYSTEM;
      break;
    case AuthScope::Directory:
      event_mask |= FAN_EVENT_ON_CHILD;
      flags |= FAN_MARK_ONLYDIR;
      break;
  }
  if (fanotify_mark(fan_fd_, flags, event_mask, AT_FDCWD, path.c_str()) != 0)
    return Status::error(errno_text(("fanotify_mark " + path).c_str()));
  return Status::ok();
}

Status FanotifyAuth::set_events(bool exec, bool open) {
  std::lock_guard lock(mu_);
  uint64_t before = mask();
  exec_ = exec;
  open_ = open;
  uint64_t after = mask();
  if (before == after) return Status::ok();
  for (const auto& [path, scope] : scopes_) {
    if (uint64_t removed = before & ~after) apply_mark(path, scope, FAN_MARK_REMOVE, removed);
    if (uint64_t added = after & ~before)
      if (Status s = apply_mark(path, scope, FAN_MARK_ADD, added); !s) return s;
  }
  return Status::ok();
}

Status FanotifyAuth::add_scope(const std::string& path, AuthScope scope) {
  std::lock_guard lock(mu_);
  if (fan_fd_ < 0) return Status::error("AUTH is not running");
  if (scopes_.count({path, scope})) return Status::ok();
  if (uint64_t m = mask())
    if (Status s = apply_mark(path, scope, FAN_MARK_ADD, m); !s) return s;
  scopes_.insert({path, scope});
  return Status::ok();
}

Status FanotifyAuth::remove_scope(const std::string& path, AuthScope scope) {
  std::lock_guard lock(mu_);
  if (!scopes_.erase({path, scope})) return Status::error("no such AUTH scope: " + path);
  if (uint64_t m = mask()) return apply_mark(path, scope, FAN_MARK_REMOVE, m);
  return Status::ok();
}

void FanotifyAuth::answer(const auth::Request& request, bool allow) {
  fanotify_response response{request.fd, static_cast<__u32>(allow ? FAN_ALLOW : FAN_DENY)};
  if (write(fan_fd_, &response, sizeof(response)) != sizeof(response)) {
    // The only failures are a closed group (the kernel released the waiter)
    // or a bad fd; neither leaves a process blocked.
  }
  close(request.fd);
}

void FanotifyAuth::cache_allow(const auth::Request& request) {
  // An ignore mark on the inode: the kernel stops asking until the file is
  // modified (no FAN_MARK_IGNORED_SURV_MODIFY), which is ES's cache rule.
  fanotify_mark(fan_fd_, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK, request.mask, request.fd, nullptr);
}

void FanotifyAuth::clear_kernel_cache() {
  std::lock_guard lock(mu_);
  // Ignore marks are inode marks; flushing them also drops directory scopes,
  // which are put back.
  fanotify_mark(fan_fd_, FAN_MARK_FLUSH, 0, AT_FDCWD, nullptr);
  uint64_t m = mask();
  for (const auto& [path, scope] : scopes_)
    if (scope == AuthScope::Directory && m) apply_mark(path, scope, FAN_MARK_ADD, m);
}

std::optional<ExecArgs> FanotifyAuth::exec_args(pid_t tid) const {
  if (!bpf_) return std::nullopt;
  uint32_t key = static_cast<uint32_t>(tid);
  auto value = std::make_unique<ward_exec_args>();
  if (bpf_map__lookup_elem(bpf_->skel->maps.exec_args, &key, sizeof(key), value.get(), sizeof(*value), 0) !=
      0)
    return std::nullopt;
  if (value->flags & WARD_F_ARGS_FAULTED) {
    if (auto read = read_argv(tid, value->argv_ptr)) return read;
  }
  ExecArgs out;
  std::size_t len = std::min<std::size_t>(value->len, sizeof(value->data));
  bool cut = false;
  out.args = bpf::split_nul_block(std::span(value->data, len), &cut);
  out.truncated = cut || (value->flags & (WARD_F_ARGS_TRUNCATED | WARD_F_ARGS_FAULTED)) != 0;
  return out;
}

std::optional<ExecArgs> FanotifyAuth::read_argv(pid_t tid, uint64_t argv_ptr) {
  // The caller is blocked in execve until we answer, so its memory holds
  // still; process_vm_readv, unlike BPF, faults pages in.
  auto read_mem = [tid](uint64_t addr, void* out, std::size_t len) {
    iovec local{out, len};
    iovec remote{reinterpret_cast<void*>(addr), len};
    return process_vm_readv(tid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(len);
  };
  ExecArgs out;
  std::size_t total = 0;
  for (int i = 0; i < WARD_AUTH_ARGV_MAX; ++i) {
    uint64_t ptr = 0;
    if (!read_mem(argv_ptr + static_cast<uint64_t>(i) * sizeof(uint64_t), &ptr, sizeof(ptr)))
      return std::nullopt;
    if (ptr == 0) return out;
    std::string arg;
    char chunk[256];
    bool ended = false;
    while (!ended && arg.size() < WARD_AUTH_ARG_MAX) {
      // Read up to the end of the page only: the next may not be mapped.
      std::size_t in_page = 4096 - ((ptr + arg.size()) & 4095);
      std::size_t n = std::min(sizeof(chunk), in_page);
      if (!read_mem(ptr + arg.size(), chunk, n)) return std::nullopt;
      std::size_t len = strnlen(chunk, n);
      arg.append(chunk, len);
      ended = len < n;
    }
    total += arg.size() + 1;
    if (!ended || total > WARD_AUTH_ARGS_SIZE) {
      out.truncated = true;
      out.args.push_back(std::move(arg));
      return out;
    }
    out.args.push_back(std::move(arg));
  }
  out.truncated = true;
  return out;
}

std::optional<int32_t> FanotifyAuth::open_flags(pid_t tid) const {
  if (!bpf_) return std::nullopt;
  uint32_t key = static_cast<uint32_t>(tid);
  ward_open_intent intent{};
  if (bpf_map__lookup_elem(bpf_->skel->maps.open_intents, &key, sizeof(key), &intent, sizeof(intent), 0) != 0)
    return std::nullopt;
  return intent.flags;
}

pid_t FanotifyAuth::tgid_of(pid_t tid) const {
  if (bpf_) {
    uint32_t key = static_cast<uint32_t>(tid);
    ward_open_intent intent{};
    if (bpf_map__lookup_elem(bpf_->skel->maps.open_intents, &key, sizeof(key), &intent, sizeof(intent), 0) ==
            0 &&
        intent.tgid != 0)
      return static_cast<pid_t>(intent.tgid);
  }
  // Fallback: /proc/TID/status names its thread group. procfs is never an
  // AUTH scope, so this read cannot wait on us.
  std::ifstream status("/proc/" + std::to_string(tid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("Tgid:", 0) == 0) return static_cast<pid_t>(std::stol(line.substr(5)));
  return tid;
}

FanotifyCounters FanotifyAuth::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

void FanotifyAuth::reader() {
  const pid_t self = getpid();
  alignas(fanotify_event_metadata) std::array<char, 64 * 1024> buf;
  for (;;) {
    pollfd fds[2] = {{fan_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    // Read many events per call: the round trip is the cost.
    for (;;) {
      ssize_t n = read(fan_fd_, buf.data(), buf.size());
      if (n <= 0) break;
      const auto* md = reinterpret_cast<const fanotify_event_metadata*>(buf.data());
      for (; FAN_EVENT_OK(md, n); md = FAN_EVENT_NEXT(md, n)) {
        if (md->vers != FANOTIFY_METADATA_VERSION) return;  // never mis-parse a kernel reply
        if (md->mask & FAN_Q_OVERFLOW) {
          std::lock_guard lock(mu_);
          ++counters_.overflows;
          continue;
        }
        if (md->fd < 0) continue;
        bool perm = (md->mask & (FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM)) != 0;
        if (!perm) {
          close(md->fd);
          continue;
        }
        auth::Request r;
        r.id = next_id_++;
        r.fd = md->fd;
        r.mask = md->mask & (FAN_OPEN_EXEC_PERM | FAN_OPEN_PERM);
        // An exec open is also an open; the exec question is the one asked.
        if (r.mask & FAN_OPEN_EXEC_PERM) r.mask = FAN_OPEN_EXEC_PERM;
        r.type = r.mask == FAN_OPEN_EXEC_PERM ? EventType::AuthExec : EventType::AuthOpen;
        r.tid = md->pid;
        r.tgid = tgid_of(md->pid);
        r.received_boot_ns = boottime_ns();
        const auto& opts = broker_->options();
        uint64_t deadline_ms = r.type == EventType::AuthExec ? opts.exec_deadline_ms : opts.open_deadline_ms;
        r.deadline_boot_ns = r.received_boot_ns + deadline_ms * 1'000'000;
        {
          std::lock_guard lock(mu_);
          ++counters_.events;
          ++(r.type == EventType::AuthExec ? counters_.exec_events : counters_.open_events);
        }
        if (r.tgid == self) {
          {
            std::lock_guard lock(mu_);
            ++counters_.self_allowed;
          }
          answer(r, true);
          continue;
        }
        struct stat st {};
        if (fstat(r.fd, &st) == 0) {
          r.key = {static_cast<uint64_t>(st.st_dev),          static_cast<uint64_t>(st.st_ino),
                   static_cast<int64_t>(st.st_mtim.tv_sec),   static_cast<int64_t>(st.st_ctim.tv_sec),
                   static_cast<uint32_t>(st.st_mtim.tv_nsec), static_cast<uint32_t>(st.st_ctim.tv_nsec)};
        }
        if (broker_->try_cache(r)) continue;
        broker_->open(r, fallback_mode_ ? fallback_mode_() : DeadlineMissMode::FailOpen);
        to_hub_(std::move(r));
      }
    }
  }
}

}  // namespace ward::sensors::fanotify

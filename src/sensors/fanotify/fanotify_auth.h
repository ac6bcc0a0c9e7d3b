// The fanotify AUTH sensor: permission events for exec and open on the
// scopes clients asked for, with the BPF AUTH context (exec arguments, open
// flags) joined by thread id. It answers the kernel (KernelResponder) and
// caches allows with ignore marks, which the kernel clears when the file is
// modified.
//
// Its reader thread never opens a file: the agent's own opens (hashing an
// executable, reading /proc) raise permission events too, and the reader
// answers those at once, so nothing in Ward can wait on itself.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "auth/auth_broker.h"
#include "ward/client.h"

namespace ward::sensors::fanotify {

struct ExecArgs {
  std::vector<std::string> args;
  bool truncated = false;
};

struct FanotifyCounters {
  uint64_t events = 0;        // permission events read
  uint64_t self_allowed = 0;  // the agent's own opens
  uint64_t overflows = 0;     // FAN_Q_OVERFLOW
  uint64_t exec_events = 0;
  uint64_t open_events = 0;
};

class FanotifyAuth final : public auth::KernelResponder {
 public:
  FanotifyAuth();
  ~FanotifyAuth() override;

  // `broker` registers requests; `to_hub` gets each one the cache did not
  // answer. `miss_mode` is the fallback if the hub cannot dispatch in time.
  Status start(auth::AuthBroker* broker, std::function<void(auth::Request&&)> to_hub,
               std::function<DeadlineMissMode()> fallback_mode);
  void stop();

  // Which permission events the marks ask for.
  Status set_events(bool exec, bool open);
  Status add_scope(const std::string& path, AuthScope scope);
  Status remove_scope(const std::string& path, AuthScope scope);

  std::optional<ExecArgs> exec_args(pid_t tid) const;
  std::optional<int32_t> open_flags(pid_t tid) const;  // open(2) flags as requested
  FanotifyCounters counters() const;
  // Why exec arguments / open flags are missing, or "" when they are not.
  const std::string& context_error() const { return context_error_; }

  // KernelResponder
  void answer(const auth::Request& request, bool allow) override;
  void cache_allow(const auth::Request& request) override;
  void clear_kernel_cache() override;

 private:
  struct Bpf;
  uint64_t mask() const;
  Status apply_mark(const std::string& path, AuthScope scope, unsigned add_or_remove, uint64_t mask);
  void reader();
  pid_t tgid_of(pid_t tid) const;
  static std::optional<ExecArgs> read_argv(pid_t tid, uint64_t argv_ptr);

  int fan_fd_ = -1;
  int stop_fd_ = -1;
  std::unique_ptr<Bpf> bpf_;
  std::string context_error_;
  auth::AuthBroker* broker_ = nullptr;
  std::function<void(auth::Request&&)> to_hub_;
  std::function<DeadlineMissMode()> fallback_mode_;
  std::thread thread_;
  std::atomic<uint64_t> next_id_{1};

  mutable std::mutex mu_;  // scopes, events, counters
  std::set<std::pair<std::string, AuthScope>> scopes_;
  bool exec_ = false, open_ = false;
  FanotifyCounters counters_;
};

}  // namespace ward::sensors::fanotify

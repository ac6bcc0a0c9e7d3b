// The AUTH pipeline between the kernel and the clients: every permission
// request the kernel holds is registered here the moment it is read, answered
// exactly once — by the combined client answers, by the watchdog before the
// deadline, or by the cache — and then reported as an auth_result.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ward/client.h"

namespace ward::auth {

// A file's identity at the moment of the request: what the user-space cache
// keys on, so a modification (new mtime/ctime) misses.
struct FileKey {
  uint64_t dev = 0, ino = 0;
  int64_t mtime_sec = 0, ctime_sec = 0;
  uint32_t mtime_nsec = 0, ctime_nsec = 0;
  bool operator==(const FileKey&) const = default;
};

struct FileKeyHash {
  std::size_t operator()(const FileKey& k) const {
    uint64_t h = k.dev * 0x9E3779B97F4A7C15ull ^ k.ino;
    h ^= static_cast<uint64_t>(k.mtime_sec) * 31 + k.mtime_nsec;
    h ^= (static_cast<uint64_t>(k.ctime_sec) * 131 + k.ctime_nsec) << 1;
    return static_cast<std::size_t>(h);
  }
};

struct Request {
  uint64_t id = 0;
  int fd = -1;        // the kernel's event fd; closed once answered
  uint64_t mask = 0;  // the permission event (FAN_OPEN_EXEC_PERM / FAN_OPEN_PERM)
  EventType type = EventType::AuthExec;
  FileKey key;
  int32_t fflag = 0;  // auth_open: what was asked (kFflagRead | kFflagWrite)
  pid_t tid = 0, tgid = 0;
  uint64_t received_boot_ns = 0;
  uint64_t deadline_boot_ns = 0;
};

// The kernel side: fanotify in production, a recorder in unit tests.
class KernelResponder {
 public:
  virtual ~KernelResponder() = default;
  virtual void answer(const Request& request, bool allow) = 0;  // and closes request.fd
  virtual void cache_allow(const Request& request) = 0;         // before answer(); cleared on modify
  virtual void clear_kernel_cache() = 0;
};

// One client's part in a decision.
struct Answer {
  const void* client = nullptr;
  DeadlineMissMode miss_mode = DeadlineMissMode::FailOpen;
  std::atomic<uint64_t>* missed_counter = nullptr;  // the client's auth_missed
  std::optional<AuthResult> result;
  bool cache = false;
  bool by_watchdog = false;
  ResponseNote note;
};

// Kauth-style combination: any Deny denies; else Allow if any allowed; all
// Defer → `default_result`. Complete once every client answered or one denied.
struct Combined {
  bool complete = false;
  bool allow = true;
  bool cache = false;  // an Allow every allowing client let be cached, no watchdog answer
  std::string decided_by;
  std::string rule;
  bool would_deny = false;
};
Combined combine(const std::vector<Answer>& answers, AuthResult default_result);

struct BrokerCounters {
  uint64_t requests = 0;
  uint64_t cache_hits = 0;
  uint64_t watchdog_answers = 0;  // client answers made by the watchdog
  uint64_t allowed = 0;
  uint64_t denied = 0;
  uint64_t late_responses = 0;
};

class AuthBroker {
 public:
  // `clock` returns CLOCK_BOOTTIME ns; `on_decided` receives every final
  // decision (called without the broker's lock, from whichever thread decided).
  using Decided = std::function<void(const Request&, AuthResultEvent&&)>;
  AuthBroker(KernelResponder& kernel, AuthOptions options, Decided on_decided,
             std::function<uint64_t()> clock = nullptr);
  ~AuthBroker();  // answers whatever is still pending with its fail mode

  const AuthOptions& options() const { return options_; }
  uint64_t now() const { return clock_(); }

  // The kernel reader: answers from the user-space cache if it can.
  bool try_cache(const Request& request);
  // Registers a request; the watchdog now guards it. `fallback` is answered
  // if the deadline comes before expect() named the clients.
  void open(const Request& request, DeadlineMissMode fallback);
  // The hub, after dispatch: the clients the request was offered to.
  void expect(uint64_t id, std::string target, std::vector<Answer> clients);
  Status respond(uint64_t id, const void* client, AuthResult result, bool cache, ResponseNote note);
  // A client went away: what it still owed counts as Defer, so nobody waits
  // for its deadline.
  void client_gone(const void* client);
  void clear_cache();
  BrokerCounters counters() const;
  std::size_t pending() const;

 private:
  struct Pending {
    Request request;
    std::string target;
    bool expected = false;  // expect() has run
    DeadlineMissMode fallback = DeadlineMissMode::FailOpen;
    std::vector<Answer> answers;
    // Answers that arrived before expect() (a fast client thread can answer
    // while the hub is still offering the message to the others).
    std::vector<Answer> early;
  };
  // Decides `id` if it is complete (lock held); returns the work to do
  // outside the lock.
  struct Resolution {
    Request request;
    bool allow = true;
    bool cache = false;
    AuthResultEvent event;
  };
  std::optional<Resolution> resolve_if_complete_locked(uint64_t id);
  void finish(Resolution&& r);
  void watchdog();

  KernelResponder& kernel_;
  AuthOptions options_;
  Decided on_decided_;
  std::function<uint64_t()> clock_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<uint64_t, Pending> pending_;
  std::multimap<uint64_t, uint64_t> timers_;  // fire time → id
  // Allowed (file, permission event) pairs. An auth_open allow is cached
  // only when the client said it holds for every process and access mode.
  std::unordered_map<FileKey, uint64_t, FileKeyHash> cache_;  // key → masks allowed
  BrokerCounters counters_;
  bool stopping_ = false;
  std::thread watchdog_;
};

}  // namespace ward::auth

// ward::Client — the es_client_t of Linux.
//
//   auto client = ward::Client::create([](const ward::Message& m) { ... });
//   client.value()->subscribe({ward::EventType::NotifyExec});
//
// Handlers run on the client's own thread, never in the sensor loop: a slow
// handler delays only its own client, and when its queue fills, its messages
// are dropped and counted (seq_num shows the gap) instead of stalling others.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ward/event_table.h"
#include "ward/message.h"
#include "ward/network_policy.h"
#include "ward/status.h"

namespace ward {

// An AUTH answer. Several clients answer the same AUTH message as Kauth
// listeners do: any Deny denies; otherwise Allow if anyone allowed; Defer
// passes to the others; all Defer falls to the hub's default.
enum class AuthResult : uint8_t { Allow, Deny, Defer };

// What the watchdog answers for a client that misses a deadline (macOS 27's
// es_set_deadline_miss_mode). A watchdog answer is never cached.
enum class DeadlineMissMode : uint8_t { FailOpen, FailClosed };

// Where AUTH events are taken from (fanotify marks). Ward extension: ES covers
// every file; on Linux each covered file system costs a round trip per open.
enum class AuthScope : uint8_t {
  Mount,       // the mount containing the path
  Filesystem,  // every mount of the file system containing the path
  Directory,   // the directory's own entries (not its subdirectories)
};

// Why a client answered as it did; carried into the auth_result event.
struct ResponseNote {
  std::string rule;         // the rule that decided, "" for none
  bool would_deny = false;  // allowed, but a rule would deny (monitor mode, audit-only)
};
enum class SensorBackend : uint8_t {
  Auto,           // best available: BPF, else the proc connector
  Bpf,            // eBPF tracepoints (rich: args, cwd, creds captured in kernel)
  ProcConnector,  // netlink proc connector + /proc (no BPF needed; racy details)
};

struct ClientOptions {
  SensorBackend backend = SensorBackend::Auto;
  bool capture_env = false;              // environment is off unless asked for
  uint32_t env_max_bytes = 16384;        // bound on the captured environment block
  std::size_t queue_capacity = 1 << 16;  // messages waiting for the handler
  DeadlineMissMode deadline_miss_mode = DeadlineMissMode::FailOpen;
};

// Hub-wide AUTH settings: taken from the first client that subscribes to an
// AUTH event type (they are the kernel group's, shared by every client).
struct AuthOptions {
  uint32_t exec_deadline_ms = 5000;
  uint32_t open_deadline_ms = 5000;
  uint32_t deadline_margin_ms = 100;              // the watchdog answers this much before the deadline
  AuthResult default_result = AuthResult::Allow;  // when every client defers
};

enum class MutePathType : uint8_t { Prefix, Literal, TargetPrefix, TargetLiteral };

enum class MuteInversionType : uint8_t { Process, Path, TargetPath };

// Events the client never saw, reported in order with its messages.
struct DropReport {
  std::string source;                   // "kernel:bpf:process", "client-queue", ...
  std::optional<EventType> event_type;  // nullopt: the facility cannot tell
  uint64_t count = 0;
};

struct ClientStats {
  uint64_t delivered = 0;
  uint64_t auth_answered = 0;  // AUTH messages this client answered in time
  uint64_t auth_missed = 0;    // answered for it by the watchdog
  uint64_t queue_drops = 0;    // dropped because this client's queue was full
  uint64_t kernel_drops = 0;   // lost before user space (ring buffer / netlink)
  // Hub-wide (every client of this process): events the kernel filtered
  // because every subscribed client muted them, and the records the file,
  // system and network sensors read from the kernel.
  uint64_t kernel_filtered = 0;
  uint64_t activity_records = 0;
};

// Hub-wide AUTH counters (every client of this process), for an agent's
// metrics; all zero until the first AUTH subscription.
struct AuthStats {
  uint64_t requests = 0;          // permission requests read from the kernel
  uint64_t cache_hits = 0;        // answered from the user-space decision cache
  uint64_t watchdog_answers = 0;  // client answers the watchdog gave at the deadline
  uint64_t allowed = 0;
  uint64_t denied = 0;
  uint64_t late_responses = 0;  // answers that came after the watchdog's
  uint64_t pending = 0;         // requests waiting for an answer now
};

// Which kernel facility serves the client, and what it had to do without.
struct SensorReport {
  std::string active;                // e.g. "bpf:process"
  std::vector<std::string> missing;  // e.g. "bpf: EPERM loading tp_btf (…)"
};

class Client {
 public:
  using Handler = std::function<void(const Message&)>;
  using DropHandler = std::function<void(const DropReport&)>;

  // Starts (or joins) the process-wide sensors. Requires root.
  static Result<std::unique_ptr<Client>> create(Handler handler, ClientOptions options = {});

  ~Client();  // unsubscribes and joins the client thread
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Status subscribe(std::span<const EventType> types);
  Status subscribe(std::initializer_list<EventType> types) {
    return subscribe(std::span(types.begin(), types.size()));
  }
  Status unsubscribe(std::span<const EventType> types);
  Status unsubscribe(std::initializer_list<EventType> types) {
    return unsubscribe(std::span(types.begin(), types.size()));
  }
  Status unsubscribe_all();

  // AUTH (ES: es_respond_auth_result / es_respond_flags_result). May be called
  // from any thread, at any time before the deadline, with a copy of the
  // message (ES's retain + respond later). `cache` lets an Allow be cached
  // until the file is modified.
  Status respond(const Message& message, AuthResult result, bool cache, ResponseNote note = {});
  // For auth_open: allow only if every requested fflag bit is in
  // `allowed_flags` (fanotify cannot grant part of an open).
  Status respond_flags(const Message& message, uint32_t allowed_flags, bool cache, ResponseNote note = {});
  Status set_deadline_miss_mode(DeadlineMissMode mode);
  // Forgets every cached AUTH decision (user space and kernel).
  Status clear_cache();
  // Ward extension: take AUTH events for files under `path`.
  Status add_auth_scope(const std::string& path, AuthScope scope);
  Status remove_auth_scope(const std::string& path, AuthScope scope);
  static void set_auth_options(const AuthOptions& options);  // before the first AUTH subscription

  // Muting (ES semantics): a muted process's events, and events on muted
  // paths, are not delivered. invert_muting turns a mute set into a select set.
  Status mute_process(const AuditToken& token);
  Status unmute_process(const AuditToken& token);
  Status mute_path(std::string_view path, MutePathType type);
  Status unmute_path(std::string_view path, MutePathType type);
  Status unmute_all_paths();
  Status invert_muting(MuteInversionType type);
  Status uninvert_muting(MuteInversionType type);

  // Ward extension: drop a whole process group's events in the kernel, for
  // every client of this process (used by `ward log` for its own pipeline).
  Status mute_process_group_in_kernel(pid_t pgid);
  Status mute_process_id_in_kernel(pid_t tgid);

  // Ward extension: network AUTH in the kernel (ward/network_policy.h), for
  // the whole process: the last policy set wins. Denials arrive as
  // auth_result events to clients subscribed to them.
  Status set_network_policy(const NetworkPolicy& policy);
  Status clear_network_policy();

  void set_drop_handler(DropHandler handler);
  // Ward extension: called on the client thread each time it has handled
  // everything queued so far; batching writers flush here.
  void set_drained_handler(std::function<void()> handler);
  ClientStats stats() const;
  SensorReport sensors() const;
  AuthStats auth_stats() const;

  struct Impl;

 private:
  explicit Client(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace ward

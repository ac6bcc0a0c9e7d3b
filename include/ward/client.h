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
#include "ward/status.h"

namespace ward {

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
  uint64_t queue_drops = 0;   // dropped because this client's queue was full
  uint64_t kernel_drops = 0;  // lost before user space (ring buffer / netlink)
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

  void set_drop_handler(DropHandler handler);
  // Ward extension: called on the client thread each time it has handled
  // everything queued so far; batching writers flush here.
  void set_drained_handler(std::function<void()> handler);
  ClientStats stats() const;
  SensorReport sensors() const;

  struct Impl;

 private:
  explicit Client(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace ward

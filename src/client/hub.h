// The hub: the process-wide "ES subsystem" that clients attach to. It owns the
// sensors, the process tree and the loop thread that turns raw records into
// messages and offers them to every client.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "client/client_impl.h"
#include "process/exe_identity.h"
#include "process/process_tree.h"
#include "sensors/sensor.h"
#include "ward/client.h"

namespace ward::detail {

class Hub {
 public:
  // The running hub, or a new one started with `options`.
  static Result<std::shared_ptr<Hub>> acquire(const ClientOptions& options);
  ~Hub();

  void attach(const std::shared_ptr<Client::Impl>& client);
  void detach(const Client::Impl* client);
  Status mute_pgid(pid_t pgid);
  Status mute_tgid(pid_t tgid);
  SensorReport report() const;

  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

 private:
  Hub() = default;
  Status start(const ClientOptions& options);
  void loop();
  void on_raw(sensors::RawEvent&& event);
  void dispatch(const Message& message, const std::vector<std::string_view>& targets);
  Message make_message(EventType type, uint64_t boot_ns, pid_t tid, ProcessPtr process,
                       Event&& payload) const;

  std::shared_ptr<process::ExeIdentifier> identifier_;
  std::unique_ptr<process::ProcessTree> tree_;
  std::unique_ptr<sensors::Sensor> sensor_;
  SensorReport report_;
  ClientOptions options_;

  std::mutex clients_mu_;
  std::vector<std::shared_ptr<Client::Impl>> clients_;

  std::mutex sensor_mu_;  // mute calls from client threads vs the loop
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace ward::detail

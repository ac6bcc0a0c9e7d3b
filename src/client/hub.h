// The hub: the process-wide "ES subsystem" that clients attach to. It owns the
// sensors, the process tree and the loop thread that turns raw records into
// messages and offers them to every client.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "auth/auth_broker.h"

#include "client/client_impl.h"
#include "process/exe_identity.h"
#include "process/process_tree.h"
#include "sensors/fanotify/fanotify_auth.h"
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

  // AUTH: started on the first AUTH subscription.
  Status subscriptions_changed();
  Status add_auth_scope(const std::string& path, AuthScope scope);
  Status remove_auth_scope(const std::string& path, AuthScope scope);
  auth::AuthBroker* broker() { return broker_.get(); }
  static void set_auth_options(const AuthOptions& options);

  // A sensor started on demand (file, network, … events) and its factory.
  struct OnDemand {
    std::function<std::unique_ptr<sensors::Sensor>()> make;
    std::unique_ptr<sensors::Sensor> sensor;
    bool failed = false;
  };

  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

 private:
  Hub() = default;
  Status start(const ClientOptions& options);
  void loop();
  void on_raw(sensors::RawEvent&& event);
  Status ensure_auth_locked();
  void handle_auth(auth::Request&& request);
  void publish_decision(const auth::Request& request, AuthResultEvent&& event);
  DeadlineMissMode strictest_miss_mode();
  void wake();
  Status start_on_demand_sensors();  // for the current subscriptions
  void dispatch(const Message& message, const std::vector<std::string_view>& targets);
  Message make_message(EventType type, uint64_t boot_ns, pid_t tid, ProcessPtr process,
                       Event&& payload) const;

  std::shared_ptr<process::ExeIdentifier> identifier_;
  std::unique_ptr<process::ProcessTree> tree_;
  std::unique_ptr<sensors::Sensor> sensor_;  // the process sensor: always on
  std::vector<OnDemand> on_demand_;          // guarded by sensor_mu_
  int epoll_fd_ = -1;
  sensors::SensorConfig sensor_config_;
  SensorReport report_;
  ClientOptions options_;

  std::mutex clients_mu_;
  std::vector<std::shared_ptr<Client::Impl>> clients_;

  std::mutex sensor_mu_;  // mute calls from client threads vs the loop
  std::atomic<bool> stop_{false};
  std::thread thread_;
  int wake_fd_ = -1;  // eventfd: AUTH work for the loop

  std::mutex auth_setup_mu_;  // starting AUTH, scopes, event masks
  std::unique_ptr<sensors::fanotify::FanotifyAuth> fanotify_;
  std::unique_ptr<auth::AuthBroker> broker_;
  std::mutex auth_queue_mu_;
  std::deque<auth::Request> auth_requests_;
  std::deque<std::pair<auth::Request, AuthResultEvent>> auth_decisions_;
  std::unordered_map<uint64_t, ProcessPtr> auth_instigators_;  // request id → process (loop thread)
};

}  // namespace ward::detail

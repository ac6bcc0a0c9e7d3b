// The hub: the process-wide "ES subsystem" that clients attach to. It owns the
// sensors, the process tree and the loop thread that turns raw records into
// messages and offers them to every client.
#pragma once

#include <atomic>
#include <condition_variable>
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
#include "sensors/bpf/kernel_filter.h"
#include "sensors/bpf/network_rules.h"
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

  // The kernel filter (activity sensors): a client's mutes changed. Returns
  // once the loop thread has rewritten the maps (or after a timeout).
  Status mutes_changed();
  uint64_t kernel_filtered();  // events the kernel muted, all activity sensors
  uint64_t activity_records();  // records the activity sensors read from the kernel
  // Network AUTH in the kernel; null clears it.
  Status set_network_policy(const NetworkPolicy* policy);

  // AUTH: started on the first AUTH subscription.
  Status subscriptions_changed();
  Status add_auth_scope(const std::string& path, AuthScope scope);
  Status remove_auth_scope(const std::string& path, AuthScope scope);
  auth::AuthBroker* broker() { return broker_.get(); }
  static void set_auth_options(const AuthOptions& options);

  // A sensor its owner set up (the self-protection guards): started here with
  // the hub's sink and polled from the loop like the others. On failure the
  // reason goes to report().missing and nothing stays loaded.
  Status add_sensor(std::unique_ptr<sensors::Sensor> sensor);

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
  void on_raw(sensors::RawEvent&& event);       // from a sensor: batched while the loop polls
  void process_raw(sensors::RawEvent&& event);  // enrich and dispatch
  void dispatch_batch();
  Status ensure_auth_locked();
  void handle_auth(auth::Request&& request);
  void publish_decision(const auth::Request& request, AuthResultEvent&& event);
  DeadlineMissMode strictest_miss_mode();
  void wake();
  Status start_on_demand_sensors();  // for the current subscriptions
  void dispatch(const Message& message, const std::vector<std::string_view>& targets);
  void sync_kernel_filter();  // loop thread: clients' subscriptions and mutes -> kernel maps
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

  // Records of one loop pass, from every ring, put in kernel time order before
  // dispatch: a process's file event must come before its exit (loop thread).
  std::vector<sensors::RawEvent> batch_;
  std::vector<std::pair<uint64_t, std::size_t>> batch_order_;  // dispatch_batch's (time, index)
  bool batching_ = false;
  std::shared_ptr<sensors::bpf::KernelFilter> kernel_filter_;
  std::unique_ptr<sensors::bpf::NetworkRules> network_rules_;  // guarded by sensor_mu_
  std::mutex filter_mu_;  // sync requests from client threads, done by the loop
  std::condition_variable filter_cv_;
  uint64_t filter_requested_ = 0;
  uint64_t filter_applied_ = 0;
};

}  // namespace ward::detail

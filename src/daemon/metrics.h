// wardd's Prometheus endpoint (prometheus-cpp's pull exposer, text format on
// http://LISTEN/metrics). Counters that other components keep are read when
// scraped (a Collectable over DaemonStats); the AUTH latency histogram is
// observed as auth_result events arrive.
//
// Metric names (all prefixed ward_):
//   events_total{event}                     events delivered to the outputs
//   drops_total{source}                     events lost (kernel ring buffer, netlink, client queue)
//   client_queue_drops_total{client}        the same, per wardd client
//   auth_requests_total, auth_cache_hits_total, auth_watchdog_answers_total,
//   auth_late_responses_total, auth_allowed_total, auth_denied_total, auth_pending
//   auth_decisions_total{event,result,decided_by}
//   auth_latency_seconds{event}             histogram: kernel request to answer
//   client_auth_missed_total{client}        deadlines a client missed
//   sink_written_total{sink,target}, sink_errors_total{…}, sink_dropped_total{…}
//   spool_bytes{target}, spool_records{target}, nats_connected{target}
//   store_bytes{target}
//   kernel_filtered_total, activity_records_total
//   tail_sessions, control_requests_total, policy_reloads_total{result}
//   start_time_seconds
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/stats.h"
#include "ward/status.h"

namespace prometheus {
class Exposer;
class Registry;
template <typename T>
class Family;
class Histogram;
}  // namespace prometheus

namespace ward::daemon {

class Metrics {
 public:
  using Snapshot = std::function<DaemonStats()>;
  // Binds `listen` ("127.0.0.1:9464"; port 0 picks one). Fails with the
  // address and the reason when it cannot.
  static Result<std::unique_ptr<Metrics>> start(const std::string& listen, Snapshot snapshot);
  ~Metrics();

  // `event`: "exec" or "open".
  void observe_auth_latency(std::string_view event, double seconds);
  std::string url() const;  // http://HOST:PORT/metrics, with the port bound
  // Closes the listener; observe_auth_latency() still works.
  void stop_serving();

  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

 private:
  Metrics() = default;
  struct Collector;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<Collector> collector_;
  prometheus::Histogram* exec_latency_ = nullptr;
  prometheus::Histogram* open_latency_ = nullptr;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::string host_;
  int port_ = 0;
};

}  // namespace ward::daemon

#include "daemon/metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <deque>
#include <exception>
#include <iterator>

namespace ward::daemon {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

class Families {
 public:
  MetricFamily& family(const std::string& name, const std::string& help, MetricType type) {
    families_.push_back(MetricFamily{"ward_" + name, help, type, {}});
    return families_.back();
  }
  static void add(MetricFamily& family, double value, Labels labels = {}) {
    ClientMetric metric;
    metric.label = std::move(labels);
    if (family.type == MetricType::Counter)
      metric.counter.value = value;
    else
      metric.gauge.value = value;
    family.metric.push_back(std::move(metric));
  }
  void counter(const std::string& name, const std::string& help, double value) {
    add(family(name, help, MetricType::Counter), value);
  }
  void gauge(const std::string& name, const std::string& help, double value) {
    add(family(name, help, MetricType::Gauge), value);
  }
  std::vector<MetricFamily> take() {
    return {std::make_move_iterator(families_.begin()), std::make_move_iterator(families_.end())};
  }

 private:
  // A deque: family() hands out references that later families must not move.
  std::deque<MetricFamily> families_;
};

const std::vector<double>& latency_buckets() {
  static const std::vector<double> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                               0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  return kBuckets;
}

}  // namespace

struct Metrics::Collector final : prometheus::Collectable {
  explicit Collector(Snapshot s) : snapshot(std::move(s)) {}
  Snapshot snapshot;

  std::vector<MetricFamily> Collect() const override {
    const DaemonStats stats = snapshot();
    Families out;
    auto& events =
        out.family("events_total", "Events delivered to wardd's outputs, by type", MetricType::Counter);
    for (const auto& info : kEventTypes) {
      const uint64_t n = stats.events_by_type[event_index(info.type)];
      if (n > 0 || info.type == EventType::NotifyExec)
        Families::add(events, static_cast<double>(n), {{"event", std::string(info.name)}});
    }
    auto& drops =
        out.family("drops_total", "Events lost before wardd's outputs saw them, by where they were lost",
                   MetricType::Counter);
    for (const auto& [source, n] : stats.drops_by_source)
      Families::add(drops, static_cast<double>(n), {{"source", source}});

    auto& queue = out.family("client_queue_drops_total",
                             "Messages a full client queue refused, per wardd client", MetricType::Counter);
    Families::add(queue, static_cast<double>(stats.observer.queue_drops), {{"client", "outputs"}});
    auto& missed =
        out.family("client_auth_missed_total", "AUTH deadlines a wardd client missed (the watchdog answered)",
                   MetricType::Counter);
    if (stats.enforcer) {
      Families::add(queue, static_cast<double>(stats.enforcer->queue_drops), {{"client", "policy"}});
      Families::add(missed, static_cast<double>(stats.enforcer->auth_missed), {{"client", "policy"}});
    }
    out.counter("kernel_filtered_total", "Events the kernel filtered because every client muted them",
                static_cast<double>(stats.observer.kernel_filtered));
    out.counter("activity_records_total", "Records the file, system and network sensors read from the kernel",
                static_cast<double>(stats.observer.activity_records));

    out.counter("auth_requests_total", "AUTH permission requests read from the kernel",
                static_cast<double>(stats.auth.requests));
    out.counter("auth_cache_hits_total", "AUTH requests answered from the user-space decision cache",
                static_cast<double>(stats.auth.cache_hits));
    out.counter("auth_watchdog_answers_total", "AUTH answers the watchdog gave for a client at the deadline",
                static_cast<double>(stats.auth.watchdog_answers));
    out.counter("auth_late_responses_total", "AUTH answers that came after the watchdog's",
                static_cast<double>(stats.auth.late_responses));
    out.counter("auth_allowed_total", "AUTH requests allowed", static_cast<double>(stats.auth.allowed));
    out.counter("auth_denied_total", "AUTH requests denied", static_cast<double>(stats.auth.denied));
    out.gauge("auth_pending", "AUTH requests waiting for an answer", static_cast<double>(stats.auth.pending));
    auto& decisions = out.family("auth_decisions_total", "auth_result events by event, result and decider",
                                 MetricType::Counter);
    for (const auto& [key, n] : stats.auth_decisions) {
      const auto& [event, result, decided_by] = key;
      Families::add(decisions, static_cast<double>(n),
                    {{"event", event}, {"result", result}, {"decided_by", decided_by}});
    }

    auto& written = out.family("sink_written_total", "Records an output accepted", MetricType::Counter);
    auto& errors = out.family("sink_errors_total", "Records an output failed to write", MetricType::Counter);
    auto& dropped =
        out.family("sink_dropped_total", "Records an output refused by a bound", MetricType::Counter);
    auto& spool_bytes = out.family("spool_bytes", "Bytes in the NATS spool", MetricType::Gauge);
    auto& spool_records =
        out.family("spool_records", "Records in the NATS spool, not yet acknowledged", MetricType::Gauge);
    auto& connected = out.family("nats_connected", "1 while the NATS writer is connected", MetricType::Gauge);
    auto& store_bytes =
        out.family("store_bytes", "Database pages in use by the event store", MetricType::Gauge);
    for (const SinkStatus& s : stats.sinks) {
      const Labels labels = {{"sink", s.type}, {"target", s.target}};
      Families::add(written, static_cast<double>(s.counters.written), labels);
      Families::add(errors, static_cast<double>(s.counters.errors), labels);
      Families::add(dropped, static_cast<double>(s.counters.dropped), labels);
      if (s.spool_bytes)
        Families::add(spool_bytes, static_cast<double>(*s.spool_bytes), {{"target", s.target}});
      if (s.spool_records)
        Families::add(spool_records, static_cast<double>(*s.spool_records), {{"target", s.target}});
      if (s.connected) Families::add(connected, *s.connected ? 1 : 0, {{"target", s.target}});
      if (s.store_bytes)
        Families::add(store_bytes, static_cast<double>(*s.store_bytes), {{"target", s.target}});
    }
    out.gauge("tail_sessions", "`ward tail` streams open now", static_cast<double>(stats.tail_sessions));
    out.counter("control_requests_total", "Requests on the control socket",
                static_cast<double>(stats.control_requests));
    auto& reloads = out.family("policy_reloads_total", "Policy reloads, by result", MetricType::Counter);
    Families::add(reloads, static_cast<double>(stats.policy_reloads), {{"result", "ok"}});
    Families::add(reloads, static_cast<double>(stats.policy_reload_failures), {{"result", "error"}});
    out.gauge("start_time_seconds", "When wardd started, seconds since the epoch", stats.start_time_seconds);
    return out.take();
  }
};

Result<std::unique_ptr<Metrics>> Metrics::start(const std::string& listen, Snapshot snapshot) {
  std::unique_ptr<Metrics> m(new Metrics());
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return Status::error("metrics.listen: bad address '" + listen + "'");
  m->host_ = listen.substr(0, colon);
  // civetweb wants a numeric address.
  const std::string bind_host = m->host_ == "localhost" ? "127.0.0.1" : m->host_;
  const std::string port = listen.substr(colon + 1);
  m->registry_ = std::make_shared<prometheus::Registry>();
  auto& latency = prometheus::BuildHistogram()
                      .Name("ward_auth_latency_seconds")
                      .Help("AUTH decisions: from the kernel's request to the answer")
                      .Register(*m->registry_);
  m->exec_latency_ = &latency.Add({{"event", "exec"}}, latency_buckets());
  m->open_latency_ = &latency.Add({{"event", "open"}}, latency_buckets());
  m->collector_ = std::make_shared<Collector>(std::move(snapshot));
  try {
    m->exposer_ = std::make_unique<prometheus::Exposer>(bind_host + ":" + port, 1);
  } catch (const std::exception& e) {
    return Status::error("metrics.listen: cannot listen on " + listen + ": " + e.what() +
                         " (is another wardd or exporter using it?)");
  }
  m->exposer_->RegisterCollectable(m->registry_);
  m->exposer_->RegisterCollectable(m->collector_);
  const auto ports = m->exposer_->GetListeningPorts();
  m->port_ = ports.empty() ? 0 : ports.front();
  return m;
}

Metrics::~Metrics() = default;

void Metrics::stop_serving() { exposer_.reset(); }

void Metrics::observe_auth_latency(std::string_view event, double seconds) {
  (event == "exec" ? exec_latency_ : open_latency_)->Observe(seconds);
}

std::string Metrics::url() const { return "http://" + host_ + ":" + std::to_string(port_) + "/metrics"; }

}  // namespace ward::daemon

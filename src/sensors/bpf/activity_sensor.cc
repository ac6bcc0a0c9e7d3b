#include "sensors/bpf/activity_sensor.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "sensors/bpf/bpf_process_sensor.h"
#include "ward_event_wire.h"

namespace ward::sensors::bpf {
namespace {

int64_t boot_to_realtime_offset() {
  timespec rt{}, bt{};
  clock_gettime(CLOCK_REALTIME, &rt);
  clock_gettime(CLOCK_BOOTTIME, &bt);
  auto ns = [](const timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; };
  return ns(rt) - ns(bt);
}

}  // namespace

ActivitySensor::ActivitySensor(std::string name, std::vector<EventType> provides,
                               ActivitySensorOptions options)
    : name_(std::move(name)), provides_(std::move(provides)), options_(options) {}

ActivitySensor::~ActivitySensor() {
  // stop() is virtual-free on purpose: derived parts are gone by now, so the
  // derived destructors call stop() themselves.
}

bool ActivitySensor::provides(EventType type) const {
  return std::find(provides_.begin(), provides_.end(), type) != provides_.end();
}

Status ActivitySensor::fail(const char* step, int err) {
  std::string msg = name_ + ": " + step + " failed: " + std::strerror(err);
  std::string log = last_libbpf_error();
  if (!log.empty()) msg += " (libbpf: " + log.substr(log.size() > 300 ? log.size() - 300 : 0) + ")";
  stop();
  return Status::error(msg);
}

Status ActivitySensor::start(const SensorConfig& config, RawSink sink) {
  (void)config;
  if (object_) return Status::error(name_ + " already started");
  sink_ = std::move(sink);
  filter_ = KernelFilter::instance();
  if (!filter_->status()) return Status::error(name_ + ": " + filter_->status().message());
  decode_context_.boot_to_realtime_ns = boot_to_realtime_offset();

  object_ = open_skeleton();
  if (!object_) return fail("open", errno);
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return fail("count cpus", -cpus);
  ncpus_ = static_cast<unsigned>(cpus);
  if (bpf_map* events = bpf_object__find_map_by_name(object_, "events"))
    bpf_map__set_max_entries(events, options_.ring_bytes);
  if (Status s = filter_->share_maps(object_); !s) {
    stop();
    return Status::error(name_ + ": " + s.message());
  }
  if (int err = load_skeleton(); err) return fail("load", -err);
  if (int err = attach_skeleton(); err) return fail("attach", -err);

  bpf_map* events = bpf_object__find_map_by_name(object_, "events");
  rb_ = events ? ring_buffer__new(bpf_map__fd(events), &ActivitySensor::on_record, this, nullptr) : nullptr;
  if (!rb_) return fail("ring buffer", errno ? errno : EINVAL);
  last_dropped_.fill(0);
  return Status::ok();
}

void ActivitySensor::stop() {
  if (rb_) ring_buffer__free(rb_);
  rb_ = nullptr;
  if (object_) destroy_skeleton();  // detaches links, closes maps
  object_ = nullptr;
}

int ActivitySensor::poll(int timeout_ms) {
  if (!rb_) return -1;
  int n = ring_buffer__poll(rb_, timeout_ms);
  if (n == 0) n = ring_buffer__consume(rb_);  // records below the wakeup mark
  if (n < 0 && n != -EINTR) return -1;
  report_kernel_counters();
  return n < 0 ? 0 : n;
}

int ActivitySensor::poll_fd() const { return rb_ ? ring_buffer__epoll_fd(rb_) : -1; }

Status ActivitySensor::mute_pgid(pid_t pgid) {
  return filter_ ? filter_->mute_self_pgid(pgid) : KernelFilter::instance()->mute_self_pgid(pgid);
}

Status ActivitySensor::mute_tgid(pid_t tgid) {
  return filter_ ? filter_->mute_self_tgid(tgid) : KernelFilter::instance()->mute_self_tgid(tgid);
}

int ActivitySensor::on_record(void* ctx, void* data, size_t size) {
  auto* self = static_cast<ActivitySensor*>(ctx);
  auto event =
      decode_activity_record(std::span(static_cast<const uint8_t*>(data), size), self->decode_context_);
  if (!event) {
    ++self->counters_.malformed;
    return 0;
  }
  ++self->counters_.received;
  self->on_event(*event);
  self->sink_(std::move(*event));
  return 0;
}

// The kernel counts per type what the ring refused and what it muted; each
// new loss is reported once, by type, so clients see it in their seq_num.
void ActivitySensor::report_kernel_counters() {
  bpf_map* map = bpf_object__find_map_by_name(object_, "counters");
  if (!map) return;
  std::vector<ward_ev_counters> per_cpu(ncpus_);
  uint64_t muted = 0;
  for (uint32_t type = WARD_EV_FIRST; type < WARD_EV_TYPE_MAX; ++type) {
    if (bpf_map__lookup_elem(map, &type, sizeof(type), per_cpu.data(),
                             per_cpu.size() * sizeof(ward_ev_counters), 0) != 0)
      continue;
    uint64_t dropped = 0;
    for (const auto& c : per_cpu) {
      dropped += c.dropped;
      muted += c.muted;
    }
    if (dropped > last_dropped_[type]) {
      uint64_t delta = dropped - last_dropped_[type];
      last_dropped_[type] = dropped;
      counters_.lost += delta;
      RawLost lost{"kernel:bpf:" + name_.substr(name_.find(':') + 1), RawKind::Unknown, delta, {}};
      lost.type = event_type_of_record(type);
      sink_(std::move(lost));
    }
  }
  counters_.muted = muted;
}

}  // namespace ward::sensors::bpf

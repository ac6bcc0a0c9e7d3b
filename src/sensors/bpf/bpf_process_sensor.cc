#include "sensors/bpf/bpf_process_sensor.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <array>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

// Generated C: exempt from the C++ warnings.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include "process.skel.h"
#pragma GCC diagnostic pop
#include "sensors/bpf/record_decoder.h"
#include "ward_wire.h"

namespace ward::sensors::bpf {
namespace {

static_assert(sizeof(ward_rec_header) == 32, "wire header layout changed: bump WARD_WIRE_VERSION");
static_assert(offsetof(ward_exec_rec, data) % 8 == 0, "exec record data must stay aligned");

std::mutex g_libbpf_log_mu;
std::string g_libbpf_log;  // last few warnings

int libbpf_log(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  std::array<char, 1024> line{};
  int n = vsnprintf(line.data(), line.size(), fmt, args);
  if (n <= 0) return n;
  std::lock_guard lock(g_libbpf_log_mu);
  g_libbpf_log.append(line.data());
  if (g_libbpf_log.size() > 4096) g_libbpf_log.erase(0, g_libbpf_log.size() - 4096);
  return n;
}

RawKind kind_of(uint32_t type) {
  switch (type) {
    case WARD_REC_EXEC:
      return RawKind::Exec;
    case WARD_REC_FORK:
      return RawKind::Fork;
    case WARD_REC_EXIT:
      return RawKind::Exit;
    default:
      return RawKind::Unknown;
  }
}

class BpfProcessSensor final : public Sensor {
 public:
  explicit BpfProcessSensor(BpfProcessOptions options) : options_(options) {}
  ~BpfProcessSensor() override { stop(); }

  std::string_view name() const override { return "bpf:process"; }

  Status start(const SensorConfig& config, RawSink sink) override {
    if (skel_) return Status::error("bpf:process already started");
    libbpf_set_print(libbpf_log);
    sink_ = std::move(sink);

    skel_ = process_bpf__open();
    if (!skel_) return fail("open", errno);
    skel_->rodata->args_max = WARD_PIECE_MASK;
    skel_->rodata->env_max =
        config.capture_env ? std::min<uint32_t>(config.env_max_bytes, WARD_PIECE_MASK) : 0;
    skel_->rodata->wakeup_bytes = options_.wakeup_bytes;
    int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) return fail("count cpus", -cpus);
    ncpus_ = static_cast<unsigned>(cpus);
    if (int err = bpf_map__set_max_entries(skel_->maps.exec_scratch, ncpus_); err)
      return fail("size scratch", -err);
    if (int err = process_bpf__load(skel_); err) return fail("load", -err);
    if (int err = process_bpf__attach(skel_); err) return fail("attach", -err);

    rb_ = ring_buffer__new(bpf_map__fd(skel_->maps.events), &BpfProcessSensor::on_record, this, nullptr);
    if (!rb_) return fail("ring buffer", errno);
    last_dropped_.fill(0);
    return Status::ok();
  }

  void stop() override {
    if (rb_) ring_buffer__free(rb_);
    rb_ = nullptr;
    if (skel_) process_bpf__destroy(skel_);  // detaches links, closes maps
    skel_ = nullptr;
  }

  int poll(int timeout_ms) override {
    if (!rb_) return -1;
    int n = ring_buffer__poll(rb_, timeout_ms);
    if (n == 0) n = ring_buffer__consume(rb_);  // records below the wakeup mark
    if (n < 0 && n != -EINTR) return -1;
    report_kernel_drops();
    return n < 0 ? 0 : n;
  }

  SensorCounters counters() const override { return counters_; }
  int poll_fd() const override { return rb_ ? ring_buffer__epoll_fd(rb_) : -1; }

  Status mute_pgid(pid_t pgid) override { return mute(skel_ ? skel_->maps.mute_pgid : nullptr, pgid); }
  Status mute_tgid(pid_t tgid) override { return mute(skel_ ? skel_->maps.mute_tgid : nullptr, tgid); }

 private:
  Status fail(const char* step, int err) {
    std::string msg = std::string("bpf:process: ") + step + " failed: " + std::strerror(err);
    std::string log = last_libbpf_error();
    if (!log.empty()) msg += " (libbpf: " + log.substr(log.size() > 300 ? log.size() - 300 : 0) + ")";
    stop();
    return Status::error(msg);
  }

  static Status mute(bpf_map* map, pid_t id) {
    if (!map) return Status::error("bpf:process not started");
    uint32_t key = static_cast<uint32_t>(id);
    uint8_t one = 1;
    if (bpf_map__update_elem(map, &key, sizeof(key), &one, sizeof(one), BPF_ANY) != 0)
      return Status::error(std::string("mute map update failed: ") + std::strerror(errno));
    return Status::ok();
  }

  static int on_record(void* ctx, void* data, size_t size) {
    auto* self = static_cast<BpfProcessSensor*>(ctx);
    auto event = decode_record(std::span(static_cast<const uint8_t*>(data), size));
    if (!event) {
      ++self->counters_.malformed;
      return 0;
    }
    ++self->counters_.received;
    self->sink_(std::move(*event));
    return 0;
  }

  // The kernel counts records it could not put on the ring; each new drop is
  // reported once, by type, so clients see the gap in their seq_num.
  void report_kernel_drops() {
    std::vector<ward_counters> per_cpu(ncpus_);
    for (uint32_t type = 1; type < WARD_REC_TYPE_MAX; ++type) {
      if (bpf_map__lookup_elem(skel_->maps.counters, &type, sizeof(type), per_cpu.data(),
                               per_cpu.size() * sizeof(ward_counters), 0) != 0)
        continue;
      uint64_t dropped = 0;
      for (const auto& c : per_cpu) dropped += c.dropped;
      if (dropped > last_dropped_[type]) {
        uint64_t delta = dropped - last_dropped_[type];
        last_dropped_[type] = dropped;
        counters_.lost += delta;
        sink_(RawLost{"kernel:bpf:process", kind_of(type), delta, std::nullopt});
      }
    }
  }

  BpfProcessOptions options_;
  process_bpf* skel_ = nullptr;
  ring_buffer* rb_ = nullptr;
  RawSink sink_;
  unsigned ncpus_ = 1;
  SensorCounters counters_;
  std::array<uint64_t, WARD_REC_TYPE_MAX> last_dropped_{};
};

}  // namespace

std::string last_libbpf_error() {
  std::lock_guard lock(g_libbpf_log_mu);
  return g_libbpf_log;
}

std::unique_ptr<Sensor> make_bpf_process_sensor(BpfProcessOptions options) {
  return std::make_unique<BpfProcessSensor>(options);
}

}  // namespace ward::sensors::bpf

#include "tamper/signal_recorder.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sensors/bpf/bpf_process_sensor.h"
#include "ward_guard_wire.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include "tamper.skel.h"
#pragma GCC diagnostic pop

namespace ward::tamper {
namespace {

constexpr long kBpfFsMagic = 0xcafe4a11;

bool on_bpffs(const std::string& dir) {
  struct statfs fs {};
  return statfs(dir.c_str(), &fs) == 0 && fs.f_type == kBpfFsMagic;
}

}  // namespace

struct SignalRecorder::Skel {
  tamper_bpf* obj = nullptr;
  ring_buffer* ring = nullptr;
  ~Skel() {
    if (ring) ring_buffer__free(ring);
    if (obj) tamper_bpf__destroy(obj);  // the pinned history stays
  }
};

SignalRecorder::SignalRecorder(std::shared_ptr<sensors::bpf::GuardNames> names, std::string pin_dir)
    : names_(std::move(names)), pin_dir_(std::move(pin_dir)) {}
SignalRecorder::~SignalRecorder() { stop(); }

Status SignalRecorder::start(const sensors::SensorConfig&, sensors::RawSink sink) {
  sink_ = std::move(sink);
  if (!pin_dir_.empty()) {
    mkdir(pin_dir_.c_str(), 0700);
    if (!on_bpffs(pin_dir_))
      pin_error_ = pin_dir_ + " is not on a bpf file system: the tamper history dies with the agent";
    else
      pin_path_ = pin_dir_ + "/tamper_history";
  }
  const std::string count_pin = pin_path_ + "_count";
  // Twice at most: a history pinned by an incompatible build is replaced.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto skel = std::make_unique<Skel>();
    skel->obj = tamper_bpf__open();
    if (!skel->obj) return Status::error(std::string("bpf:tamper-recorder: open failed: ") + std::strerror(errno));
    if (!pin_path_.empty()) {
      bpf_map__set_pin_path(skel->obj->maps.tamper_history, pin_path_.c_str());
      bpf_map__set_pin_path(skel->obj->maps.tamper_history_count, count_pin.c_str());
    }
    int err = tamper_bpf__load(skel->obj);
    if (err != 0 && attempt == 0 && !pin_path_.empty()) {
      unpin();
      continue;
    }
    if (err != 0) {
      std::string log = sensors::bpf::last_libbpf_error();
      return Status::error(std::string("bpf:tamper-recorder: load failed: ") + std::strerror(-err) +
                           " (libbpf: " + log.substr(log.size() > 300 ? log.size() - 300 : 0) + ")");
    }
    if ((err = tamper_bpf__attach(skel->obj)) != 0)
      return Status::error(std::string("bpf:tamper-recorder: attach failed: ") + std::strerror(-err));
    skel->ring =
        ring_buffer__new(bpf_map__fd(skel->obj->maps.tamper_journal), &SignalRecorder::on_record, this, nullptr);
    if (!skel->ring) return Status::error(std::string("bpf:tamper-recorder: ring buffer: ") + std::strerror(errno));
    skel_ = std::move(skel);
    take_history();
    return write_config();
  }
  return Status::error("bpf:tamper-recorder: load failed");
}

void SignalRecorder::stop() { skel_.reset(); }

void SignalRecorder::unpin() {
  if (pin_path_.empty()) return;
  unlink(pin_path_.c_str());
  unlink((pin_path_ + "_count").c_str());
}

void SignalRecorder::take_history() {
  // What earlier agents recorded (a pinned history survives them), oldest
  // first; then the history starts over for this agent.
  uint32_t zero = 0;
  uint64_t count = 0;
  bpf_map__lookup_elem(skel_->obj->maps.tamper_history_count, &zero, sizeof(zero), &count, sizeof(count), 0);
  uint64_t first = count > WARD_TAMPER_HISTORY ? count - WARD_TAMPER_HISTORY : 0;
  for (uint64_t i = first; i < count; ++i) {
    uint32_t slot = static_cast<uint32_t>(i % WARD_TAMPER_HISTORY);
    ward_guard_rec rec{};
    if (bpf_map__lookup_elem(skel_->obj->maps.tamper_history, &slot, sizeof(slot), &rec, sizeof(rec), 0) == 0 &&
        rec.kind != 0)
      history_.push_back(rec);
    ward_guard_rec empty{};
    bpf_map__update_elem(skel_->obj->maps.tamper_history, &slot, sizeof(slot), &empty, sizeof(empty), BPF_ANY);
  }
  uint64_t reset = 0;
  bpf_map__update_elem(skel_->obj->maps.tamper_history_count, &zero, sizeof(zero), &reset, sizeof(reset), BPF_ANY);
}

int SignalRecorder::poll(int timeout_ms) {
  if (!skel_) return 0;
  // The history goes first, from the hub's loop like every record.
  if (!history_.empty() && history_released_.load()) {
    for (auto& rec : history_) on_record(this, &rec, sizeof(rec));
    history_.clear();
  }
  int n = ring_buffer__poll(skel_->ring, timeout_ms);
  return n < 0 ? 0 : n;
}

int SignalRecorder::poll_fd() const { return skel_ ? ring_buffer__epoll_fd(skel_->ring) : -1; }

int SignalRecorder::on_record(void* ctx, void* data, size_t size) {
  auto* self = static_cast<SignalRecorder*>(ctx);
  auto decoded =
      decode_guard_record(std::span(static_cast<const uint8_t*>(data), size), *self->names_, "recorder");
  if (!decoded) {
    ++self->counters_.malformed;
    return 0;
  }
  ++self->counters_.received;
  if (self->tap_) self->tap_(*decoded);
  self->sink_(std::move(decoded->notify));
  return 0;
}

Status SignalRecorder::write_config() {
  if (!skel_) return Status::error("bpf:tamper-recorder is not running");
  ward_guard_config c{};
  c.agent_tgid = agent_tgid_;
  c.guard_signals = guard_;
  c.unlocked = unlocked_;
  uint32_t zero = 0;
  if (bpf_map__update_elem(skel_->obj->maps.recorder_config, &zero, sizeof(zero), &c, sizeof(c), BPF_ANY) != 0)
    return Status::error(std::string("bpf:tamper-recorder: config update failed: ") + std::strerror(errno));
  return Status::ok();
}

Status SignalRecorder::set_agent(pid_t tgid, bool guard) {
  agent_tgid_ = static_cast<uint32_t>(tgid);
  guard_ = guard;
  return write_config();
}

Status SignalRecorder::set_unlocked(bool unlocked) {
  unlocked_ = unlocked;
  return write_config();
}

sensors::bpf::BpfObjectIds SignalRecorder::object_ids() const {
  return skel_ ? sensors::bpf::bpf_object_ids(skel_->obj->obj) : sensors::bpf::BpfObjectIds{};
}

}  // namespace ward::tamper

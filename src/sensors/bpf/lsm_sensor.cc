#include "sensors/bpf/lsm_sensor.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "sensors/bpf/bpf_process_sensor.h"
#include "ward_guard_wire.h"

// Generated C: exempt from the C++ warnings.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include "lsm.skel.h"
#pragma GCC diagnostic pop

namespace ward::sensors::bpf {
namespace {

// The active LSMs, for an error that says why BPF LSM programs cannot run.
std::string active_lsms() {
  std::ifstream in("/sys/kernel/security/lsm");
  std::string list;
  if (!std::getline(in, list)) return "unknown (securityfs not mounted)";
  return list;
}

// libbpf's first complaint, on one line.
std::string libbpf_reason() {
  std::string log = last_libbpf_error();
  auto at = log.find("failed");
  std::size_t start = at == std::string::npos ? 0 : log.rfind('\n', at);
  start = start == std::string::npos ? 0 : start + 1;
  std::string line = log.substr(start, log.find('\n', start) - start);
  if (line.rfind("libbpf: ", 0) == 0) line.erase(0, 8);
  return line.substr(0, 160);
}

}  // namespace

struct LsmSensor::Skel {
  lsm_bpf* obj = nullptr;
  ring_buffer* ring = nullptr;
  ~Skel() {
    if (ring) ring_buffer__free(ring);
    if (obj) lsm_bpf__destroy(obj);
  }
};

LsmSensor::LsmSensor(std::shared_ptr<GuardNames> names) : names_(std::move(names)) {}
LsmSensor::~LsmSensor() { stop(); }

Status LsmSensor::start(const SensorConfig&, RawSink sink) {
  sink_ = std::move(sink);
  std::string lsms = active_lsms();
  bool lsm_active = lsms.find("bpf") != std::string::npos || lsms.rfind("unknown", 0) == 0;
  if (!lsm_active)
    return Status::error("bpf:lsm: the BPF LSM is not active on this kernel (active: " + lsms +
                         "; boot with lsm=...,bpf)");

  // The exec hook needs a sleepable program and the kernel's file hashing
  // (5.18+ with IMA built in); without them the file and process guards still
  // load.
  for (bool with_exec : {true, false}) {
    auto skel = std::make_unique<Skel>();
    skel->obj = lsm_bpf__open();
    if (!skel->obj) return Status::error(std::string("bpf:lsm: open failed: ") + std::strerror(errno));
    if (!with_exec) bpf_program__set_autoload(skel->obj->progs.ward_bprm_check, false);
    int err = lsm_bpf__load(skel->obj);
    if (err != 0) {
      std::string why =
          std::string(std::strerror(-err)) + " (active LSMs: " + lsms + "; libbpf: " + libbpf_reason() + ")";
      if (with_exec) {
        exec_error_ = "the exec hook did not load: " + why;
        continue;
      }
      return Status::error("bpf:lsm: load failed: " + why);
    }
    err = lsm_bpf__attach(skel->obj);
    if (err != 0)
      return Status::error(std::string("bpf:lsm: attach failed: ") + std::strerror(-err) +
                           " (active LSMs: " + lsms + ")");
    skel->ring = ring_buffer__new(bpf_map__fd(skel->obj->maps.guard_events), &LsmSensor::on_record, this, nullptr);
    if (!skel->ring) return Status::error(std::string("bpf:lsm: ring buffer: ") + std::strerror(errno));
    exec_loaded_ = with_exec;
    if (with_exec) exec_error_.clear();
    skel_ = std::move(skel);
    break;
  }
  auto own = bpf_object_ids(skel_->obj->obj);
  return protect_bpf_objects(own.maps, own.progs);
}

void LsmSensor::stop() { skel_.reset(); }

int LsmSensor::poll(int timeout_ms) {
  if (!skel_) return 0;
  int n = ring_buffer__poll(skel_->ring, timeout_ms);
  return n < 0 && n != -EINTR ? 0 : n;  // never fatal for the hub: the guards stay attached
}

int LsmSensor::poll_fd() const { return skel_ ? ring_buffer__epoll_fd(skel_->ring) : -1; }

SensorCounters LsmSensor::counters() const { return counters_; }

void LsmSensor::set_tap(std::function<void(const DecodedGuard&)> tap) { tap_ = std::move(tap); }

int LsmSensor::on_record(void* ctx, void* data, size_t size) {
  auto* self = static_cast<LsmSensor*>(ctx);
  auto decoded =
      decode_guard_record(std::span(static_cast<const uint8_t*>(data), size), *self->names_, "lsm");
  if (!decoded) {
    ++self->counters_.malformed;
    return 0;
  }
  ++self->counters_.received;
  if (self->tap_) self->tap_(*decoded);
  self->sink_(std::move(decoded->notify));
  return 0;
}

Status LsmSensor::write_config_locked() {
  if (!skel_) return Status::error("bpf:lsm is not running");
  ward_guard_config c{};
  c.agent_tgid = config_.agent_tgid;
  c.unlocked = config_.unlocked;
  c.exec_mode = config_.exec_mode;
  c.generation = config_.generation;
  c.guard_signals = config_.guard_signals;
  c.guard_files = config_.guard_files;
  uint32_t zero = 0;
  if (bpf_map__update_elem(skel_->obj->maps.guard_config, &zero, sizeof(zero), &c, sizeof(c), BPF_ANY) != 0)
    return Status::error(std::string("bpf:lsm: config update failed: ") + std::strerror(errno));
  return Status::ok();
}

Status LsmSensor::set_agent(pid_t tgid) {
  std::lock_guard lock(mu_);
  config_.agent_tgid = static_cast<uint32_t>(tgid);
  return write_config_locked();
}

Status LsmSensor::set_guards(bool files, bool signals) {
  std::lock_guard lock(mu_);
  config_.guard_files = files;
  config_.guard_signals = signals;
  return write_config_locked();
}

Status LsmSensor::set_unlocked(bool unlocked) {
  std::lock_guard lock(mu_);
  config_.unlocked = unlocked;
  return write_config_locked();
}

Status LsmSensor::protect_inode(uint64_t kernel_dev, uint64_t ino, uint32_t flags) {
  std::lock_guard lock(mu_);
  if (!skel_) return Status::error("bpf:lsm is not running");
  ward_inode_key key{kernel_dev, ino};
  if (bpf_map__update_elem(skel_->obj->maps.protected_inodes, &key, sizeof(key), &flags, sizeof(flags), BPF_ANY) !=
      0)
    return Status::error(std::string("bpf:lsm: protected_inodes update failed: ") + std::strerror(errno));
  return Status::ok();
}

Status LsmSensor::clear_protected_inodes() {
  std::lock_guard lock(mu_);
  if (!skel_) return Status::ok();
  bpf_map* map = skel_->obj->maps.protected_inodes;
  ward_inode_key key{}, next{};
  // Delete the first key until none is left: deleting while walking with
  // get_next_key would skip entries.
  while (bpf_map__get_next_key(map, nullptr, &next, sizeof(next)) == 0) {
    key = next;
    if (bpf_map__delete_elem(map, &key, sizeof(key), 0) != 0) break;
  }
  return Status::ok();
}

Status LsmSensor::set_exec_rules(const std::vector<LsmExecRule>& rules, uint32_t mode) {
  std::lock_guard lock(mu_);
  if (!skel_) return Status::error("bpf:lsm is not running");
  bpf_map* map = skel_->obj->maps.exec_sha256_rules;
  for (const auto& k : rule_keys_) bpf_map__delete_elem(map, k.data(), k.size(), 0);
  rule_keys_.clear();
  for (const auto& r : rules) {
    ward_exec_rule value{r.policy, r.index};
    // First rule wins for a repeated hash, as in the policy file.
    if (bpf_map__update_elem(map, r.sha256.data(), r.sha256.size(), &value, sizeof(value), BPF_NOEXIST) == 0)
      rule_keys_.push_back(r.sha256);
    else if (errno != EEXIST)
      return Status::error(std::string("bpf:lsm: exec rule update failed: ") + std::strerror(errno));
  }
  config_.exec_mode = exec_loaded_ ? mode : WARD_EXEC_OFF;
  ++config_.generation;  // every cached verdict was made under the old rules
  return write_config_locked();
}

Status LsmSensor::protect_bpf_objects(const std::vector<uint32_t>& map_ids, const std::vector<uint32_t>& prog_ids) {
  std::lock_guard lock(mu_);
  if (!skel_) return Status::error("bpf:lsm is not running");
  uint8_t one = 1;
  for (uint32_t id : map_ids)
    bpf_map__update_elem(skel_->obj->maps.protected_map_ids, &id, sizeof(id), &one, sizeof(one), BPF_ANY);
  for (uint32_t id : prog_ids)
    bpf_map__update_elem(skel_->obj->maps.protected_prog_ids, &id, sizeof(id), &one, sizeof(one), BPF_ANY);
  return Status::ok();
}

LsmCounters LsmSensor::lsm_counters() const {
  LsmCounters out;
  if (!skel_) return out;
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return out;
  std::vector<ward_guard_counters> per_cpu(static_cast<std::size_t>(cpus));
  uint32_t zero = 0;
  if (bpf_map__lookup_elem(skel_->obj->maps.guard_counters, &zero, sizeof(zero), per_cpu.data(),
                           per_cpu.size() * sizeof(ward_guard_counters), 0) != 0)
    return out;
  for (const auto& c : per_cpu) {
    out.records += c.records;
    out.lost += c.lost;
    out.hashed += c.hashed;
    out.hash_failed += c.hash_failed;
  }
  return out;
}

BpfObjectIds bpf_object_ids(const ::bpf_object* object) {
  BpfObjectIds ids;
  bpf_map* map = nullptr;
  bpf_object__for_each_map(map, object) {
    bpf_map_info info{};
    uint32_t len = sizeof(info);
    if (bpf_map__fd(map) >= 0 && bpf_obj_get_info_by_fd(bpf_map__fd(map), &info, &len) == 0)
      ids.maps.push_back(info.id);
  }
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, object) {
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_program__fd(prog) >= 0 && bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
      ids.progs.push_back(info.id);
  }
  return ids;
}

}  // namespace ward::sensors::bpf

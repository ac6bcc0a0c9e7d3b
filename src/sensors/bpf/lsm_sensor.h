// The BPF LSM sensor (bpf/lsm.bpf.c): AUTH decided in the kernel from maps
// user space fills — sha256 exec rules (hashed in the kernel, cached per
// file version) and Ward's self-protection (its files, signals and ptrace
// aimed at the agent, fds to its BPF objects). Its records (denials and
// would-denies) become auth_result events with decided_by "lsm".
//
// start() fails where the kernel has no active BPF LSM (lsm=...,bpf) or
// refuses LSM programs; the error says why, and the caller keeps the
// fanotify path. Every setter is thread-safe once started.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sensors/bpf/lsm_records.h"
#include "sensors/sensor.h"

struct bpf_object;

namespace ward::sensors::bpf {

struct LsmExecRule {
  std::array<uint8_t, 32> sha256{};
  uint32_t policy = 0;  // WARD_EXEC_RULE_*
  uint32_t index = 0;   // reported back in records; names.rule_of(index)
};

struct LsmCounters {
  uint64_t records = 0;
  uint64_t lost = 0;
  uint64_t hashed = 0;       // executables hashed in the kernel
  uint64_t hash_failed = 0;  // the kernel could not hash (then fanotify, if scoped, decides)
};

class LsmSensor final : public Sensor {
 public:
  explicit LsmSensor(std::shared_ptr<GuardNames> names);
  ~LsmSensor() override;

  std::string_view name() const override { return "bpf:lsm"; }
  Status start(const SensorConfig& config, RawSink sink) override;
  void stop() override;
  int poll(int timeout_ms) override;
  SensorCounters counters() const override;
  int poll_fd() const override;
  Status mute_pgid(pid_t) override { return Status::ok(); }
  Status mute_tgid(pid_t) override { return Status::ok(); }

  // Whether exec rules can be enforced (the sleepable exec hook with the
  // kernel's file hashing loaded), and if not, why.
  bool exec_enforcement() const { return exec_loaded_; }
  const std::string& exec_unavailable() const { return exec_error_; }

  Status set_agent(pid_t tgid);
  Status set_guards(bool files, bool signals);
  Status set_unlocked(bool unlocked);
  Status protect_inode(uint64_t kernel_dev, uint64_t ino, uint32_t flags);
  Status clear_protected_inodes();
  // Replaces the exec rules; `mode` is WARD_EXEC_OFF / MONITOR / ENFORCE.
  // Cached verdicts of the old rules stop counting at once.
  Status set_exec_rules(const std::vector<LsmExecRule>& rules, uint32_t mode);
  // No fd to these maps and programs for anyone but the agent (ids from
  // bpf_obj_get_info_by_fd); the sensor's own are always in.
  Status protect_bpf_objects(const std::vector<uint32_t>& map_ids, const std::vector<uint32_t>& prog_ids);
  LsmCounters lsm_counters() const;

  // Called on the hub's loop thread for every record, after the hub got it.
  void set_tap(std::function<void(const DecodedGuard&)> tap);

 private:
  struct Skel;
  Status write_config_locked();
  static int on_record(void* ctx, void* data, size_t size);

  std::shared_ptr<GuardNames> names_;
  std::unique_ptr<Skel> skel_;
  RawSink sink_;
  std::function<void(const DecodedGuard&)> tap_;
  bool exec_loaded_ = false;
  std::string exec_error_;
  SensorCounters counters_;

  mutable std::mutex mu_;  // the config image and the exec rule keys
  struct ConfigImage {
    uint32_t agent_tgid = 0, unlocked = 0, exec_mode = 0, generation = 0, guard_signals = 0, guard_files = 0;
  } config_;
  std::vector<std::array<uint8_t, 32>> rule_keys_;
};

// The BPF ids of the maps and programs of a loaded object.
struct BpfObjectIds {
  std::vector<uint32_t> maps, progs;
};
BpfObjectIds bpf_object_ids(const ::bpf_object* object);

}  // namespace ward::sensors::bpf

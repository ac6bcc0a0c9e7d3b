// The tamper recorder (bpf/tamper.bpf.c) as a sensor: signals that would
// stop the agent and ptrace attaches to it, recorded on kernels without the
// BPF LSM (where nothing can deny them) and, on the others, those the LSM let
// through (unlocked, SIGHUP aside). Its history is pinned in bpffs, so the
// record of the SIGKILL that ended one agent is reported by the next (a
// pinned history the kernel writes before the signal takes effect).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sensors/bpf/lsm_records.h"
#include "sensors/bpf/lsm_sensor.h"
#include "sensors/sensor.h"
#include "ward_guard_wire.h"

namespace ward::tamper {

class SignalRecorder final : public sensors::Sensor {
 public:
  // `pin_dir`: a directory on bpffs for the history; "" = not pinned.
  SignalRecorder(std::shared_ptr<sensors::bpf::GuardNames> names, std::string pin_dir);
  ~SignalRecorder() override;

  std::string_view name() const override { return "bpf:tamper-recorder"; }
  Status start(const sensors::SensorConfig& config, sensors::RawSink sink) override;
  void stop() override;
  int poll(int timeout_ms) override;
  sensors::SensorCounters counters() const override { return counters_; }
  int poll_fd() const override;
  Status mute_pgid(pid_t) override { return Status::ok(); }
  Status mute_tgid(pid_t) override { return Status::ok(); }

  Status set_agent(pid_t tgid, bool guard);
  Status set_unlocked(bool unlocked);
  // What earlier agents recorded is reported from the first poll after this:
  // once the agent's outputs subscribe, so that nobody misses it.
  void release_history() { history_released_.store(true); }
  // "" when the history is pinned, else why not (it then dies with the agent).
  const std::string& pin_error() const { return pin_error_; }
  const std::string& pin_path() const { return pin_path_; }
  // Removes the pin (a clean stop: nothing left to report).
  void unpin();
  sensors::bpf::BpfObjectIds object_ids() const;
  void set_tap(std::function<void(const sensors::bpf::DecodedGuard&)> tap) { tap_ = std::move(tap); }

 private:
  struct Skel;
  Status write_config();
  void take_history();
  static int on_record(void* ctx, void* data, size_t size);

  std::shared_ptr<sensors::bpf::GuardNames> names_;
  std::string pin_dir_, pin_path_, pin_error_;
  std::unique_ptr<Skel> skel_;
  sensors::RawSink sink_;
  std::function<void(const sensors::bpf::DecodedGuard&)> tap_;
  sensors::SensorCounters counters_;
  uint32_t agent_tgid_ = 0;
  bool guard_ = false, unlocked_ = false;
  std::vector<ward_guard_rec> history_;  // from earlier agents, until released
  std::atomic<bool> history_released_{false};
};

}  // namespace ward::tamper

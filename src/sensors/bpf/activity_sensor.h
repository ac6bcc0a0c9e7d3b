// The activity sensors: file (bpf/file.bpf.c), system (bpf/sys.bpf.c) and
// network (bpf/net.bpf.c) events from raw syscall tracepoints, decoded by
// activity_decoder. Each is one libbpf skeleton on its own ring buffer; all
// share the kernel filter's maps (kernel_filter.h). The hub starts one when a
// client subscribes to a type it provides.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "sensors/bpf/activity_decoder.h"
#include "sensors/bpf/kernel_filter.h"
#include "sensors/sensor.h"

struct bpf_object;
struct ring_buffer;

namespace ward::sensors::bpf {

struct ActivitySensorOptions {
  // Wake the reader when this much data waits; below it the hub polls on its
  // 10 ms timer. One wakeup per record is paid in the workload's context.
  uint32_t wakeup_bytes = 256 * 1024;
  uint32_t ring_bytes = 32 * 1024 * 1024;
};

class ActivitySensor : public Sensor {
 public:
  ~ActivitySensor() override;

  std::string_view name() const override { return name_; }
  Status start(const SensorConfig& config, RawSink sink) override;
  void stop() override;
  int poll(int timeout_ms) override;
  SensorCounters counters() const override { return counters_; }
  int poll_fd() const override;
  bool provides(EventType type) const override;
  Status mute_pgid(pid_t pgid) override;
  Status mute_tgid(pid_t tgid) override;

 protected:
  ActivitySensor(std::string name, std::vector<EventType> provides, ActivitySensorOptions options);

  // The skeleton's life, implemented per skeleton. open_skeleton sets the
  // rodata knobs (wakeup_bytes()) and returns the object; the others return
  // 0 or a negative errno.
  virtual bpf_object* open_skeleton() = 0;
  virtual int load_skeleton() = 0;
  virtual int attach_skeleton() = 0;
  virtual void destroy_skeleton() = 0;
  // Called before the sink with each decoded event (to name rules, …).
  virtual void on_event(RawEvent& event) { (void)event; }

  uint32_t wakeup_bytes() const { return options_.wakeup_bytes; }
  bpf_object* object() const { return object_; }

 private:
  Status fail(const char* step, int err);
  static int on_record(void* ctx, void* data, size_t size);
  void report_kernel_counters();

  std::string name_;
  std::vector<EventType> provides_;
  ActivitySensorOptions options_;
  std::shared_ptr<KernelFilter> filter_;
  bpf_object* object_ = nullptr;
  ring_buffer* rb_ = nullptr;
  RawSink sink_;
  ActivityDecodeContext decode_context_;
  unsigned ncpus_ = 1;
  SensorCounters counters_;
  std::array<uint64_t, 64> last_dropped_{};
};

std::unique_ptr<Sensor> make_bpf_file_sensor(ActivitySensorOptions options = {});
std::unique_ptr<Sensor> make_bpf_sys_sensor(ActivitySensorOptions options = {});
std::unique_ptr<Sensor> make_bpf_net_sensor(ActivitySensorOptions options = {});

}  // namespace ward::sensors::bpf

// The system sensor: bpf/sys.bpf.c.
#include <bpf/libbpf.h>

#include "sensors/bpf/activity_sensor.h"

// Generated C: exempt from the C++ warnings.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include "sys.skel.h"
#pragma GCC diagnostic pop

namespace ward::sensors::bpf {
namespace {

class BpfSysSensor final : public ActivitySensor {
 public:
  explicit BpfSysSensor(ActivitySensorOptions options)
      : ActivitySensor("bpf:sys",
                       {EventType::NotifySignal, EventType::NotifyTrace, EventType::NotifySetuid,
                        EventType::NotifySetgid, EventType::NotifySeteuid, EventType::NotifySetegid,
                        EventType::NotifySetreuid, EventType::NotifySetregid, EventType::NotifyChdir,
                        EventType::NotifyChroot, EventType::NotifyProcCheck, EventType::NotifyKextload,
                        EventType::NotifyMount, EventType::NotifyUnmount, EventType::NotifySettime,
                        EventType::NotifyBpf, EventType::NotifyMemfdCreate},
                       options) {}
  ~BpfSysSensor() override { stop(); }

 protected:
  bpf_object* open_skeleton() override {
    skel_ = sys_bpf__open();
    if (!skel_) return nullptr;
    skel_->rodata->wakeup_bytes = wakeup_bytes();
    return skel_->obj;
  }
  int load_skeleton() override { return sys_bpf__load(skel_); }
  int attach_skeleton() override { return sys_bpf__attach(skel_); }
  void destroy_skeleton() override {
    sys_bpf__destroy(skel_);
    skel_ = nullptr;
  }

 private:
  sys_bpf* skel_ = nullptr;
};

}  // namespace

std::unique_ptr<Sensor> make_bpf_sys_sensor(ActivitySensorOptions options) {
  return std::make_unique<BpfSysSensor>(options);
}

}  // namespace ward::sensors::bpf

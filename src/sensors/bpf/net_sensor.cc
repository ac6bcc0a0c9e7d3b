// The network sensor: bpf/net.bpf.c.
#include <bpf/libbpf.h>

#include "sensors/bpf/activity_sensor.h"

// Generated C: exempt from the C++ warnings.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include "net.skel.h"
#pragma GCC diagnostic pop

namespace ward::sensors::bpf {
namespace {

class BpfNetSensor final : public ActivitySensor {
 public:
  explicit BpfNetSensor(ActivitySensorOptions options)
      : ActivitySensor("bpf:net",
                       {EventType::NotifyConnect, EventType::NotifyBind, EventType::NotifyAccept,
                        EventType::NotifyUipcConnect, EventType::NotifyUipcBind},
                       options) {}
  ~BpfNetSensor() override { stop(); }

 protected:
  bpf_object* open_skeleton() override {
    skel_ = net_bpf__open();
    if (!skel_) return nullptr;
    skel_->rodata->wakeup_bytes = wakeup_bytes();
    return skel_->obj;
  }
  int load_skeleton() override { return net_bpf__load(skel_); }
  int attach_skeleton() override { return net_bpf__attach(skel_); }
  void destroy_skeleton() override {
    net_bpf__destroy(skel_);
    skel_ = nullptr;
  }

 private:
  net_bpf* skel_ = nullptr;
};

}  // namespace

std::unique_ptr<Sensor> make_bpf_net_sensor(ActivitySensorOptions options) {
  return std::make_unique<BpfNetSensor>(options);
}

}  // namespace ward::sensors::bpf

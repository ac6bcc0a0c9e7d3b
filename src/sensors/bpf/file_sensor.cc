// The file sensor: bpf/file.bpf.c.
#include <bpf/libbpf.h>

#include "sensors/bpf/activity_sensor.h"

// Generated C: exempt from the C++ warnings.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include "file.skel.h"
#pragma GCC diagnostic pop

namespace ward::sensors::bpf {
namespace {

class BpfFileSensor final : public ActivitySensor {
 public:
  explicit BpfFileSensor(ActivitySensorOptions options)
      : ActivitySensor("bpf:file",
                       {EventType::NotifyOpen, EventType::NotifyClose, EventType::NotifyWrite,
                        EventType::NotifyCreate, EventType::NotifyUnlink, EventType::NotifyRename,
                        EventType::NotifyLink, EventType::NotifyTruncate, EventType::NotifySetMode,
                        EventType::NotifySetOwner, EventType::NotifyUtimes, EventType::NotifySetExtattr,
                        EventType::NotifyDeleteExtattr, EventType::NotifyMmap, EventType::NotifyMprotect},
                       options) {}
  ~BpfFileSensor() override { stop(); }

 protected:
  bpf_object* open_skeleton() override {
    skel_ = file_bpf__open();
    if (!skel_) return nullptr;
    skel_->rodata->wakeup_bytes = wakeup_bytes();
    return skel_->obj;
  }
  int load_skeleton() override { return file_bpf__load(skel_); }
  int attach_skeleton() override { return file_bpf__attach(skel_); }
  void destroy_skeleton() override {
    file_bpf__destroy(skel_);
    skel_ = nullptr;
  }

 private:
  file_bpf* skel_ = nullptr;
};

}  // namespace

std::unique_ptr<Sensor> make_bpf_file_sensor(ActivitySensorOptions options) {
  return std::make_unique<BpfFileSensor>(options);
}

}  // namespace ward::sensors::bpf

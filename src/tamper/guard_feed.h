// Events that user-space guards (the fanotify file guard, the unlock channel)
// produce on their own threads, handed to the hub as a sensor: the hub's loop
// drains them like kernel records, so they reach every client in order with
// the rest.
#pragma once

#include <deque>
#include <mutex>

#include "sensors/sensor.h"

namespace ward::tamper {

class GuardFeed final : public sensors::Sensor {
 public:
  GuardFeed();
  ~GuardFeed() override;

  std::string_view name() const override { return "tamper:user-space-guards"; }
  Status start(const sensors::SensorConfig& config, sensors::RawSink sink) override;
  void stop() override {}
  int poll(int timeout_ms) override;
  sensors::SensorCounters counters() const override;
  int poll_fd() const override { return event_fd_; }
  Status mute_pgid(pid_t) override { return Status::ok(); }
  Status mute_tgid(pid_t) override { return Status::ok(); }

  // Any thread.
  void push(sensors::RawNotify&& event);

 private:
  int event_fd_ = -1;
  sensors::RawSink sink_;
  mutable std::mutex mu_;
  std::deque<sensors::RawNotify> queue_;
  sensors::SensorCounters counters_;
};

}  // namespace ward::tamper

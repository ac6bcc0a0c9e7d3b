// A sensor: one kernel facility turned into RawEvents. The hub owns sensors
// and drives them from its loop thread; nothing here is thread-safe unless
// said so.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sensors/raw_event.h"
#include "ward/status.h"

namespace ward::sensors {

using RawSink = std::function<void(RawEvent&&)>;

struct SensorCounters {
  uint64_t received = 0;   // records decoded
  uint64_t lost = 0;       // records the kernel could not deliver
  uint64_t malformed = 0;  // records that failed to decode
  uint64_t muted = 0;      // events the kernel filtered because every subscribed client mutes them
};

struct SensorConfig {
  bool capture_env = false;
  uint32_t env_max_bytes = 16384;
};

class Sensor {
 public:
  virtual ~Sensor() = default;
  virtual std::string_view name() const = 0;
  // Loads and attaches. On failure nothing stays loaded or attached.
  virtual Status start(const SensorConfig& config, RawSink sink) = 0;
  // Detaches and unloads; safe to call twice.
  virtual void stop() = 0;
  // Waits up to timeout_ms for records and hands every available one to the
  // sink. Returns the number handled, or -1 on a fatal error.
  virtual int poll(int timeout_ms) = 0;
  virtual SensorCounters counters() const = 0;
  // A descriptor that turns readable when records wait, for the hub's epoll;
  // -1 if the sensor can only be polled.
  virtual int poll_fd() const { return -1; }
  // Event types this sensor produces beyond exec/fork/exit; the hub starts a
  // sensor the first time a client subscribes to one of them.
  virtual bool provides(EventType type) const {
    (void)type;
    return false;
  }
  // Drop events of this process group / process in the kernel where the
  // facility can; otherwise the hub filters them.
  virtual Status mute_pgid(pid_t pgid) = 0;
  virtual Status mute_tgid(pid_t tgid) = 0;
};

}  // namespace ward::sensors

#include "tamper/guard_feed.h"

#include <sys/eventfd.h>
#include <unistd.h>

namespace ward::tamper {

GuardFeed::GuardFeed() : event_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

GuardFeed::~GuardFeed() {
  if (event_fd_ >= 0) close(event_fd_);
}

Status GuardFeed::start(const sensors::SensorConfig&, sensors::RawSink sink) {
  if (event_fd_ < 0) return Status::error("tamper: eventfd failed");
  sink_ = std::move(sink);
  return Status::ok();
}

void GuardFeed::push(sensors::RawNotify&& event) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(event));
  }
  uint64_t one = 1;
  (void)!write(event_fd_, &one, sizeof(one));
}

int GuardFeed::poll(int) {
  uint64_t drained;
  (void)!read(event_fd_, &drained, sizeof(drained));
  std::deque<sensors::RawNotify> ready;
  {
    std::lock_guard lock(mu_);
    ready.swap(queue_);
    counters_.received += ready.size();
  }
  if (!sink_) return 0;
  for (auto& e : ready) sink_(std::move(e));
  return static_cast<int>(ready.size());
}

sensors::SensorCounters GuardFeed::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

}  // namespace ward::tamper

// ward::Message — the es_message_t of Linux.
#pragma once

#include <cstdint>
#include <memory>

#include "ward/event_table.h"
#include "ward/events.h"
#include "ward/process.h"

namespace ward {

inline constexpr uint32_t kMessageVersion = 1;

struct Message {
  uint32_t version = kMessageVersion;
  uint64_t time_ns = 0;         // realtime, ns since the epoch
  uint64_t mono_time_ns = 0;    // CLOCK_BOOTTIME ns: orders events across sensors
  uint64_t deadline_ns = 0;     // AUTH only: mono time by which to respond
  ProcessPtr process;           // the instigator
  uint64_t seq_num = 0;         // per client, per event type: a gap is a drop
  uint64_t global_seq_num = 0;  // per client, all types
  ActionType action_type = ActionType::Notify;
  EventType event_type = EventType::NotifyExec;
  pid_t thread_id = 0;
  std::shared_ptr<const Event> event;
  uint64_t auth_id = 0;  // AUTH only: which kernel request respond() answers

  template <typename T>
  const T* as() const {
    return event ? std::get_if<T>(event.get()) : nullptr;
  }
};

}  // namespace ward

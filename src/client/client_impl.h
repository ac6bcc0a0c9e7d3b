// Client::Impl: one client's subscriptions, mutes, sequence numbers, queue
// and thread. The hub's loop thread calls offer(); the client thread runs the
// handlers.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "ward/client.h"

namespace ward::detail {
class Hub;
}

namespace ward {

// The mute sets of one client, with ES semantics.
class MuteState {
 public:
  void mute_process(const AuditToken& t) { processes_.insert({t.pid, t.pidversion}); }
  void unmute_process(const AuditToken& t) { processes_.erase({t.pid, t.pidversion}); }
  void mute_path(std::string_view path, MutePathType type) { paths_.insert({std::string(path), type}); }
  void unmute_path(std::string_view path, MutePathType type) { paths_.erase({std::string(path), type}); }
  void unmute_all_paths() { paths_.clear(); }
  void set_inverted(MuteInversionType type, bool inverted) { inverted_[static_cast<int>(type)] = inverted; }

  // Whether an event from `process` touching `targets` is delivered.
  bool delivers(const Process& process, const std::vector<std::string_view>& targets) const;

  // The sets as they are, for the kernel filter (client/kernel_filter_spec.h).
  const std::set<std::pair<pid_t, uint32_t>>& muted_processes() const { return processes_; }
  const std::set<std::pair<std::string, MutePathType>>& muted_paths() const { return paths_; }
  bool is_inverted(MuteInversionType t) const { return inverted(t); }

 private:
  bool path_matches(std::string_view path, bool target) const;
  bool inverted(MuteInversionType t) const { return inverted_[static_cast<int>(t)]; }

  std::set<std::pair<pid_t, uint32_t>> processes_;
  std::set<std::pair<std::string, MutePathType>> paths_;
  std::array<bool, 3> inverted_{};
};

struct Client::Impl : std::enable_shared_from_this<Client::Impl> {
  using Item = std::variant<Message, DropReport>;

  Impl(Handler h, std::size_t queue_capacity) : handler(std::move(h)), capacity(queue_capacity) {
    for (auto& s : subscribed) s.store(false, std::memory_order_relaxed);
  }

  void start_thread();
  void stop_thread();

  // Hub thread: deliver if subscribed and not muted. Assigns seq numbers
  // whether or not the queue has room, so a full queue shows as a gap.
  void offer(const Message& base, const std::vector<std::string_view>& targets);
  // Hub thread: `count` events of `type` were lost before dispatch.
  void lost(const DropReport& drop);
  // Hub thread: an AUTH message. True if this client now owes an answer
  // (subscribed, not muted, queued).
  bool offer_auth(const Message& base, const std::vector<std::string_view>& targets);
  void report_queue_drops_locked();  // q_mu held
  bool is_subscribed(EventType t) const {
    std::size_t i = event_index(t);
    return i < subscribed.size() && subscribed[i].load(std::memory_order_relaxed);
  }

  Handler handler;
  DropHandler drop_handler;
  std::function<void()> drained_handler;
  std::mutex handlers_mu;

  std::array<std::atomic<bool>, kEventTypes.size()> subscribed;

  std::mutex mute_mu;
  MuteState mutes;

  // Hub thread only.
  std::array<uint64_t, kEventTypes.size()> seq{};
  uint64_t global_seq = 0;
  // Messages refused by a full queue, reported once the queue has room.
  std::array<uint64_t, kEventTypes.size()> unreported_queue_drops{};

  std::mutex q_mu;
  std::condition_variable q_cv;
  std::deque<Item> queue;
  std::size_t capacity;
  bool stopping = false;
  std::thread thread;

  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> queue_drops{0};
  std::atomic<uint64_t> kernel_drops{0};
  std::atomic<uint64_t> auth_answered{0};
  std::atomic<uint64_t> auth_missed{0};
  std::atomic<DeadlineMissMode> miss_mode{DeadlineMissMode::FailOpen};

  std::shared_ptr<detail::Hub> hub;
};

}  // namespace ward

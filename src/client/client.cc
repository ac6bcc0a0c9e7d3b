#include <utility>

#include "client/client_impl.h"
#include "client/hub.h"

namespace ward {

bool MuteState::path_matches(std::string_view path, bool target) const {
  for (const auto& [p, type] : paths_) {
    bool is_target = type == MutePathType::TargetPrefix || type == MutePathType::TargetLiteral;
    if (is_target != target) continue;
    bool prefix = type == MutePathType::Prefix || type == MutePathType::TargetPrefix;
    if (prefix ? path.starts_with(p) : path == p) return true;
  }
  return false;
}

bool MuteState::delivers(const Process& process, const std::vector<std::string_view>& targets) const {
  // Each dimension mutes on its own; inverted, it selects instead.
  bool in_processes = processes_.count({process.audit_token.pid, process.audit_token.pidversion}) != 0;
  if (in_processes != inverted(MuteInversionType::Process)) return false;

  bool path_listed = path_matches(process.executable.path, false);
  if (path_listed != inverted(MuteInversionType::Path)) return false;

  if (inverted(MuteInversionType::TargetPath)) {
    // Selected when any target is in the set.
    for (auto t : targets)
      if (path_matches(t, true)) return true;
    return false;
  }
  // Muted only when every target is muted.
  if (targets.empty()) return true;
  for (auto t : targets)
    if (!path_matches(t, true)) return true;
  return false;
}

bool Client::Impl::offer_auth(const Message& base, const std::vector<std::string_view>& targets) {
  if (!is_subscribed(base.event_type) || !base.process) return false;
  {
    std::lock_guard lock(mute_mu);
    if (!mutes.delivers(*base.process, targets)) return false;
  }
  Message m = base;
  m.seq_num = seq[event_index(base.event_type)]++;
  m.global_seq_num = global_seq++;
  bool wake = false;
  {
    std::lock_guard lock(q_mu);
    // An AUTH message is never dropped for a full queue: the watchdog bounds
    // how long it can wait, and dropping it would only answer it sooner.
    wake = queue.empty();
    queue.emplace_back(std::move(m));
  }
  if (wake) q_cv.notify_one();
  return true;
}

void Client::Impl::offer(const Message& base, const std::vector<std::string_view>& targets) {
  if (!is_subscribed(base.event_type) || !base.process) return;
  {
    std::lock_guard lock(mute_mu);
    if (!mutes.delivers(*base.process, targets)) return;
  }
  std::size_t type = event_index(base.event_type);
  Message m = base;
  m.seq_num = seq[type]++;
  m.global_seq_num = global_seq++;
  bool wake = false;
  {
    std::lock_guard lock(q_mu);
    if (queue.size() >= capacity) {
      queue_drops.fetch_add(1, std::memory_order_relaxed);
      ++unreported_queue_drops[type];
      return;
    }
    wake = queue.empty();
    report_queue_drops_locked();  // before the next message, so the gap is explained
    queue.emplace_back(std::move(m));
  }
  if (wake) q_cv.notify_one();
}

void Client::Impl::report_queue_drops_locked() {
  for (std::size_t i = 0; i < unreported_queue_drops.size(); ++i) {
    if (unreported_queue_drops[i] == 0) continue;
    queue.emplace_back(DropReport{"client-queue", kEventTypes[i].type, unreported_queue_drops[i]});
    unreported_queue_drops[i] = 0;
  }
}

void Client::Impl::lost(const DropReport& drop) {
  // Advance the sequence numbers as if the lost events had been delivered,
  // so the gap is where the loss was.
  bool relevant = false;
  if (drop.event_type) {
    if (!is_subscribed(*drop.event_type)) return;
    seq[event_index(*drop.event_type)] += drop.count;
    relevant = true;
  } else {
    for (const auto& info : kEventTypes) relevant = relevant || is_subscribed(info.type);
    if (!relevant) return;
  }
  global_seq += drop.count;
  kernel_drops.fetch_add(drop.count, std::memory_order_relaxed);
  bool wake = false;
  {
    std::lock_guard lock(q_mu);
    wake = queue.empty();
    queue.emplace_back(drop);  // never refused: a drop report must not be dropped
  }
  if (wake) q_cv.notify_one();
}

void Client::Impl::start_thread() {
  thread = std::thread([self = this] {
    std::deque<Item> batch;
    for (;;) {
      {
        std::unique_lock lock(self->q_mu);
        self->q_cv.wait(lock, [&] { return self->stopping || !self->queue.empty(); });
        // Stopping still hands over what was queued: those events happened.
        if (self->queue.empty()) return;
        batch.swap(self->queue);
      }
      std::lock_guard handlers(self->handlers_mu);
      for (auto& item : batch) {
        if (auto* m = std::get_if<Message>(&item)) {
          self->handler(*m);
          self->delivered.fetch_add(1, std::memory_order_relaxed);
        } else if (self->drop_handler) {
          self->drop_handler(std::get<DropReport>(item));
        }
      }
      batch.clear();
      std::unique_lock lock(self->q_mu);
      // Drops since the last delivered message are said now, not only when
      // the next message comes (there may be none).
      if (self->queue.empty()) self->report_queue_drops_locked();
      bool empty = self->queue.empty();
      lock.unlock();
      if (empty && self->drained_handler) self->drained_handler();
    }
  });
}

void Client::Impl::stop_thread() {
  {
    std::lock_guard lock(q_mu);
    report_queue_drops_locked();
    stopping = true;
  }
  q_cv.notify_all();
  if (thread.joinable()) thread.join();
}

Result<std::unique_ptr<Client>> Client::create(Handler handler, ClientOptions options) {
  if (!handler) return Status::error("a client needs a handler");
  auto hub = detail::Hub::acquire(options);
  if (!hub) return hub.status();
  auto impl = std::make_shared<Impl>(std::move(handler), options.queue_capacity);
  impl->hub = hub.value();
  impl->miss_mode = options.deadline_miss_mode;
  impl->start_thread();
  impl->hub->attach(impl);
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Client::Client(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Client::~Client() {
  impl_->hub->detach(impl_.get());  // after this, no more offers
  if (auto* broker = impl_->hub->broker()) broker->client_gone(impl_.get());
  impl_->stop_thread();
  impl_->hub.reset();  // the last client's going stops the sensors
}

Status Client::subscribe(std::span<const EventType> types) {
  for (EventType t : types)
    if (event_index(t) >= kEventTypes.size()) return Status::error("unknown event type");
  for (EventType t : types) impl_->subscribed[event_index(t)].store(true);
  return impl_->hub->subscriptions_changed();
}

Status Client::unsubscribe(std::span<const EventType> types) {
  for (EventType t : types)
    if (event_index(t) < kEventTypes.size()) impl_->subscribed[event_index(t)].store(false);
  return impl_->hub->subscriptions_changed();
}

Status Client::unsubscribe_all() {
  for (auto& s : impl_->subscribed) s.store(false);
  return impl_->hub->subscriptions_changed();
}

Status Client::respond(const Message& message, AuthResult result, bool cache, ResponseNote note) {
  if (message.action_type != ActionType::Auth || message.auth_id == 0)
    return Status::error("respond: not an AUTH message");
  auto* broker = impl_->hub->broker();
  if (!broker) return Status::error("respond: AUTH is not running");
  Status s = broker->respond(message.auth_id, impl_.get(), result, cache, std::move(note));
  if (s) impl_->auth_answered.fetch_add(1, std::memory_order_relaxed);
  return s;
}

Status Client::respond_flags(const Message& message, uint32_t allowed_flags, bool cache, ResponseNote note) {
  const auto* open = message.as<OpenEvent>();
  if (!open) return Status::error("respond_flags: only for auth_open");
  uint32_t requested = static_cast<uint32_t>(open->fflag);
  AuthResult r = (requested & ~allowed_flags) == 0 ? AuthResult::Allow : AuthResult::Deny;
  return respond(message, r, cache, std::move(note));
}

Status Client::set_deadline_miss_mode(DeadlineMissMode mode) {
  impl_->miss_mode = mode;
  return Status::ok();
}

Status Client::clear_cache() {
  auto* broker = impl_->hub->broker();
  if (broker) broker->clear_cache();
  return Status::ok();
}

Status Client::add_auth_scope(const std::string& path, AuthScope scope) {
  return impl_->hub->add_auth_scope(path, scope);
}

Status Client::remove_auth_scope(const std::string& path, AuthScope scope) {
  return impl_->hub->remove_auth_scope(path, scope);
}

void Client::set_auth_options(const AuthOptions& options) { detail::Hub::set_auth_options(options); }

#define WARD_WITH_MUTES(body)             \
  do {                                    \
    std::lock_guard lock(impl_->mute_mu); \
    impl_->mutes.body;                    \
  } while (0)

Status Client::mute_process(const AuditToken& token) {
  WARD_WITH_MUTES(mute_process(token));
  (void)impl_->hub->mutes_changed();  // the kernel filter follows; user space filters exactly anyway
  return Status::ok();
}
Status Client::unmute_process(const AuditToken& token) {
  WARD_WITH_MUTES(unmute_process(token));
  (void)impl_->hub->mutes_changed();  // the kernel filter follows; user space filters exactly anyway
  return Status::ok();
}
Status Client::mute_path(std::string_view path, MutePathType type) {
  if (path.empty()) return Status::error("mute_path needs a path");
  WARD_WITH_MUTES(mute_path(path, type));
  (void)impl_->hub->mutes_changed();  // the kernel filter follows; user space filters exactly anyway
  return Status::ok();
}
Status Client::unmute_path(std::string_view path, MutePathType type) {
  WARD_WITH_MUTES(unmute_path(path, type));
  (void)impl_->hub->mutes_changed();  // the kernel filter follows; user space filters exactly anyway
  return Status::ok();
}
Status Client::unmute_all_paths() {
  WARD_WITH_MUTES(unmute_all_paths());
  (void)impl_->hub->mutes_changed();  // the kernel filter follows; user space filters exactly anyway
  return Status::ok();
}
Status Client::invert_muting(MuteInversionType type) {
  WARD_WITH_MUTES(set_inverted(type, true));
  (void)impl_->hub->mutes_changed();  // the kernel filter follows; user space filters exactly anyway
  return Status::ok();
}
Status Client::uninvert_muting(MuteInversionType type) {
  WARD_WITH_MUTES(set_inverted(type, false));
  (void)impl_->hub->mutes_changed();  // the kernel filter follows; user space filters exactly anyway
  return Status::ok();
}
#undef WARD_WITH_MUTES

Status Client::mute_process_group_in_kernel(pid_t pgid) { return impl_->hub->mute_pgid(pgid); }
Status Client::mute_process_id_in_kernel(pid_t tgid) { return impl_->hub->mute_tgid(tgid); }

Status Client::set_network_policy(const NetworkPolicy& policy) { return impl_->hub->set_network_policy(&policy); }
Status Client::clear_network_policy() { return impl_->hub->set_network_policy(nullptr); }

void Client::set_drop_handler(DropHandler handler) {
  std::lock_guard lock(impl_->handlers_mu);
  impl_->drop_handler = std::move(handler);
}

void Client::set_drained_handler(std::function<void()> handler) {
  std::lock_guard lock(impl_->handlers_mu);
  impl_->drained_handler = std::move(handler);
}

ClientStats Client::stats() const {
  ClientStats s;
  s.delivered = impl_->delivered.load();
  s.queue_drops = impl_->queue_drops.load();
  s.kernel_drops = impl_->kernel_drops.load();
  s.auth_answered = impl_->auth_answered.load();
  s.auth_missed = impl_->auth_missed.load();
  s.kernel_filtered = impl_->hub->kernel_filtered();
  s.activity_records = impl_->hub->activity_records();
  return s;
}

SensorReport Client::sensors() const { return impl_->hub->report(); }

AuthStats Client::auth_stats() const {
  AuthStats s;
  if (auto* broker = impl_->hub->broker()) {
    const auth::BrokerCounters c = broker->counters();
    s.requests = c.requests;
    s.cache_hits = c.cache_hits;
    s.watchdog_answers = c.watchdog_answers;
    s.allowed = c.allowed;
    s.denied = c.denied;
    s.late_responses = c.late_responses;
    s.pending = broker->pending();
  }
  return s;
}

}  // namespace ward

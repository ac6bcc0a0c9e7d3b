#include "auth/auth_broker.h"

#include <time.h>

namespace ward::auth {
namespace {

uint64_t boottime_ns() {
  timespec t{};
  clock_gettime(CLOCK_BOOTTIME, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(t.tv_nsec);
}

constexpr std::size_t kMaxCacheEntries = 1 << 16;

}  // namespace

Combined combine(const std::vector<Answer>& answers, AuthResult default_result) {
  Combined c;
  bool all_answered = true;
  bool any_allow = false;
  bool allows_cacheable = true;
  bool any_watchdog = false;
  std::string allow_rule, allow_by;
  for (const auto& a : answers) {
    if (!a.result) {
      all_answered = false;
      continue;
    }
    any_watchdog = any_watchdog || a.by_watchdog;
    if (a.note.would_deny) c.would_deny = true;
    if (*a.result == AuthResult::Deny) {
      c.complete = true;
      c.allow = false;
      c.cache = false;
      c.decided_by = a.by_watchdog ? "watchdog" : "client";
      c.rule = a.note.rule;
      return c;
    }
    if (*a.result == AuthResult::Allow) {
      if (!any_allow) {
        allow_rule = a.note.rule;
        allow_by = a.by_watchdog ? "watchdog" : "client";
      }
      any_allow = true;
      allows_cacheable = allows_cacheable && a.cache;
    }
  }
  if (!all_answered) return c;  // still waiting; complete = false
  c.complete = true;
  if (any_allow) {
    c.allow = true;
    c.cache = allows_cacheable && !any_watchdog;
    c.decided_by = allow_by;
    c.rule = allow_rule;
  } else {
    c.allow = default_result != AuthResult::Deny;
    c.decided_by = answers.empty() ? "default" : (any_watchdog ? "watchdog" : "default");
  }
  return c;
}

AuthBroker::AuthBroker(KernelResponder& kernel, AuthOptions options, Decided on_decided,
                       std::function<uint64_t()> clock)
    : kernel_(kernel),
      options_(options),
      on_decided_(std::move(on_decided)),
      clock_(clock ? std::move(clock) : std::function<uint64_t()>(boottime_ns)) {
  watchdog_ = std::thread([this] { watchdog(); });
}

AuthBroker::~AuthBroker() {
  std::vector<Resolution> left;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    // Nothing may stay blocked: answer the rest as their deadlines would.
    for (auto& [id, p] : pending_) {
      for (auto& a : p.answers)
        if (!a.result) {
          a.result = a.miss_mode == DeadlineMissMode::FailClosed ? AuthResult::Deny : AuthResult::Allow;
          a.by_watchdog = true;
        }
      if (!p.expected) {
        Answer fallback;
        fallback.result = p.fallback == DeadlineMissMode::FailClosed ? AuthResult::Deny : AuthResult::Allow;
        fallback.by_watchdog = true;
        p.answers.push_back(fallback);
        p.expected = true;
      }
    }
    std::vector<uint64_t> ids;
    for (auto& [id, p] : pending_) ids.push_back(id);
    for (uint64_t id : ids)
      if (auto r = resolve_if_complete_locked(id)) left.push_back(std::move(*r));
  }
  cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
  for (auto& r : left) finish(std::move(r));
}

bool AuthBroker::try_cache(const Request& request) {
  {
    std::lock_guard lock(mu_);
    ++counters_.requests;
    auto it = cache_.find(request.key);
    if (it == cache_.end() || (it->second & request.mask) == 0) return false;
    ++counters_.cache_hits;
    ++counters_.allowed;
  }
  kernel_.answer(request, true);
  return true;
}

void AuthBroker::open(const Request& request, DeadlineMissMode fallback) {
  std::lock_guard lock(mu_);
  Pending p;
  p.request = request;
  p.fallback = fallback;
  uint64_t margin = static_cast<uint64_t>(options_.deadline_margin_ms) * 1'000'000;
  uint64_t fire = request.deadline_boot_ns > margin ? request.deadline_boot_ns - margin : 0;
  pending_.emplace(request.id, std::move(p));
  bool earliest = timers_.empty() || fire < timers_.begin()->first;
  timers_.emplace(fire, request.id);
  if (earliest) cv_.notify_all();
}

void AuthBroker::expect(uint64_t id, std::string target, std::vector<Answer> clients) {
  std::optional<Resolution> r;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end()) return;  // the watchdog already answered
    Pending& p = it->second;
    p.target = std::move(target);
    p.expected = true;
    for (auto& c : clients) {
      for (auto& e : p.early)
        if (e.client == c.client) {
          c.result = e.result;
          c.cache = e.cache;
          c.note = std::move(e.note);
        }
      p.answers.push_back(std::move(c));
    }
    p.early.clear();
    r = resolve_if_complete_locked(id);
  }
  if (r) finish(std::move(*r));
}

Status AuthBroker::respond(uint64_t id, const void* client, AuthResult result, bool cache,
                           ResponseNote note) {
  std::optional<Resolution> r;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end()) {
      ++counters_.late_responses;
      return Status::error("this AUTH message was already answered (deadline passed or denied)");
    }
    Answer* mine = nullptr;
    for (auto& a : it->second.answers)
      if (a.client == client) mine = &a;
    if (!mine && !it->second.expected) {
      for (const auto& e : it->second.early)
        if (e.client == client) return Status::error("this client already answered this message");
      Answer early;
      early.client = client;
      early.result = result;
      early.cache = cache;
      early.note = std::move(note);
      it->second.early.push_back(std::move(early));
      return Status::ok();
    }
    if (!mine) return Status::error("this client was not asked to answer this message");
    if (mine->result) return Status::error("this client already answered this message");
    mine->result = result;
    mine->cache = cache;
    mine->note = std::move(note);
    r = resolve_if_complete_locked(id);
  }
  if (r) finish(std::move(*r));
  return Status::ok();
}

std::optional<AuthBroker::Resolution> AuthBroker::resolve_if_complete_locked(uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end() || !it->second.expected) return std::nullopt;
  Pending& p = it->second;
  Combined c = combine(p.answers, options_.default_result);
  if (!c.complete) return std::nullopt;

  Resolution r;
  r.request = p.request;
  r.allow = c.allow;
  r.cache = c.allow && c.cache;
  r.event.auth_event_type = static_cast<uint32_t>(p.request.type);
  r.event.target = p.target;
  r.event.result = c.allow ? "allow" : "deny";
  r.event.decided_by = c.decided_by;
  r.event.cached = r.cache;
  r.event.would_deny = c.would_deny;
  r.event.rule = c.rule;
  uint64_t now = clock_();
  r.event.latency_ns = now > p.request.received_boot_ns ? now - p.request.received_boot_ns : 0;
  if (c.allow)
    ++counters_.allowed;
  else
    ++counters_.denied;
  if (r.cache) {
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
    cache_[p.request.key] |= p.request.mask;
  }
  for (auto t = timers_.begin(); t != timers_.end(); ++t)
    if (t->second == id) {
      timers_.erase(t);
      break;
    }
  pending_.erase(it);
  return r;
}

void AuthBroker::finish(Resolution&& r) {
  if (r.cache) kernel_.cache_allow(r.request);
  kernel_.answer(r.request, r.allow);
  if (on_decided_) on_decided_(r.request, std::move(r.event));
}

void AuthBroker::watchdog() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (timers_.empty()) {
      cv_.wait(lock);
      continue;
    }
    uint64_t fire = timers_.begin()->first;
    uint64_t now = clock_();
    if (now < fire) {
      // Sleep in short slices: the clock is CLOCK_BOOTTIME, the condvar's
      // is not, and an earlier timer may arrive meanwhile (notify).
      uint64_t wait_ns = std::min<uint64_t>(fire - now, 5'000'000);
      cv_.wait_for(lock, std::chrono::nanoseconds(wait_ns));
      continue;
    }
    uint64_t id = timers_.begin()->second;
    timers_.erase(timers_.begin());
    auto it = pending_.find(id);
    if (it == pending_.end()) continue;
    Pending& p = it->second;
    for (auto& a : p.answers) {
      if (a.result) continue;
      a.result = a.miss_mode == DeadlineMissMode::FailClosed ? AuthResult::Deny : AuthResult::Allow;
      a.by_watchdog = true;
      ++counters_.watchdog_answers;
      if (a.missed_counter) a.missed_counter->fetch_add(1, std::memory_order_relaxed);
    }
    if (!p.expected) {
      // The hub never got to dispatch it in time.
      Answer fallback;
      fallback.result = p.fallback == DeadlineMissMode::FailClosed ? AuthResult::Deny : AuthResult::Allow;
      fallback.by_watchdog = true;
      ++counters_.watchdog_answers;
      p.answers.push_back(fallback);
      p.expected = true;
    }
    auto r = resolve_if_complete_locked(id);
    if (!r) continue;
    lock.unlock();
    finish(std::move(*r));
    lock.lock();
  }
}

void AuthBroker::client_gone(const void* client) {
  std::vector<Resolution> done;
  {
    std::lock_guard lock(mu_);
    std::vector<uint64_t> touched;
    for (auto& [id, p] : pending_) {
      for (auto& a : p.answers)
        if (a.client == client && !a.result) {
          a.result = AuthResult::Defer;
          touched.push_back(id);
        }
      std::erase_if(p.early, [&](const Answer& e) { return e.client == client; });
    }
    for (uint64_t id : touched)
      if (auto r = resolve_if_complete_locked(id)) done.push_back(std::move(*r));
  }
  for (auto& r : done) finish(std::move(r));
}

void AuthBroker::clear_cache() {
  {
    std::lock_guard lock(mu_);
    cache_.clear();
  }
  kernel_.clear_kernel_cache();
}

BrokerCounters AuthBroker::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

std::size_t AuthBroker::pending() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

}  // namespace ward::auth

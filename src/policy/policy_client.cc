#include "policy/policy_client.h"

#include <tuple>

namespace ward::policy {
namespace {

Access access_of(int32_t fflag) {
  bool r = (fflag & kFflagRead) != 0, w = (fflag & kFflagWrite) != 0;
  if (r && w) return Access::ReadWrite;
  return w ? Access::Write : Access::Read;
}

std::mutex g_observer_mu;
std::function<void(const Policy&)> g_observer;
std::shared_ptr<const Policy> g_in_force;

void policy_in_force(const std::shared_ptr<const Policy>& policy) {
  std::lock_guard lock(g_observer_mu);
  g_in_force = policy;
  if (g_observer) g_observer(*policy);
}

}  // namespace

void PolicyClient::observe_policies(std::function<void(const Policy&)> listener) {
  std::lock_guard lock(g_observer_mu);
  g_observer = std::move(listener);
  if (g_observer && g_in_force) g_observer(*g_in_force);
}

Result<std::unique_ptr<PolicyClient>> PolicyClient::create(Policy policy, ClientOptions options) {
  std::unique_ptr<PolicyClient> self(new PolicyClient());
  PolicyClient* raw = self.get();
  self->policy_ = std::make_shared<const Policy>(std::move(policy));
  auto client = Client::create([raw](const Message& m) { raw->decide(m); }, options);
  if (!client) return client.status();
  self->client_ = std::move(client.value());
  if (Status s = self->apply_network_rules(*self->policy_); !s) return s;
  if (Status s = self->subscribe_for(*self->policy_); !s) return s;
  policy_in_force(self->policy_);
  return self;
}

Status PolicyClient::subscribe_for(const Policy& p) {
  // Exec is asked about only when a rule or lockdown can say no; open only
  // when a file rule exists: each subscription costs a round trip per event.
  bool exec = p.mode == Mode::Lockdown || !p.binary_rules.empty();
  bool open = !p.file_rules.empty();
  if (Status s = client_->unsubscribe({EventType::AuthExec, EventType::AuthOpen}); !s) return s;
  std::vector<EventType> types;
  if (exec) types.push_back(EventType::AuthExec);
  if (open) types.push_back(EventType::AuthOpen);
  if (types.empty()) return Status::ok();
  return client_->subscribe(types);
}

std::shared_ptr<const Policy> PolicyClient::policy() const {
  std::lock_guard lock(mu_);
  return policy_;
}

namespace {
bool same_rules(const std::vector<NetworkRule>& a, const std::vector<NetworkRule>& b) {
  auto key = [](const NetworkRule& r) {
    return std::tie(r.name, r.direction, r.protocol, r.cidr, r.port_lo, r.port_hi, r.executable, r.sha256);
  };
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (key(a[i]) != key(b[i])) return false;
  return true;
}
}  // namespace

Status PolicyClient::apply_network_rules(const Policy& p) {
  // A reload that leaves them as they are must not touch the kernel's table
  // (rewriting it opens a moment in which nothing is denied).
  if (network_rules_set_ && p.network_cgroup == applied_cgroup_ && same_rules(p.network_rules, applied_rules_))
    return Status::ok();
  if (p.network_rules.empty()) {
    if (!network_rules_set_) return Status::ok();
    if (Status s = client_->clear_network_policy(); !s) return s;
    network_rules_set_ = false;
    applied_rules_.clear();
    return Status::ok();
  }
  NetworkPolicy network{p.network_cgroup, p.network_rules};
  if (Status s = client_->set_network_policy(network); !s) {
    return Status::error((p.source.empty() ? std::string("policy") : p.source) + ": network rules: " + s.message());
  }
  network_rules_set_ = true;
  applied_rules_ = p.network_rules;
  applied_cgroup_ = p.network_cgroup;
  return Status::ok();
}

Status PolicyClient::set_policy(Policy policy) {
  auto next = std::make_shared<const Policy>(std::move(policy));
  if (Status s = apply_network_rules(*next); !s) return s;  // the old policy stays in force
  {
    std::lock_guard lock(mu_);
    policy_ = next;
  }
  client_->clear_cache();  // allows cached under the old rules may not hold
  policy_in_force(next);
  return subscribe_for(*next);
}

Status PolicyClient::reload(const std::string& path) {
  auto parsed = load_policy_file(path);
  if (!parsed) return parsed.status();
  return set_policy(std::move(parsed.value()));
}

void PolicyClient::decide(const Message& m) {
  auto p = policy();
  Verdict v;
  if (const auto* exec = m.as<ExecEvent>()) {
    v = evaluate_exec(*p, *exec->target);
  } else if (const auto* open = m.as<OpenEvent>()) {
    v = evaluate_open(*p, *m.process, open->file.path, access_of(open->fflag));
  } else {
    return;
  }
  bool allow = v.decision == Verdict::Decision::Allow;
  client_->respond(m, allow ? AuthResult::Allow : AuthResult::Deny, allow && v.cacheable,
                   ResponseNote{v.rule_id, v.would_deny});
}

}  // namespace ward::policy

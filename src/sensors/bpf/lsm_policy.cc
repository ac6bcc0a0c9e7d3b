#include "sensors/bpf/lsm_policy.h"

#include "ward_guard_wire.h"

namespace ward::sensors::bpf {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

LsmExecPlan lsm_exec_plan(const policy::Policy& policy) {
  LsmExecPlan plan;
  plan.mode = policy.mode == policy::Mode::Lockdown ? WARD_EXEC_ENFORCE : WARD_EXEC_MONITOR;
  bool only_hashes = true;
  for (const auto& rule : policy.binary_rules) {
    if (rule.kind != policy::BinaryRule::Kind::Sha256) {
      only_hashes = false;
      continue;
    }
    LsmExecRule r;
    bool ok = rule.value.size() == 64;  // validated and lowercased by the parser
    for (std::size_t i = 0; ok && i < 32; ++i) {
      int hi = hex_value(rule.value[2 * i]), lo = hex_value(rule.value[2 * i + 1]);
      ok = hi >= 0 && lo >= 0;
      r.sha256[i] = static_cast<uint8_t>(hi * 16 + lo);
    }
    if (!ok) continue;
    switch (rule.policy) {
      case policy::BinaryPolicy::Allow:
        r.policy = WARD_EXEC_RULE_ALLOW;
        break;
      case policy::BinaryPolicy::Block:
        r.policy = WARD_EXEC_RULE_BLOCK;
        break;
      case policy::BinaryPolicy::SilentBlock:
        r.policy = WARD_EXEC_RULE_SILENT_BLOCK;
        break;
    }
    r.index = static_cast<uint32_t>(plan.rule_ids.size());
    plan.rule_ids.push_back(rule.id);
    plan.rules.push_back(r);
  }
  plan.complete = only_hashes && policy.mode == policy::Mode::Monitor;
  return plan;
}

}  // namespace ward::sensors::bpf

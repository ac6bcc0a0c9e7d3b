// What of a policy the BPF LSM decides in the kernel: its sha256 binary
// rules. They are the first step of evaluate_exec (policy.h), so a hash rule's
// verdict is the policy's whatever the other rules say — the kernel can apply
// it alone. Path, package and platform rules and lockdown's default deny stay
// with the fanotify AUTH path on the scopes configured.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "policy/policy.h"
#include "sensors/bpf/lsm_sensor.h"

namespace ward::sensors::bpf {

struct LsmExecPlan {
  std::vector<LsmExecRule> rules;     // one per sha256 rule, in file order
  std::vector<std::string> rule_ids;  // by LsmExecRule::index
  uint32_t mode = 0;                  // WARD_EXEC_ENFORCE in lockdown, WARD_EXEC_MONITOR in monitor
  // True when the kernel's verdicts are the whole binary policy: every rule
  // is a sha256 rule and nothing is denied by default (monitor mode).
  bool complete = false;
};

LsmExecPlan lsm_exec_plan(const policy::Policy& policy);

}  // namespace ward::sensors::bpf

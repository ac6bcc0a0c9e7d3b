// The policy engine as a Ward client: answers AUTH_EXEC and AUTH_OPEN from
// the policy in force. A new policy replaces the old one only once it has
// parsed and validated; until then the old one keeps deciding.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "policy/policy.h"
#include "ward/client.h"

namespace ward::policy {

class PolicyClient {
 public:
  static Result<std::unique_ptr<PolicyClient>> create(Policy policy, ClientOptions options = {});

  // Validates `path` and, if good, makes it the policy in force (and forgets
  // cached decisions, which the old policy made). On error the old policy
  // stays and the error names the file and line.
  Status reload(const std::string& path);
  Status set_policy(Policy policy);
  std::shared_ptr<const Policy> policy() const;
  Client& client() { return *client_; }

  // Process-wide: `listener` is called with every policy that comes into
  // force in a PolicyClient of this process (created, set_policy, reload),
  // and at once with the one in force now. Used to mirror the policy into
  // the kernel (the BPF LSM's exec rules). One listener; a new one replaces it.
  static void observe_policies(std::function<void(const Policy&)> listener);

 private:
  PolicyClient() = default;
  void decide(const Message& m);
  Status subscribe_for(const Policy& p);
  // The network rules go to the kernel (cgroup sock programs); on failure the
  // rules in force stay.
  Status apply_network_rules(const Policy& p);

  mutable std::mutex mu_;
  std::shared_ptr<const Policy> policy_;
  std::unique_ptr<Client> client_;
  bool network_rules_set_ = false;
  std::vector<NetworkRule> applied_rules_;  // what the kernel has, to skip unchanged reloads
  std::string applied_cgroup_;
};

}  // namespace ward::policy

// Network AUTH in the kernel (ward/network_policy.h): bpf/net_auth.bpf.c's
// cgroup connect4/6 and bind4/6 programs, attached to one cgroup, deciding
// against the deny rules this class writes into their maps. Its ring buffer
// carries the denials, decoded into auth_result events.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sensors/bpf/activity_sensor.h"
#include "ward/network_policy.h"
#include "ward/process.h"

struct bpf_link;
struct net_auth_bpf;

namespace ward::sensors::bpf {

class NetworkRules final : public ActivitySensor {
 public:
  explicit NetworkRules(std::string cgroup_path);
  ~NetworkRules() override;

  const std::string& cgroup() const { return cgroup_; }
  // Validates every rule first: on an error nothing changes.
  Status set_rules(const std::vector<NetworkRule>& rules);
  // A process image the tree just identified: sha256 rules learn its file.
  void on_exec(const Process& process);

 protected:
  bpf_object* open_skeleton() override;
  int load_skeleton() override;
  int attach_skeleton() override;
  void destroy_skeleton() override;
  void on_event(RawEvent& event) override;

 private:
  void learn_file(const FileStat& stat, const std::string& sha256);
  void scan_running_processes();
  void bump_generation();

  std::string cgroup_;
  net_auth_bpf* skel_ = nullptr;
  std::vector<bpf_link*> links_;
  std::map<uint32_t, std::string> rule_names_;       // rule id -> name
  std::map<std::string, uint64_t> sha_bits_;         // sha256 -> identity bit
  std::set<std::pair<uint64_t, uint64_t>> learned_;  // (dev, ino) already in the map
  uint64_t generation_ = 0;
};

// Parses "10.0.0.0/8", "192.0.2.1", "::1/128" into family, 16 address bytes
// and a prefix length; false when it is not a CIDR.
bool parse_cidr(const std::string& text, uint16_t* family, uint8_t addr[16], uint32_t* prefix_len);

}  // namespace ward::sensors::bpf

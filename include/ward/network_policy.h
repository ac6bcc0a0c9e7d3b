// Network AUTH decided in the kernel (Ward extension: ES has no network
// AUTH). Deny rules for outgoing connects and binds, by process identity,
// address, port and protocol, enforced by cgroup sock programs attached to
// one cgroup v2 directory (its processes and their descendants): a denied
// connect or bind fails with EPERM and is reported as an auth_result event
// (decided_by "kernel", rule = the rule's name). Anything no rule denies is
// allowed, without a user-space round trip.
//
//   ward::NetworkPolicy policy{"/sys/fs/cgroup/unified/app", {{.name = "no-smtp", .port_lo = 25}}};
//   client->set_network_policy(policy);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ward {

enum class NetworkDirection : uint8_t { Connect = 1, Bind = 2, Both = 3 };
enum class NetworkProtocol : uint8_t { Any = 0, Tcp = 6, Udp = 17 };

struct NetworkRule {
  std::string name;  // reported as auth_result.rule
  NetworkDirection direction = NetworkDirection::Connect;
  NetworkProtocol protocol = NetworkProtocol::Any;
  // Destination (connect) or bound (bind) address: "" = any, "10.0.0.0/8",
  // "192.0.2.1" (a /32), "2001:db8::/32", "::1". An IPv4 CIDR matches only
  // IPv4 sockets, an IPv6 one only IPv6.
  std::string cidr;
  uint16_t port_lo = 0;  // 0 = any port
  uint16_t port_hi = 0;  // 0 = port_lo only
  // Process identity; unset = any process. The executable path is compared
  // in the kernel. sha256 (lowercase hex) is compared by user space when it
  // hashes an executable (at exec, and for processes already running when
  // the policy is set): a program's very first connect can come before its
  // hash is known and is then decided without the sha256 rule.
  std::optional<std::string> executable;
  std::optional<std::string> sha256;
};

struct NetworkPolicy {
  // cgroup v2 directory the programs attach to, e.g. "/sys/fs/cgroup" or
  // "/sys/fs/cgroup/unified/ward-test". Required.
  std::string cgroup;
  std::vector<NetworkRule> rules;  // at most 64
};

}  // namespace ward

// The guard records (bpf/ward_guard_wire.h) of the BPF LSM and the tamper
// recorder, turned into auth_result events: the kernel names a file by its
// inode and a rule by its index, and GuardNames knows what user space
// registered under them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sensors/raw_event.h"

struct ward_guard_rec;

namespace ward::sensors::bpf {

// The rule id auth_result events carry for self-protection decisions.
inline constexpr std::string_view kSelfProtectionRule = "ward-self-protection";

// Thread-safe: filled by the self-protection code, read by the hub's loop.
class GuardNames {
 public:
  void set_agent(pid_t tgid, std::string exe_path);
  // `kernel_dev` as the kernel's s_dev (see kernel_dev_of).
  void add_inode(uint64_t kernel_dev, uint64_t ino, std::string path);
  void clear_inodes();
  void set_rules(std::vector<std::string> rule_ids);  // by index

  std::string path_of(uint64_t kernel_dev, uint64_t ino) const;  // "" when unknown
  std::string rule_of(int32_t index) const;
  std::string agent_path() const;
  pid_t agent_tgid() const;

 private:
  mutable std::mutex mu_;
  pid_t agent_tgid_ = 0;
  std::string agent_path_;
  std::map<std::pair<uint64_t, uint64_t>, std::string> inodes_;
  std::vector<std::string> rules_;
};

// stat()'s st_dev as the kernel's internal dev_t (MAJOR << 20 | MINOR).
uint64_t kernel_dev_of(dev_t user_dev);

// "SIGKILL", or "signal 42".
std::string signal_name(int sig);

// Where a record came from, for auth_result.decided_by: "lsm" for the BPF
// LSM's decisions; the recorder's "observed" records happened unopposed.
struct DecodedGuard {
  RawNotify notify;         // NotifyAuthResult with an AuthResultEvent payload
  uint32_t kind = 0;        // enum ward_guard_kind
  uint32_t verdict = 0;     // enum ward_guard_verdict
  uint32_t target_tgid = 0; // signal / ptrace: the agent the record was about
  std::string description;  // one line for the agent's log
};

// nullopt when the record is malformed (wrong size, unknown kind).
std::optional<DecodedGuard> decode_guard_record(std::span<const uint8_t> data, const GuardNames& names,
                                                std::string_view decided_by);

}  // namespace ward::sensors::bpf

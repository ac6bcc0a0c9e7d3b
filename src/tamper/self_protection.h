// Ward protects itself (anti-tamper), on by default in wardd:
//
//  - its files (binaries, config, policy; store and logs, which the agent
//    itself writes) cannot be changed by any other process:
//      BPF LSM kernels: write-open, truncate, chmod/chown, unlink, rename and
//        hard link are denied (EPERM) in the kernel;
//      elsewhere: write-opens are denied through fanotify, and with
//        `immutable` the files the agent never writes also carry the
//        immutable attribute (unlink/rename/link/truncate → EPERM), put back
//        when removed;
//  - signals that would stop the agent and ptrace attaches to it are denied
//    by the BPF LSM where it exists, and recorded (tp_btf/signal_generate,
//    a history pinned in bpffs that outlives the agent) everywhere;
//  - Ward's BPF maps and programs cannot be opened by others (LSM);
//  - the sha256 rules of the policy in force are enforced in the kernel
//    (LSM exec hook), whatever the AUTH scopes.
//
// `ward unlock <token>` (tamper/unlock.h) lifts all of it until restart.
// Every denial and record is an auth_result event (rule
// "ward-self-protection…", decided_by lsm | fanotify | recorder) and a line
// on the agent's stderr.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "policy/policy.h"
#include "ward/client.h"
#include "ward/status.h"

namespace ward::tamper {

struct SelfProtectionOptions {
  bool enabled = true;
  // Files the agent never writes (config; its binaries are added by itself).
  std::vector<std::string> files;
  // Files the agent replaces itself (the policy: an edit renames a new file
  // over it): protected like `files` but never made immutable.
  std::vector<std::string> agent_edited;
  // Directories whose entries the agent writes (store, logs, spool); for a
  // file, its directory.
  std::vector<std::string> agent_written;
  bool immutable = false;     // kernels without the BPF LSM: also set FS_IMMUTABLE_FL
  std::string unlock_sha256;  // hex sha256 of the unlock token; "" = no unlock possible
  std::string unlock_socket = "/run/ward/unlock.sock";
  std::string bpf_pin_dir = "/sys/fs/bpf/ward";  // the tamper history; "" = not pinned
  bool use_lsm = true;                           // false: the fanotify path even where the LSM exists
};

class SelfProtection {
 public:
  // Joins the process's hub (`hub_options` as the agent's clients use).
  static Result<std::unique_ptr<SelfProtection>> start(SelfProtectionOptions options,
                                                       const ClientOptions& hub_options = {});
  ~SelfProtection();  // a clean stop: lifts what it set (attributes, guards, pins)

  // "self-protection: …" lines for the agent's startup log: which path is
  // active for files, signals, ptrace and exec rules, and why not the LSM.
  std::vector<std::string> status_lines() const;
  bool lsm_active() const;

  // The authenticated unlock; `who` is logged.
  Status unlock(std::string_view token, std::string_view who);
  bool unlocked() const { return unlocked_; }

  // Paths are protected by inode: after the agent replaced one of its own
  // files (a policy edit renames a new file over the old), call this.
  void refresh();

  // Reports what the tamper recorder kept from earlier agents (a kill -9
  // that could not be denied); call once the agent's outputs subscribe.
  void release_history();

  SelfProtection(const SelfProtection&) = delete;
  SelfProtection& operator=(const SelfProtection&) = delete;

 private:
  struct State;
  SelfProtection();
  void apply_policy(const policy::Policy& policy);
  void protect_paths();

  std::unique_ptr<State> state_;
  std::atomic<bool> unlocked_{false};
};

}  // namespace ward::tamper

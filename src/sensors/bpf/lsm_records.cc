#include "sensors/bpf/lsm_records.h"

#include <string.h>
#include <sys/sysmacros.h>

#include <cstdio>
#include <cstring>

#include "ward_guard_wire.h"

namespace ward::sensors::bpf {
namespace {

// ES numbers of the AUTH event each kind corresponds to (Apple's
// es_event_type_t: AUTH_OPEN 1, AUTH_RENAME 6, AUTH_SIGNAL 7, AUTH_UNLINK 8,
// AUTH_TRUNCATE 40, AUTH_LINK 42, AUTH_SETMODE 48; ptrace has only
// NOTIFY_TRACE 96, BPF objects Ward's bpf 1004).
uint32_t es_number_of(uint32_t kind) {
  switch (kind) {
    case WARD_GUARD_EXEC:
      return 0;
    case WARD_GUARD_OPEN_WRITE:
      return 1;
    case WARD_GUARD_UNLINK:
      return 8;
    case WARD_GUARD_RENAME:
      return 6;
    case WARD_GUARD_LINK:
      return 42;
    case WARD_GUARD_TRUNCATE:
      return 40;
    case WARD_GUARD_SETATTR:
      return 48;
    case WARD_GUARD_SIGNAL:
      return 7;
    case WARD_GUARD_PTRACE:
      return 96;
    case WARD_GUARD_BPF_OBJECT:
      return 1004;
  }
  return 0;
}

std::string_view kind_name(uint32_t kind) {
  switch (kind) {
    case WARD_GUARD_EXEC:
      return "exec";
    case WARD_GUARD_OPEN_WRITE:
      return "write-open";
    case WARD_GUARD_UNLINK:
      return "unlink";
    case WARD_GUARD_RENAME:
      return "rename";
    case WARD_GUARD_LINK:
      return "hard link";
    case WARD_GUARD_TRUNCATE:
      return "truncate";
    case WARD_GUARD_SETATTR:
      return "chmod/chown";
    case WARD_GUARD_SIGNAL:
      return "signal";
    case WARD_GUARD_PTRACE:
      return "ptrace";
    case WARD_GUARD_BPF_OBJECT:
      return "bpf object fd";
  }
  return "unknown";
}

std::string_view verdict_text(uint32_t verdict) {
  switch (verdict) {
    case WARD_GUARD_DENIED:
      return "denied";
    case WARD_GUARD_WOULD_DENY:
      return "would deny (monitor)";
    case WARD_GUARD_OBSERVED:
      return "NOT denied (no hook can deny it on this kernel), recorded";
    case WARD_GUARD_UNLOCKED:
      return "allowed (unlocked)";
  }
  return "?";
}

template <std::size_t N>
std::string bounded(const char (&text)[N]) {
  return std::string(text, strnlen(text, N));
}

}  // namespace

void GuardNames::set_agent(pid_t tgid, std::string exe_path) {
  std::lock_guard lock(mu_);
  agent_tgid_ = tgid;
  agent_path_ = std::move(exe_path);
}

void GuardNames::add_inode(uint64_t kernel_dev, uint64_t ino, std::string path) {
  std::lock_guard lock(mu_);
  inodes_[{kernel_dev, ino}] = std::move(path);
}

void GuardNames::clear_inodes() {
  std::lock_guard lock(mu_);
  inodes_.clear();
}

void GuardNames::set_rules(std::vector<std::string> rule_ids) {
  std::lock_guard lock(mu_);
  rules_ = std::move(rule_ids);
}

std::string GuardNames::path_of(uint64_t kernel_dev, uint64_t ino) const {
  std::lock_guard lock(mu_);
  auto it = inodes_.find({kernel_dev, ino});
  return it == inodes_.end() ? std::string() : it->second;
}

std::string GuardNames::rule_of(int32_t index) const {
  std::lock_guard lock(mu_);
  if (index < 0 || static_cast<std::size_t>(index) >= rules_.size()) return {};
  return rules_[static_cast<std::size_t>(index)];
}

std::string GuardNames::agent_path() const {
  std::lock_guard lock(mu_);
  return agent_path_;
}

pid_t GuardNames::agent_tgid() const {
  std::lock_guard lock(mu_);
  return agent_tgid_;
}

uint64_t kernel_dev_of(dev_t user_dev) {
  return (static_cast<uint64_t>(major(user_dev)) << 20) | minor(user_dev);
}

std::string signal_name(int sig) {
  static constexpr const char* kNames[] = {
      nullptr,   "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",    "SIGTRAP", "SIGABRT", "SIGBUS",
      "SIGFPE",  "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",   "SIGPIPE", "SIGALRM", "SIGTERM",
      "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",   "SIGTTIN", "SIGTTOU", "SIGURG",
      "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH",  "SIGIO",   "SIGPWR",  "SIGSYS"};
  if (sig > 0 && static_cast<std::size_t>(sig) < std::size(kNames)) return kNames[sig];
  return "signal " + std::to_string(sig);
}

std::optional<DecodedGuard> decode_guard_record(std::span<const uint8_t> data, const GuardNames& names,
                                                std::string_view decided_by) {
  if (data.size() < sizeof(ward_guard_rec)) return std::nullopt;
  ward_guard_rec r;
  std::memcpy(&r, data.data(), sizeof(r));
  if (r.kind < WARD_GUARD_EXEC || r.kind > WARD_GUARD_BPF_OBJECT) return std::nullopt;

  DecodedGuard out;
  out.kind = r.kind;
  out.verdict = r.verdict;
  out.target_tgid = r.target_tgid;
  RawNotify& n = out.notify;
  n.type = EventType::NotifyAuthResult;
  n.boot_ns = r.boot_ns;
  n.tid = static_cast<pid_t>(r.tid);
  n.proc.tgid = static_cast<pid_t>(r.tgid);
  n.proc.ppid = static_cast<pid_t>(r.ppid);
  n.proc.ruid = r.ruid;
  n.proc.euid = r.euid;
  n.proc.start_boot_ns = r.start_boot_ns;
  n.proc.comm = bounded(r.comm);

  AuthResultEvent e;
  e.auth_event_type = es_number_of(r.kind);
  e.decided_by = r.verdict == WARD_GUARD_OBSERVED ? "recorder" : std::string(decided_by);
  e.result = r.verdict == WARD_GUARD_DENIED ? "deny" : "allow";
  e.would_deny = r.verdict == WARD_GUARD_WOULD_DENY || r.verdict == WARD_GUARD_OBSERVED;

  std::string what;
  switch (r.kind) {
    case WARD_GUARD_EXEC:
      e.target = bounded(r.path);
      if (e.target.empty()) e.target = names.path_of(r.dev, r.ino);
      e.rule = names.rule_of(r.rule_index);
      what = "exec of " + e.target + (e.rule.empty() ? "" : " (rule " + e.rule + ")");
      break;
    case WARD_GUARD_SIGNAL:
      e.target = names.agent_path();
      e.rule = std::string(kSelfProtectionRule) + ":" + signal_name(r.arg);
      what = signal_name(r.arg) + " to the agent (pid " + std::to_string(r.target_tgid) + ")";
      break;
    case WARD_GUARD_PTRACE:
      e.target = names.agent_path();
      e.rule = std::string(kSelfProtectionRule) + ":ptrace";
      what = "ptrace/memory access to the agent (pid " + std::to_string(r.target_tgid) + ")";
      break;
    case WARD_GUARD_BPF_OBJECT:
      e.target = (r.dev ? "bpf map " : "bpf program ") + std::to_string(r.arg);
      e.rule = std::string(kSelfProtectionRule);
      what = "an fd to Ward's " + e.target;
      break;
    default: {
      // A protected file, or an entry of a protected directory.
      // A user-space guard knows the whole path; the kernel names the inode.
      std::string base = bounded(r.path);
      if (!base.empty()) r.name[0] = 0;
      if (base.empty()) base = names.path_of(r.dev, r.ino);
      std::string name = bounded(r.name);
      if (base.empty()) base = "inode " + std::to_string(r.ino);
      e.target = base;
      if (!name.empty() && base.size() >= name.size() &&
          base.compare(base.size() - name.size(), name.size(), name) != 0)
        e.target = base + "/" + name;
      e.rule = std::string(kSelfProtectionRule);
      what = std::string(kind_name(r.kind)) + " of " + e.target;
    }
  }
  n.targets.push_back(e.target);
  char by[128];
  std::snprintf(by, sizeof(by), " by pid %u (%s, uid %u)", r.tgid, n.proc.comm.c_str(), r.euid);
  out.description = std::string(r.kind == WARD_GUARD_EXEC ? "policy: " : "tamper: ") + what + by + ": " +
                    std::string(verdict_text(r.verdict));
  n.payload = std::move(e);
  return out;
}

}  // namespace ward::sensors::bpf

#include "process/process_tree.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

namespace ward::process {
namespace {

uint64_t tick_ns() {
  static const uint64_t kTick = [] {
    long hz = sysconf(_SC_CLK_TCK);
    return static_cast<uint64_t>(1'000'000'000 / (hz > 0 ? hz : 100));
  }();
  return kTick;
}

// /proc reports start times in clock ticks (floored), the kernel in ns.
bool same_start(uint64_t a, bool a_ticks, uint64_t b, bool b_ticks) {
  if (a_ticks || b_ticks) return a / tick_ns() == b / tick_ns();
  return a == b;
}

AuditToken token_of(const sensors::RawProc& p, uint32_t version) {
  AuditToken t;
  t.pid = p.tgid;
  t.pidversion = version;
  t.ruid = p.ruid;
  t.euid = p.euid;
  t.rgid = p.rgid;
  t.egid = p.egid;
  t.auid = p.auid;
  t.asid = p.sessionid;
  return t;
}

}  // namespace

ProcessTree::ProcessTree(ExeIdentifier* identifier, int64_t boot_to_realtime_ns)
    : identifier_(identifier), boot_to_realtime_ns_(boot_to_realtime_ns) {}

Process ProcessTree::base_from(const sensors::RawProc& proc) const {
  Process p;
  p.audit_token = token_of(proc, 0);
  p.ppid = proc.ppid;
  p.original_ppid = proc.ppid;
  p.group_id = proc.pgid;
  p.session_id = proc.sid;
  p.tty = proc.tty;
  p.comm = proc.comm;
  p.start_time = WallTime{boot_to_realtime(proc.start_boot_ns)};
  if (auto parent = find(proc.ppid)) p.parent_audit_token = parent->audit_token;
  return p;
}

void ProcessTree::identify(Process& p, const std::optional<FileStat>& expected) const {
  if (!identifier_ || p.executable.path.empty()) return;
  ExeIdentity id = identifier_->identify(p.executable.path, expected);
  p.sha256 = std::move(id.sha256);
  p.package = std::move(id.package);
  p.is_platform_binary = id.is_platform_binary;
}

void ProcessTree::seed(ProcFs& procfs) {
  std::vector<ProcSnapshot> snaps;
  for (pid_t pid : procfs.list_pids()) {
    if (live_.count(pid)) continue;
    if (auto snap = procfs.read(pid)) snaps.push_back(std::move(*snap));
  }
  // Parents before children, so parent tokens resolve: a parent started first.
  std::sort(snaps.begin(), snaps.end(), [](const ProcSnapshot& a, const ProcSnapshot& b) {
    return a.proc.start_boot_ns != b.proc.start_boot_ns ? a.proc.start_boot_ns < b.proc.start_boot_ns
                                                        : a.proc.tgid < b.proc.tgid;
  });
  for (auto& snap : snaps) {
    Process p = base_from(snap.proc);
    p.audit_token.pidversion = next_version();
    p.executable.path = snap.exe_path;
    p.executable.stat = snap.exe_stat;
    identify(p, snap.exe_stat);
    live_[snap.proc.tgid] =
        Entry{std::make_shared<const Process>(std::move(p)), snap.proc.start_boot_ns, true};
  }
}

ProcessTree::Entry* ProcessTree::instance_of(const sensors::RawProc& proc) {
  auto it = live_.find(proc.tgid);
  if (it == live_.end()) return nullptr;
  Entry& e = it->second;
  if (proc.start_boot_ns != 0 &&
      !same_start(e.start_boot_ns, e.start_from_ticks, proc.start_boot_ns, proc.start_from_ticks))
    return nullptr;
  return &e;
}

void ProcessTree::refresh(Entry& entry, const sensors::RawProc& proc) {
  const Process& cur = *entry.process;
  AuditToken token = token_of(proc, cur.audit_token.pidversion);
  bool changed = token != cur.audit_token || proc.ppid != cur.ppid || proc.pgid != cur.group_id ||
                 proc.sid != cur.session_id || (!proc.comm.empty() && proc.comm != cur.comm);
  if (!changed) return;
  auto next = std::make_shared<Process>(cur);
  next->audit_token = token;
  if (proc.ppid != cur.ppid) {
    // Reparented (the parent died): original_ppid keeps the parent at fork.
    next->ppid = proc.ppid;
    auto parent = find(proc.ppid);
    next->parent_audit_token = parent ? std::optional(parent->audit_token) : std::nullopt;
  }
  next->group_id = proc.pgid;
  next->session_id = proc.sid;
  if (!proc.comm.empty()) next->comm = proc.comm;
  entry.process = std::move(next);
}

ProcessTree::Entry& ProcessTree::adopt(const sensors::RawProc& proc) {
  Process p = base_from(proc);
  p.audit_token.pidversion = next_version();
  Entry& e = live_[proc.tgid];
  e = Entry{std::make_shared<const Process>(std::move(p)), proc.start_boot_ns, proc.start_from_ticks};
  return e;
}

ProcessTree::ExecChange ProcessTree::on_exec(const sensors::RawExec& exec) {
  Entry* entry = instance_of(exec.proc);
  if (!entry) entry = &adopt(exec.proc);
  // The caller of execve as it was; credentials may change with the new image
  // (setuid), so `before` keeps the old ones.
  ProcessPtr before = entry->process;

  auto after = std::make_shared<Process>(*before);
  after->audit_token = token_of(exec.proc, next_version());
  after->ppid = exec.proc.ppid;
  after->group_id = exec.proc.pgid;
  after->session_id = exec.proc.sid;
  after->tty = exec.proc.tty;
  after->comm = exec.proc.comm;
  if (after->ppid != before->ppid) {
    auto parent = find(after->ppid);
    after->parent_audit_token = parent ? std::optional(parent->audit_token) : std::nullopt;
  }
  after->executable = File{exec.exe_path, exec.exe_path_truncated, exec.exe_stat};
  after->sha256.reset();
  after->package.reset();
  after->is_platform_binary = false;
  identify(*after, exec.exe_stat);
  after->ancestors.clear();
  entry->process = after;

  // The target carries its ancestry; the stored image does not (it would be
  // repeated in every later event of this process).
  auto target = std::make_shared<Process>(*after);
  target->ancestors = ancestry(after->ppid);
  return {std::move(before), std::move(target)};
}

ProcessTree::ForkChange ProcessTree::on_fork(const sensors::RawFork& fork) {
  sensors::RawProc parent_proc = fork.child;  // a child starts with its parent's credentials
  parent_proc.tgid = fork.parent_tgid;
  parent_proc.start_boot_ns = fork.parent_start_boot_ns;
  parent_proc.ppid = 0;
  Entry* parent = instance_of(parent_proc);
  if (!parent) parent = &adopt(parent_proc);
  ProcessPtr parent_snapshot = parent->process;

  auto child = std::make_shared<Process>(*parent_snapshot);
  child->audit_token = token_of(fork.child, next_version());
  // Usually the forker; with CLONE_PARENT the forker's own parent.
  child->ppid = fork.child.ppid > 0 ? fork.child.ppid : fork.parent_tgid;
  child->original_ppid = child->ppid;
  child->group_id = fork.child.pgid;
  child->session_id = fork.child.sid;
  child->tty = fork.child.tty;
  child->start_time = WallTime{boot_to_realtime(fork.child.start_boot_ns)};
  auto real_parent = child->ppid == fork.parent_tgid ? parent_snapshot : find(child->ppid);
  child->parent_audit_token = real_parent ? std::optional(real_parent->audit_token) : std::nullopt;
  child->ancestors.clear();
  // A stale entry under this pid is a process whose exit we missed.
  live_[fork.child.tgid] = Entry{child, fork.child.start_boot_ns, fork.child.start_from_ticks};
  return {std::move(parent_snapshot), std::move(child)};
}

ProcessPtr ProcessTree::on_exit(const sensors::RawExit& exit) {
  Entry* entry = instance_of(exit.proc);
  if (!entry) entry = &adopt(exit.proc);
  refresh(*entry, exit.proc);
  ProcessPtr gone = entry->process;
  live_.erase(exit.proc.tgid);
  return gone;
}

ProcessPtr ProcessTree::instigator(const sensors::RawProc& proc) {
  Entry* entry = instance_of(proc);
  if (!entry) entry = &adopt(proc);
  refresh(*entry, proc);
  return entry->process;
}

ProcessPtr ProcessTree::find(pid_t pid) const {
  auto it = live_.find(pid);
  return it == live_.end() ? nullptr : it->second.process;
}

std::vector<Ancestor> ProcessTree::ancestry(pid_t ppid, std::size_t max_depth) const {
  std::vector<Ancestor> out;
  pid_t pid = ppid;
  while (pid > 0 && out.size() < max_depth) {
    auto p = find(pid);
    if (!p) break;
    out.push_back(Ancestor{p->audit_token, p->executable.path});
    if (pid == 1 || p->ppid == pid) break;
    pid = p->ppid;
  }
  return out;
}

}  // namespace ward::process

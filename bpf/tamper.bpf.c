// SPDX-License-Identifier: GPL-2.0
/* Ward's tamper recorder: signals that would stop the agent and ptrace
 * attaches to it, recorded on every kernel that has tp_btf (no LSM needed).
 * Where the BPF LSM is missing nothing can deny them; this at least writes
 * down who did it, in the kernel, before the signal takes effect.
 *
 * Records go to a ring buffer for the running agent and, in the kernel
 * before the signal takes effect, into a small history that user space pins
 * in bpffs: the record of the SIGKILL that ended one wardd is still there for
 * the next one (started by its supervisor) to report, whether or not the dying
 * agent got to read it.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "ward_guard_wire.h"

char LICENSE[] SEC("license") = "GPL";

#if defined(__TARGET_ARCH_x86)
#define WARD_NR_PTRACE 101
#define WARD_NR_PROCESS_VM_WRITEV 311
#elif defined(__TARGET_ARCH_arm64)
#define WARD_NR_PTRACE 117
#define WARD_NR_PROCESS_VM_WRITEV 271
#else
#error "syscall numbers for this architecture"
#endif
#define PTRACE_ATTACH 16
#define PTRACE_SEIZE 0x4206

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ward_guard_config);
} recorder_config SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 256 * 1024);
} tamper_journal SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ward_guard_counters);
} recorder_counters SEC(".maps");

/* The last WARD_TAMPER_HISTORY records, and how many were ever written
 * (slot = count % WARD_TAMPER_HISTORY). Both pinned. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, WARD_TAMPER_HISTORY);
  __type(key, __u32);
  __type(value, struct ward_guard_rec);
} tamper_history SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} tamper_history_count SEC(".maps");

static __always_inline const struct ward_guard_config *guard_cfg(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&recorder_config, &zero);
}

/* Same set as the LSM's: signals whose default action stops the agent. */
static __always_inline int stops_agent(int sig) {
  switch (sig) {
    case 0:
    case 1:  /* SIGHUP: reload */
    case 17: /* SIGCHLD */
    case 18: /* SIGCONT */
    case 23: /* SIGURG */
    case 28: /* SIGWINCH */
      return 0;
  }
  return 1;
}

static __always_inline void record(const struct ward_guard_config *c, __u32 kind, __s32 arg, __s32 result) {
  __u32 zero = 0;
  struct ward_guard_counters *n = bpf_map_lookup_elem(&recorder_counters, &zero);
  struct ward_guard_rec *r = bpf_ringbuf_reserve(&tamper_journal, sizeof(*r), 0);
  if (!r) {
    if (n) n->lost++;
    return;
  }
  struct task_struct *task = bpf_get_current_task_btf();
  __u64 id = bpf_get_current_pid_tgid();
  r->kind = kind;
  r->verdict = c->unlocked ? WARD_GUARD_UNLOCKED : WARD_GUARD_OBSERVED;
  r->boot_ns = bpf_ktime_get_boot_ns();
  r->tid = (__u32)id;
  r->tgid = id >> 32;
  r->ppid = BPF_CORE_READ(task, real_parent, tgid);
  r->ruid = BPF_CORE_READ(task, cred, uid.val);
  r->euid = BPF_CORE_READ(task, cred, euid.val);
  r->result = result;
  r->start_boot_ns = BPF_CORE_READ(task, group_leader, start_boottime);
  bpf_get_current_comm(r->comm, sizeof(r->comm));
  r->target_tgid = c->agent_tgid;
  r->arg = arg;
  r->rule_index = -1;
  r->hash_state = 0;
  r->dev = 0;
  r->ino = 0;
  r->name[0] = 0;
  r->path[0] = 0;
  if (n) n->records++;
  __u64 *count = bpf_map_lookup_elem(&tamper_history_count, &zero);
  if (count) {
    __u32 slot = (__u32)(__sync_fetch_and_add(count, 1) % WARD_TAMPER_HISTORY);
    struct ward_guard_rec *h = bpf_map_lookup_elem(&tamper_history, &slot);
    if (h) __builtin_memcpy(h, r, sizeof(*r));
  }
  /* Wake the reader now: the agent may have milliseconds left. */
  bpf_ringbuf_submit(r, BPF_RB_FORCE_WAKEUP);
}

SEC("tp_btf/signal_generate")
int BPF_PROG(ward_signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task, int group,
             int result) {
  const struct ward_guard_config *c = guard_cfg();
  if (!c || !c->agent_tgid || !c->guard_signals) return 0;
  if ((__u32)BPF_CORE_READ(task, tgid) != c->agent_tgid || !stops_agent(sig)) return 0;
  /* The agent's own signals (its threads, a crash) are not tampering. */
  if ((__u32)(bpf_get_current_pid_tgid() >> 32) == c->agent_tgid) return 0;
  record(c, WARD_GUARD_SIGNAL, sig, result);
  return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(ward_tamper_sys_enter, struct pt_regs *regs, long id) {
  if (id != WARD_NR_PTRACE && id != WARD_NR_PROCESS_VM_WRITEV) return 0;
  const struct ward_guard_config *c = guard_cfg();
  if (!c || !c->agent_tgid || !c->guard_signals) return 0;
  if ((__u32)(bpf_get_current_pid_tgid() >> 32) == c->agent_tgid) return 0;
  if (id == WARD_NR_PTRACE) {
    long request = PT_REGS_PARM1_CORE_SYSCALL(regs);
    __u32 pid = (__u32)PT_REGS_PARM2_CORE_SYSCALL(regs);
    if ((request == PTRACE_ATTACH || request == PTRACE_SEIZE) && pid == c->agent_tgid)
      record(c, WARD_GUARD_PTRACE, (__s32)request, 0);
  } else {
    __u32 pid = (__u32)PT_REGS_PARM1_CORE_SYSCALL(regs);
    if (pid == c->agent_tgid) record(c, WARD_GUARD_PTRACE, -1, 0);
  }
  return 0;
}

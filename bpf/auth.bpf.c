// SPDX-License-Identifier: GPL-2.0
/* Ward AUTH context: fanotify permission events name the file and the thread,
 * not the exec's arguments nor the open's flags. These syscall-entry
 * tracepoints record both per thread, for the AUTH handler to look up when the
 * permission event of that thread arrives (the thread is blocked in the
 * syscall until then, so the entry is still its own).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "ward_wire.h"

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32); /* tid */
  __type(value, struct ward_exec_args);
} exec_args SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u32); /* tid */
  __type(value, struct ward_open_intent);
} open_intents SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ward_exec_args);
} args_scratch SEC(".maps");

static __always_inline int record_argv(const char *const *argv) {
  __u32 zero = 0;
  struct ward_exec_args *a = bpf_map_lookup_elem(&args_scratch, &zero);
  if (!a) return 0;
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tid = (__u32)id;
  a->tgid = id >> 32;
  a->argc = 0;
  a->flags = 0;
  a->boot_ns = bpf_ktime_get_boot_ns();
  a->argv_ptr = (__u64)argv;
  __u32 off = 0;
  for (int i = 0; i < WARD_AUTH_ARGV_MAX; i++) {
    const char *arg = 0;
    /* BPF cannot fault pages in; a page the caller has not touched yet
     * (rodata of a large binary) fails here, and user space reads it. */
    if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) != 0) {
      a->flags |= WARD_F_ARGS_FAULTED;
      break;
    }
    if (!arg) break;
    if (off > WARD_AUTH_ARGS_MASK) {
      a->flags |= WARD_F_ARGS_TRUNCATED;
      break;
    }
    long n = bpf_probe_read_user_str(&a->data[off & WARD_AUTH_ARGS_MASK], WARD_AUTH_ARG_MAX, arg);
    if (n <= 0) {
      a->flags |= WARD_F_ARGS_FAULTED;
      break;
    }
    if (n == WARD_AUTH_ARG_MAX) a->flags |= WARD_F_ARGS_TRUNCATED;
    off += (__u32)n;
    a->argc++;
    if (i == WARD_AUTH_ARGV_MAX - 1) a->flags |= WARD_F_ARGS_TRUNCATED;
  }
  a->len = off;
  bpf_map_update_elem(&exec_args, &tid, a, BPF_ANY);
  return 0;
}

static __always_inline int record_open(__s32 flags) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tid = (__u32)id;
  struct ward_open_intent intent = {.tgid = id >> 32, .flags = flags, .boot_ns = bpf_ktime_get_boot_ns()};
  bpf_map_update_elem(&open_intents, &tid, &intent, BPF_ANY);
  return 0;
}

/* One raw tracepoint for every syscall entry, filtered by number: the
 * per-syscall tracepoints need tracefs, which is not always mounted, while
 * tp_btf needs only BTF. */
#if defined(__TARGET_ARCH_x86)
#define WARD_NR_OPEN 2
#define WARD_NR_CREAT 85
#define WARD_NR_OPENAT 257
#define WARD_NR_EXECVE 59
#define WARD_NR_EXECVEAT 322
#define WARD_NR_OPENAT2 437
#elif defined(__TARGET_ARCH_arm64)
#define WARD_NR_OPEN -1 /* arm64 has only openat */
#define WARD_NR_CREAT -1
#define WARD_NR_OPENAT 56
#define WARD_NR_EXECVE 221
#define WARD_NR_EXECVEAT 281
#define WARD_NR_OPENAT2 437
#else
#error "syscall numbers for this architecture"
#endif

SEC("tp_btf/sys_enter")
int BPF_PROG(ward_auth_sys_enter, struct pt_regs *regs, long id) {
  switch (id) {
    case WARD_NR_EXECVE:
      return record_argv((const char *const *)PT_REGS_PARM2_CORE_SYSCALL(regs));
    case WARD_NR_EXECVEAT:
      return record_argv((const char *const *)PT_REGS_PARM3_CORE_SYSCALL(regs));
    case WARD_NR_OPENAT:
      return record_open((__s32)PT_REGS_PARM3_CORE_SYSCALL(regs));
    case WARD_NR_OPEN:
      return record_open((__s32)PT_REGS_PARM2_CORE_SYSCALL(regs));
    case WARD_NR_CREAT:
      return record_open(01 | 0100 | 01000); /* O_WRONLY | O_CREAT | O_TRUNC */
    case WARD_NR_OPENAT2: {
      __u64 flags = 0; /* struct open_how.flags */
      bpf_probe_read_user(&flags, sizeof(flags), (void *)PT_REGS_PARM3_CORE_SYSCALL(regs));
      return record_open((__s32)flags);
    }
  }
  return 0;
}

// SPDX-License-Identifier: GPL-2.0
/* Ward system sensor: signal, trace (ptrace), the set*id family, chdir,
 * chroot, proc_check, kextload (module loads), mount, unmount, settime, bpf
 * and memfd_create.
 *
 * Signals come from the signal_generate tracepoint (in the sender's context,
 * with the target task); the rest from the raw syscall tracepoints like the
 * file sensor. Failed attempts are reported too where the outcome matters
 * (set*id, ptrace, module loads, mounts, settime, bpf): they carry result.
 */
#include "ward_fs_paths.bpf.h"
#include "ward_syscalls.h"

char LICENSE[] SEC("license") = "GPL";

extern struct task_struct* bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct* p) __ksym;

#define WARD_SI_USER 0
#define WARD_SI_QUEUE -1
#define WARD_SI_TKILL -6
#define WARD_ADJ_SETOFFSET 0x0100
#define WARD_ADJ_NANO 0x2000
#define WARD_MOVE_MOUNT_F_EMPTY_PATH 0x4
#define WARD_MOVE_MOUNT_T_EMPTY_PATH 0x40
#define WARD_PROC_SUPER_MAGIC 0x9fa0
#define WARD_BPF_MAP_CREATE 0
#define WARD_BPF_PROG_LOAD 5
#define WARD_BPF_BTF_LOAD 18

/* ---------------------------------------------------------------- task targets */

/* Sends a task-target record: the instigator is current, the target `target`
 * (may be NULL: gone). Process-target events carry no kernel-known target
 * path, so only the process terms can mute them here. */
static __always_inline void emit_task(__u32 type, __u32 nr, long ret, struct task_struct* target, __u64 a0,
                                      __u64 a1, __u64 a2, __u64 a3) {
  struct task_struct* task = current_task();
  __u64 sub, drop;
  if (early_filter(type, task, &sub, &drop)) return;
  struct ward_task_rec* r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
  if (!r) {
    next_kseq(type);
    count_emitted(type, 1);
    return;
  }
  fill_head(&r->h, task, nr, ret);
  r->h.arg[0] = a0;
  r->h.arg[1] = a1;
  r->h.arg[2] = a2;
  r->h.arg[3] = a3;
  r->h.arg[4] = 0;
  r->h.arg[5] = 0;
  r->target_found = 0;
  r->pad = 0;
  if (target) {
    fill_proc(&r->target, target);
    r->target_found = 1;
  }
  struct ward_rec_header* h = &r->h.hdr;
  h->type = type;
  h->version = WARD_WIRE_VERSION;
  h->size = sizeof(*r);
  h->boot_ns = bpf_ktime_get_boot_ns();
  h->kseq = next_kseq(type);
  h->cpu = bpf_get_smp_processor_id();
  h->tid = (__u32)bpf_get_current_pid_tgid();
  bpf_ringbuf_submit(r, wakeup_flags_crossing(sizeof(*r), 0));
  count_emitted(type, 0);
}

/* A signal one process sends another: only user-originated ones (kill,
 * tgkill, sigqueue, pidfd_send_signal), not the kernel's own (SIGCHLD,
 * faults, timers). */
SEC("tp_btf/signal_generate")
int BPF_PROG(ward_signal, int sig, struct kernel_siginfo* info, struct task_struct* target, int group,
             int result) {
  if ((unsigned long)info <= 1) return 0; /* SEND_SIG_NOINFO / SEND_SIG_PRIV */
  int code = BPF_CORE_READ(info, si_code);
  if (code != WARD_SI_USER && code != WARD_SI_QUEUE && code != WARD_SI_TKILL) return 0;
  if (subscribed_clients(WARD_EV_SIGNAL) == 0) return 0;
  emit_task(WARD_EV_SIGNAL, 0, 0, target, sig, result, code, BPF_CORE_READ(target, tgid));
  return 0;
}

#define WARD_PTRACE_TRACEME 0
#define WARD_PTRACE_POKETEXT 4
#define WARD_PTRACE_POKEDATA 5
#define WARD_PTRACE_POKEUSR 6
#define WARD_PTRACE_SETREGS 13
#define WARD_PTRACE_SETFPREGS 15
#define WARD_PTRACE_ATTACH 16
#define WARD_PTRACE_SETREGSET 0x4205
#define WARD_PTRACE_SEIZE 0x4206

static __always_inline int on_ptrace_exit(struct pt_regs* regs, long ret) {
  long request = (long)PT_REGS_PARM1_CORE_SYSCALL(regs);
  switch (request) {
    case WARD_PTRACE_TRACEME:
    case WARD_PTRACE_POKETEXT:
    case WARD_PTRACE_POKEDATA:
    case WARD_PTRACE_POKEUSR:
    case WARD_PTRACE_SETREGS:
    case WARD_PTRACE_SETFPREGS:
    case WARD_PTRACE_ATTACH:
    case WARD_PTRACE_SETREGSET:
    case WARD_PTRACE_SEIZE:
      break;
    default:
      return 0; /* reads and the tracer's own bookkeeping */
  }
  if (subscribed_clients(WARD_EV_TRACE) == 0) return 0;
  __s32 pid;
  if (request == WARD_PTRACE_TRACEME)
    pid = BPF_CORE_READ(current_task(), real_parent, tgid); /* the tracer to be */
  else
    pid = (__s32)PT_REGS_PARM2_CORE_SYSCALL(regs);
  struct task_struct* target = pid > 0 ? bpf_task_from_pid(pid) : 0;
  emit_task(WARD_EV_TRACE, NR_ptrace, ret, target, request, pid, 0, 0);
  if (target) bpf_task_release(target);
  return 0;
}

static __always_inline int emit_proc_check(__u32 nr, long ret, __s32 pid, __u64 type, __u64 flavor) {
  if (subscribed_clients(WARD_EV_PROC_CHECK) == 0) return 0;
  struct task_struct* target = pid > 0 ? bpf_task_from_pid(pid) : 0;
  emit_task(WARD_EV_PROC_CHECK, nr, ret, target, type, flavor, pid, 0);
  if (target) bpf_task_release(target);
  return 0;
}

/* An open of /proc/PID/mem: the inode is procfs's, named "mem", and its
 * proc_inode names the process. */
static __always_inline int on_open_exit(long nr, long ret) {
  if (ret < 0 || subscribed_clients(WARD_EV_PROC_CHECK) == 0) return 0;
  struct file* file = file_of_fd((int)ret);
  if (!file) return 0;
  struct inode* inode = BPF_CORE_READ(file, f_inode);
  if (BPF_CORE_READ(inode, i_sb, s_magic) != WARD_PROC_SUPER_MAGIC) return 0;
  char name[4] = {};
  bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(file, f_path.dentry, d_name.name));
  if (name[0] != 'm' || name[1] != 'e' || name[2] != 'm' || name[3] != 0) return 0;
  struct proc_inode* pi = (void*)inode - bpf_core_field_offset(struct proc_inode, vfs_inode);
  __s32 pid = BPF_CORE_READ(pi, pid, numbers[0].nr);
  __u32 f_mode = BPF_CORE_READ(file, f_mode);
  return emit_proc_check(nr, ret, pid, 3 /* kProcCheckMemOpen */, f_mode & 3 /* FMODE_READ | FMODE_WRITE */);
}

/* ---------------------------------------------------------------- syscall entry */

static __always_inline __u32 type_of_entry_syscall(long nr) {
  switch (nr) {
    case NR_mount:
    case NR_move_mount:
      return WARD_EV_MOUNT;
    case NR_umount2:
      return WARD_EV_UNMOUNT;
    case NR_clock_settime:
    case NR_settimeofday:
    case NR_adjtimex:
    case NR_clock_adjtime:
      return WARD_EV_SETTIME;
    case NR_bpf:
      return WARD_EV_BPF;
    case NR_memfd_create:
      return WARD_EV_MEMFD_CREATE;
  }
  return 0;
}

/* What sys_enter keeps: the strings and the small structs the exit reports.
 * extra[0..2]: the facts of settime (clock, sec, nsec) and bpf (cmd, type);
 * extra[4..]: a short string (the mount's fstype, the bpf object's name). */
#define WARD_EXTRA_STR_OFF 32
#define WARD_EXTRA_STR_MAX 64
#define WARD_EXTRA_FAULTED 0xffffffffull /* extra[3]: read it again at exit */
static __always_inline void read_extra_str(struct ward_pending* p, const char* src, __u32 max) {
  char* extra_str = (char*)p->extra + WARD_EXTRA_STR_OFF;
  p->extra[3] = 0;
  if (!src) return;
  long n = bpf_probe_read_user_str(extra_str, max & (WARD_EXTRA_STR_MAX * 2 - 1), src);
  p->extra[3] = n > 0 ? (__u64)(n - 1) : WARD_EXTRA_FAULTED;
}

static __always_inline void fill_entry(struct ward_pending* p, struct pt_regs* regs, long nr) {
  unsigned long a0 = PT_REGS_PARM1_CORE_SYSCALL(regs);
  unsigned long a1 = PT_REGS_PARM2_CORE_SYSCALL(regs);
  unsigned long a2 = PT_REGS_PARM3_CORE_SYSCALL(regs);
  p->has_extra = 0;
  p->extra[3] = 0; /* length of extra_str */
  read_user_str(p, 0, 0);
  read_user_str(p, 1, 0);
  switch (nr) {
    case NR_mount: { /* (source, target, fstype, flags, data) */
      read_user_str(p, 0, (const char*)a1);
      read_user_str(p, 1, (const char*)a0);
      read_extra_str(p, (const char*)a2, WARD_EXTRA_STR_MAX);
      break;
    }
    case NR_move_mount: /* (from_dfd, from_path, to_dfd, to_path, flags) */
      read_user_str(p, 0, (const char*)PT_REGS_PARM4_CORE_SYSCALL(regs));
      read_user_str(p, 1, (const char*)a1);
      break;
    case NR_umount2:
      read_user_str(p, 0, (const char*)a0);
      break;
    case NR_clock_settime: { /* (clock, const struct timespec *) */
      __s64 ts[2] = {};
      if (bpf_probe_read_user(ts, sizeof(ts), (void*)a1) == 0) {
        p->extra[0] = a0;
        p->extra[1] = ts[0];
        p->extra[2] = ts[1];
        p->has_extra = 1;
      }
      break;
    }
    case NR_settimeofday: { /* (const struct timeval *, tz) */
      __s64 tv[2] = {};
      if (a0 && bpf_probe_read_user(tv, sizeof(tv), (void*)a0) == 0) {
        p->extra[0] = 0; /* CLOCK_REALTIME */
        p->extra[1] = tv[0];
        p->extra[2] = tv[1] * 1000;
        p->has_extra = 1;
      }
      break;
    }
    case NR_adjtimex:
    case NR_clock_adjtime: { /* ([clock,] struct timex *) */
      const void* tx = (const void*)(nr == NR_adjtimex ? a0 : a1);
      __u32 modes = 0;
      if (bpf_probe_read_user(&modes, sizeof(modes), tx) != 0 || !(modes & WARD_ADJ_SETOFFSET)) break;
      __s64 tv[2] = {};
      bpf_probe_read_user(tv, sizeof(tv), tx + __builtin_offsetof(struct __kernel_timex, time));
      p->extra[0] = nr == NR_adjtimex ? 0 : a0;
      p->extra[1] = tv[0];
      p->extra[2] = (modes & WARD_ADJ_NANO) ? tv[1] : tv[1] * 1000;
      p->has_extra = 2; /* an offset stepped by, not a time */
      break;
    }
    case NR_bpf: { /* (cmd, union bpf_attr *, size) */
      __u32 type = 0;
      long name_off = -1;
      if (a0 == WARD_BPF_PROG_LOAD)
        name_off = __builtin_offsetof(union bpf_attr, prog_name);
      else if (a0 == WARD_BPF_MAP_CREATE)
        name_off = __builtin_offsetof(union bpf_attr, map_name);
      if (a0 != WARD_BPF_BTF_LOAD)
        bpf_probe_read_user(&type, sizeof(type), (void*)a1); /* prog_type / map_type */
      if (name_off >= 0 && a2 >= name_off + 16) read_extra_str(p, (const char*)a1 + name_off, 16);
      p->extra[0] = a0;
      p->extra[1] = type;
      p->has_extra = 1;
      break;
    }
    case NR_memfd_create:
      read_user_str(p, 0, (const char*)a0);
      break;
  }
}

SEC("tp_btf/sys_enter")
int BPF_PROG(ward_sys_enter, struct pt_regs* regs, long id) {
  __u32 type = type_of_entry_syscall(id);
  if (!type || subscribed_clients(type) == 0) return 0;
  if (id == NR_bpf) {
    unsigned long cmd = PT_REGS_PARM1_CORE_SYSCALL(regs);
    if (cmd != WARD_BPF_PROG_LOAD && cmd != WARD_BPF_MAP_CREATE && cmd != WARD_BPF_BTF_LOAD) return 0;
  }
  if (is_self(current_task())) return 0;
  struct ward_pending* p = pending_for_enter();
  if (!p) return 0;
  fill_entry(p, regs, id);
  p->nr_plus1 = (__u32)id + 1;
  return 0;
}

/* ---------------------------------------------------------------- syscall exit */

/* The start of a file-shaped record, or NULL when the event stops here. */
static __always_inline struct ward_fs_rec* begin_fs(__u32 type, __u32 nr, long ret, __u64* sub, __u64* drop) {
  if (subscribed_clients(type) == 0) return 0;
  struct task_struct* task = current_task();
  if (early_filter(type, task, sub, drop)) return 0;
  struct ward_fs_rec* r = fs_rec_get();
  if (!r) return 0;
  fill_head(&r->h, task, nr, ret);
  for (int i = 0; i < 6; i++) r->h.arg[i] = 0;
  clear_slot(&r->path[0], 0);
  clear_slot(&r->path[1], 0);
  return r;
}

/* Appends `len` bytes of pending->extra's string as a piece. */
static __always_inline __u32 append_extra_str(struct ward_fs_rec* r, struct ward_piece* piece, __u32 off,
                                              struct ward_pending* p) {
  piece->off = off;
  piece->len = 0;
  __u64 len = p->extra[3] == WARD_EXTRA_FAULTED ? 0 : WARD_MIN(p->extra[3], WARD_EXTRA_STR_MAX - 1);
  if (len == 0 || off > WARD_EV_OFF_LIMIT) return off;
  if (bpf_probe_read_kernel(&r->data[WARD_MIN(off, WARD_EV_OFF_LIMIT)], len,
                            (char*)p->extra + WARD_EXTRA_STR_OFF) != 0)
    return off;
  piece->len = len;
  return off + len;
}

static __always_inline int on_setid_exit(struct pt_regs* regs, long nr, long ret) {
  __u32 a0 = PT_REGS_PARM1_CORE_SYSCALL(regs), a1 = PT_REGS_PARM2_CORE_SYSCALL(regs),
        a2 = PT_REGS_PARM3_CORE_SYSCALL(regs);
  __u32 type;
  switch (nr) {
    case NR_setuid:
      type = WARD_EV_SETUID;
      break;
    case NR_setgid:
      type = WARD_EV_SETGID;
      break;
    case NR_setreuid:
      type = WARD_EV_SETREUID;
      a2 = 0xffffffff;
      break;
    case NR_setregid:
      type = WARD_EV_SETREGID;
      a2 = 0xffffffff;
      break;
    case NR_setresuid: /* glibc's seteuid(e) is setresuid(-1, e, -1) */
      type = (a0 == 0xffffffff && a2 == 0xffffffff) ? WARD_EV_SETEUID : WARD_EV_SETREUID;
      break;
    default: /* NR_setresgid */
      type = (a0 == 0xffffffff && a2 == 0xffffffff) ? WARD_EV_SETEGID : WARD_EV_SETREGID;
  }
  __u64 sub, drop;
  struct ward_fs_rec* r = begin_fs(type, nr, ret, &sub, &drop);
  if (!r) return 0;
  r->h.arg[0] = a0;
  r->h.arg[1] = a1;
  r->h.arg[2] = a2;
  finish_fs(r, type, 0, 0, sub, drop);
  return 0;
}

/* chdir, fchdir, chroot: the directory the process is now in, as the kernel
 * resolved it. */
static __always_inline int on_dir_exit(long nr, long ret) {
  if (ret != 0) return 0;
  __u32 type = nr == NR_chroot ? WARD_EV_CHROOT : WARD_EV_CHDIR;
  __u64 sub, drop;
  struct ward_fs_rec* r = begin_fs(type, nr, ret, &sub, &drop);
  if (!r) return 0;
  struct task_struct* task = current_task();
  struct dentry* dentry;
  struct vfsmount* mnt;
  if (type == WARD_EV_CHROOT) {
    dentry = BPF_CORE_READ(task, fs, root.dentry);
    mnt = BPF_CORE_READ(task, fs, root.mnt);
  } else {
    dentry = BPF_CORE_READ(task, fs, pwd.dentry);
    mnt = BPF_CORE_READ(task, fs, pwd.mnt);
  }
  __u32 off = ward_slot_from_path(r, 0, 0, (__u64)dentry, (__u64)mnt);
  fill_inode(&r->path[0].stat, BPF_CORE_READ(dentry, d_inode));
  r->path[0].flags |= WARD_EVP_HAS_STAT;
  clear_slot(&r->path[1], off);
  finish_fs(r, type, off, 1, sub, drop);
  return 0;
}

static __always_inline int on_module_exit(struct pt_regs* regs, long nr, long ret) {
  __u64 sub, drop;
  struct ward_fs_rec* r = begin_fs(WARD_EV_KEXTLOAD, nr, ret, &sub, &drop);
  if (!r) return 0;
  __u32 off = 0, targets = 0;
  if (nr == NR_finit_module) {
    struct file* file = file_of_fd((int)PT_REGS_PARM1_CORE_SYSCALL(regs));
    if (file) {
      off = ward_slot_from_file(r, 0, 0, ward_addr(file));
      r->h.flags = 1;
      targets = 1;
    }
    r->h.arg[0] = PT_REGS_PARM3_CORE_SYSCALL(regs);
  } else {
    r->h.arg[0] = PT_REGS_PARM2_CORE_SYSCALL(regs); /* image length */
  }
  clear_slot(&r->path[1], off);
  finish_fs(r, WARD_EV_KEXTLOAD, off, targets, sub, drop);
  return 0;
}

/* mount, move_mount, umount2, settime, bpf, memfd_create: what sys_enter kept. */
static __always_inline int on_entry_exit(struct pt_regs* regs, long nr, long ret) {
  __u32 type = type_of_entry_syscall(nr);
  if (!type) return 0;
  struct ward_pending* p = pending_for_exit(nr);
  if (!p) return 0; /* not wanted at entry (or the entry was evicted) */
  if (nr == NR_mount) {
    reread_faulted(p, (const char*)PT_REGS_PARM2_CORE_SYSCALL(regs),
                   (const char*)PT_REGS_PARM1_CORE_SYSCALL(regs));
    if (p->extra[3] == WARD_EXTRA_FAULTED)
      read_extra_str(p, (const char*)PT_REGS_PARM3_CORE_SYSCALL(regs), WARD_EXTRA_STR_MAX);
  } else if (nr == NR_bpf && p->extra[3] == WARD_EXTRA_FAULTED) {
    long name_off = p->extra[0] == WARD_BPF_PROG_LOAD ? __builtin_offsetof(union bpf_attr, prog_name)
                                                      : __builtin_offsetof(union bpf_attr, map_name);
    read_extra_str(p, (const char*)PT_REGS_PARM2_CORE_SYSCALL(regs) + name_off, 16);
  } else if (nr == NR_move_mount)
    reread_faulted(p, (const char*)PT_REGS_PARM4_CORE_SYSCALL(regs),
                   (const char*)PT_REGS_PARM2_CORE_SYSCALL(regs));
  else if (nr == NR_umount2 || nr == NR_memfd_create)
    reread_faulted(p, (const char*)PT_REGS_PARM1_CORE_SYSCALL(regs), 0);
  __u64 sub, drop;
  struct ward_fs_rec* r = begin_fs(type, nr, ret, &sub, &drop);
  if (!r) return 0;
  __u32 off = 0, targets = 0;
  switch (nr) {
    case NR_mount:
      off = ward_slot_from_string(r, 0, p, WARD_SLOT(0, 0, 0), WARD_AT_FDCWD);
      off = ward_slot_literal(r, 1, off, p, 1);            /* source */
      off = append_extra_str(r, &r->path[1].base, off, p); /* fstype */
      r->h.arg[0] = PT_REGS_PARM4_CORE_SYSCALL(regs);
      targets = 1;
      break;
    case NR_move_mount: {
      __u64 flags = PT_REGS_PARM5_CORE_SYSCALL(regs);
      off = ward_slot_from_string(r, 0, p, WARD_SLOT(0, 0, (flags & WARD_MOVE_MOUNT_T_EMPTY_PATH) != 0),
                                  (__s32)PT_REGS_PARM3_CORE_SYSCALL(regs));
      off = ward_slot_from_string(r, off, p, WARD_SLOT(1, 1, (flags & WARD_MOVE_MOUNT_F_EMPTY_PATH) != 0),
                                  (__s32)PT_REGS_PARM1_CORE_SYSCALL(regs));
      r->h.arg[0] = flags;
      targets = 1;
      break;
    }
    case NR_umount2:
      off = ward_slot_from_string(r, 0, p, WARD_SLOT(0, 0, 0), WARD_AT_FDCWD);
      r->h.arg[0] = PT_REGS_PARM2_CORE_SYSCALL(regs);
      targets = 1;
      break;
    case NR_memfd_create:
      off = ward_slot_literal(r, 0, 0, p, 0);
      r->h.arg[0] = PT_REGS_PARM2_CORE_SYSCALL(regs);
      break;
    case NR_bpf:
      off = append_extra_str(r, &r->path[0].rel, 0, p); /* the object's name */
      r->h.arg[0] = p->extra[0];
      r->h.arg[1] = p->extra[1];
      break;
    default:                       /* settime */
      if (!p->has_extra) return 0; /* settimeofday(NULL, tz), or an adjtimex that does not step */
      r->h.flags = 1;
      r->h.arg[0] = p->extra[0];
      r->h.arg[1] = p->extra[1];
      r->h.arg[2] = p->extra[2];
      r->h.arg[3] = p->has_extra == 2; /* an offset */
      break;
  }
  if (nr != NR_mount) clear_slot(&r->path[1], off);
  finish_fs(r, type, off, targets, sub, drop);
  return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(ward_sys_exit, struct pt_regs* regs, long ret) {
  long nr = WARD_SYSCALL_NR(regs);
  switch (nr) {
    case NR_setuid:
    case NR_setgid:
    case NR_setreuid:
    case NR_setregid:
    case NR_setresuid:
    case NR_setresgid:
      return on_setid_exit(regs, nr, ret);
    case NR_chdir:
    case NR_fchdir:
    case NR_chroot:
      return on_dir_exit(nr, ret);
    case NR_ptrace:
      return on_ptrace_exit(regs, ret);
    case NR_process_vm_readv:
    case NR_process_vm_writev:
      return emit_proc_check(nr, ret, (__s32)PT_REGS_PARM1_CORE_SYSCALL(regs),
                             nr == NR_process_vm_readv ? 1 : 2, 0);
    case NR_open:
    case NR_openat:
    case NR_openat2:
      return on_open_exit(nr, ret);
    case NR_init_module:
    case NR_finit_module:
      return on_module_exit(regs, nr, ret);
    default:
      return on_entry_exit(regs, nr, ret);
  }
}

// SPDX-License-Identifier: GPL-2.0
/* Ward process sensor: exec, fork and exit from scheduler tracepoints.
 *
 * One record per process-level event onto a shared ring buffer. Threads are
 * not processes: clone(CLONE_THREAD) and the exit of a non-last thread make no
 * record. Everything a consumer needs to name the process is captured here,
 * in the kernel, because by the time user space reads the record a short-lived
 * process may be gone.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "ward_wire.h"

char LICENSE[] SEC("license") = "GPL";

/* Knobs set by user space before load (libbpf-bootstrap style). */
const volatile __u32 args_max = WARD_PIECE_MASK;
const volatile __u32 env_max = 0; /* environment capture is off unless asked */
/* Wake the reader only once this much is waiting; below it the reader polls
 * on a short timer. One wakeup per record would be paid in the workload's
 * context. 0 = wake on every record. */
const volatile __u32 wakeup_bytes = 0;

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 16 * 1024 * 1024);
} events SEC(".maps");

/* Scratch for the large exec record: an array with one slot per CPU, resized
 * by user space to the number of possible CPUs before load. (A per-CPU map
 * would cap the value at 32 KiB.) */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ward_exec_rec);
} exec_scratch SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, WARD_REC_TYPE_MAX);
  __type(key, __u32);
  __type(value, __u64);
} kseq SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, WARD_REC_TYPE_MAX);
  __type(key, __u32);
  __type(value, struct ward_counters);
} counters SEC(".maps");

/* Processes and process groups whose events are not wanted at all (the
 * agent's own). Key: tgid or pgid. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, __u8);
} mute_tgid SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, __u8);
} mute_pgid SEC(".maps");

/* Nanoseconds are < 10^9 < 2^30: anything above is a flag bit. */
#define WARD_NSEC_MASK ((1u << 30) - 1)

/* Kernels before 6.6 keep inode times as struct timespec64. */
struct inode___timespec {
  struct timespec64 i_mtime;
  struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

/* 6.6 renamed i_ctime to __i_ctime before 6.7 split all times. */
struct inode___ctime_only {
  struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));

static __always_inline __u32 pid_nr_of(struct task_struct *task, enum pid_type type) {
  struct pid *pid = BPF_CORE_READ(task, signal, pids[type]);
  if (!pid) return 0;
  return BPF_CORE_READ(pid, numbers[0].nr);
}

static __always_inline __u32 tgid_pgid(struct task_struct *task) {
  return pid_nr_of(task, PIDTYPE_PGID);
}

static __always_inline int is_muted(struct task_struct *task) {
  __u32 tgid = BPF_CORE_READ(task, tgid);
  if (bpf_map_lookup_elem(&mute_tgid, &tgid)) return 1;
  __u32 pgid = tgid_pgid(task);
  return bpf_map_lookup_elem(&mute_pgid, &pgid) != 0;
}

static __always_inline void fill_proc(struct ward_proc *p, struct task_struct *task) {
  const struct cred *cred = BPF_CORE_READ(task, cred);
  p->tgid = BPF_CORE_READ(task, tgid);
  p->ppid = BPF_CORE_READ(task, real_parent, tgid);
  p->pgid = pid_nr_of(task, PIDTYPE_PGID);
  p->sid = pid_nr_of(task, PIDTYPE_SID);
  p->ruid = BPF_CORE_READ(cred, uid.val);
  p->euid = BPF_CORE_READ(cred, euid.val);
  p->suid = BPF_CORE_READ(cred, suid.val);
  p->rgid = BPF_CORE_READ(cred, gid.val);
  p->egid = BPF_CORE_READ(cred, egid.val);
  p->sgid = BPF_CORE_READ(cred, sgid.val);
  p->auid = 0xffffffff;
  p->sessionid = 0xffffffff;
  if (bpf_core_field_exists(task->loginuid)) {
    p->auid = BPF_CORE_READ(task, loginuid.val);
    p->sessionid = BPF_CORE_READ(task, sessionid);
  }
  p->start_boot_ns = BPF_CORE_READ(task, group_leader, start_boottime);
  BPF_CORE_READ_STR_INTO(&p->comm, task, comm);

  struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);
  p->tty_major = 0;
  p->tty_minor = 0;
  p->tty_name[0] = 0;
  if (tty) {
    p->tty_major = BPF_CORE_READ(tty, driver, major);
    p->tty_minor = BPF_CORE_READ(tty, driver, minor_start) + BPF_CORE_READ(tty, index);
    BPF_CORE_READ_STR_INTO(&p->tty_name, tty, name);
  }
}

static __always_inline void fill_file(struct ward_file *f, struct file *file) {
  struct inode *inode = BPF_CORE_READ(file, f_inode);
  f->ino = BPF_CORE_READ(inode, i_ino);
  f->size = BPF_CORE_READ(inode, i_size);
  f->dev = BPF_CORE_READ(inode, i_sb, s_dev);
  f->mode = BPF_CORE_READ(inode, i_mode);
  f->uid = BPF_CORE_READ(inode, i_uid.val);
  f->gid = BPF_CORE_READ(inode, i_gid.val);
  if (bpf_core_field_exists(inode->i_mtime_sec)) {
    f->mtime_sec = BPF_CORE_READ(inode, i_mtime_sec);
    f->mtime_nsec = BPF_CORE_READ(inode, i_mtime_nsec);
    f->ctime_sec = BPF_CORE_READ(inode, i_ctime_sec);
    /* Since 6.13 the top bit of i_ctime_nsec is the multigrain
     * I_CTIME_QUERIED flag, not time. */
    f->ctime_nsec = BPF_CORE_READ(inode, i_ctime_nsec) & WARD_NSEC_MASK;
  } else {
    struct inode___timespec *old = (void *)inode;
    f->mtime_sec = BPF_CORE_READ(old, i_mtime.tv_sec);
    f->mtime_nsec = BPF_CORE_READ(old, i_mtime.tv_nsec);
    if (bpf_core_field_exists(((struct inode___ctime_only *)inode)->__i_ctime)) {
      struct inode___ctime_only *c = (void *)inode;
      f->ctime_sec = BPF_CORE_READ(c, __i_ctime.tv_sec);
      f->ctime_nsec = BPF_CORE_READ(c, __i_ctime.tv_nsec);
    } else {
      f->ctime_sec = BPF_CORE_READ(old, i_ctime.tv_sec);
      f->ctime_nsec = BPF_CORE_READ(old, i_ctime.tv_nsec);
    }
  }
}

/* Appends the components of `path` to data[], leaf first, each NUL-terminated,
 * crossing mount points up to the namespace root. Returns 0 when the walk
 * reached the root, 1 when it stopped early (truncated). */
static __always_inline int append_path(struct ward_exec_rec *r, __u32 *off, struct ward_piece *piece,
                                       const struct path *path) {
  struct dentry *dentry = BPF_CORE_READ(path, dentry);
  struct vfsmount *vfsmnt = BPF_CORE_READ(path, mnt);
  struct mount *mnt = (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt);
  struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
  int truncated = 1;

  piece->off = *off;
#pragma unroll
  for (int i = 0; i < WARD_PATH_DEPTH; i++) {
    struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
    struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
    if (dentry == mnt_root || dentry == parent) {
      if (mnt != mnt_parent) {
        /* Top of a mount: continue from where it is mounted. */
        dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
        mnt = mnt_parent;
        mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
        vfsmnt = (void *)mnt + bpf_core_field_offset(struct mount, mnt);
        continue;
      }
      truncated = 0;
      break;
    }
    const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
    __u32 o = *off;
    if (o > WARD_PIECE_MASK) break;
    long n = bpf_probe_read_kernel_str(&r->data[o & WARD_PIECE_MASK], WARD_NAME_MAX, name);
    if (n <= 0) break;
    *off = o + (__u32)n;
    dentry = parent;
  }
  piece->len = *off - piece->off;
  return truncated;
}

static __always_inline int append_kstr(struct ward_exec_rec *r, __u32 *off, struct ward_piece *piece,
                                       const char *s) {
  __u32 o = *off;
  piece->off = o;
  piece->len = 0;
  if (!s || o > WARD_PIECE_MASK) return 1;
  long n = bpf_probe_read_kernel_str(&r->data[o & WARD_PIECE_MASK], WARD_STR_MAX, s);
  if (n <= 0) return 1;
  piece->len = (__u32)n - 1;
  *off = o + (__u32)n;
  return n == WARD_STR_MAX;
}

/* Copies [start, end) of the new image's memory (argv or envp block). */
static __always_inline int append_user_block(struct ward_exec_rec *r, __u32 *off, struct ward_piece *piece,
                                             unsigned long start, unsigned long end, __u32 max) {
  __u32 o = *off;
  int truncated = 0;
  piece->off = o;
  piece->len = 0;
  if (end <= start) return 0;
  __u64 len = end - start;
  if (len > max) {
    len = max;
    truncated = 1;
  }
  if (o > WARD_PIECE_MASK) return 1;
  if (len > WARD_PIECE_MASK) {
    len = WARD_PIECE_MASK;
    truncated = 1;
  }
  if (bpf_probe_read_user(&r->data[o & WARD_PIECE_MASK], len & WARD_PIECE_MASK, (void *)start) != 0) return 1;
  piece->len = (__u32)len;
  *off = o + (__u32)len;
  return truncated;
}

static __always_inline __u64 next_kseq(__u32 type) {
  __u64 *seq = bpf_map_lookup_elem(&kseq, &type);
  if (!seq) return 0;
  return __sync_fetch_and_add(seq, 1) + 1;
}

static __always_inline void count(__u32 type, int dropped) {
  struct ward_counters *c = bpf_map_lookup_elem(&counters, &type);
  if (!c) return;
  if (dropped)
    c->dropped++;
  else
    c->emitted++;
}

/* Wakes the reader when the unread data crosses wakeup_bytes, once: when
 * the reader lags, a wakeup per record (an IPI each) would tax every
 * process event, and the reader polls on a timer anyway (a crossing missed
 * when CPUs race costs at most that timer). `pending`: nonzero when the
 * query does not see this record yet (before bpf_ringbuf_output), 0 when it
 * does (after bpf_ringbuf_reserve). */
static __always_inline __u64 wakeup_flags_crossing(__u64 size, __u64 pending) {
  if (wakeup_bytes == 0) return 0;
  __u64 step = (size + 8 + 7) & ~7ull; /* what the record takes in the ring: 8-byte header, 8-aligned */
  __u64 after = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + (pending ? step : 0);
  return after >= wakeup_bytes && after < wakeup_bytes + step ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void fill_header(struct ward_rec_header *h, __u16 type, __u32 size) {
  h->type = type;
  h->version = WARD_WIRE_VERSION;
  h->size = size;
  h->boot_ns = bpf_ktime_get_boot_ns();
  h->kseq = next_kseq(type);
  h->cpu = bpf_get_smp_processor_id();
  h->tid = (__u32)bpf_get_current_pid_tgid();
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ward_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm) {
  if (is_muted(task)) return 0;

  __u32 cpu = bpf_get_smp_processor_id();
  struct ward_exec_rec *r = bpf_map_lookup_elem(&exec_scratch, &cpu);
  if (!r) return 0;

  fill_proc(&r->proc, task);
  struct file *file = BPF_CORE_READ(bprm, file);
  fill_file(&r->exe, file);
  r->old_tid = old_pid;
  r->flags = 0;

  __u32 off = 0;
  struct path exe_path = BPF_CORE_READ(file, f_path);
  if (append_path(r, &off, &r->exe_path, &exe_path)) r->flags |= WARD_F_EXE_PATH_TRUNCATED;
  struct path pwd = BPF_CORE_READ(task, fs, pwd);
  if (append_path(r, &off, &r->cwd, &pwd)) r->flags |= WARD_F_CWD_TRUNCATED;
  if (append_kstr(r, &off, &r->filename, BPF_CORE_READ(bprm, filename)))
    r->flags |= WARD_F_FILENAME_TRUNCATED;
  append_kstr(r, &off, &r->interp, BPF_CORE_READ(bprm, interp));

  struct mm_struct *mm = BPF_CORE_READ(task, mm);
  if (append_user_block(r, &off, &r->args, BPF_CORE_READ(mm, arg_start), BPF_CORE_READ(mm, arg_end),
                        args_max))
    r->flags |= WARD_F_ARGS_TRUNCATED;
  r->env.off = off;
  r->env.len = 0;
  if (env_max > 0) {
    r->flags |= WARD_F_ENV_CAPTURED;
    if (append_user_block(r, &off, &r->env, BPF_CORE_READ(mm, env_start), BPF_CORE_READ(mm, env_end),
                          env_max))
      r->flags |= WARD_F_ENV_TRUNCATED;
  }

  __u32 size = (__u32)__builtin_offsetof(struct ward_exec_rec, data) + off;
  if (size > sizeof(*r)) size = sizeof(*r);
  fill_header(&r->hdr, WARD_REC_EXEC, size);
  long err = bpf_ringbuf_output(&events, r, size, wakeup_flags_crossing(size, size));
  count(WARD_REC_EXEC, err != 0);
  return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(ward_fork, struct task_struct *parent, struct task_struct *child) {
  /* A new thread is not a new process. */
  if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid)) return 0;
  if (is_muted(parent)) return 0;

  struct ward_fork_rec *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
  if (!r) {
    next_kseq(WARD_REC_FORK);
    count(WARD_REC_FORK, 1);
    return 0;
  }
  fill_proc(&r->child, child);
  /* The child's real_parent is already set; its start time too. */
  r->parent_tgid = BPF_CORE_READ(parent, tgid);
  r->parent_start_boot_ns = BPF_CORE_READ(parent, group_leader, start_boottime);
  r->pad = 0;
  fill_header(&r->hdr, WARD_REC_FORK, sizeof(*r));
  bpf_ringbuf_submit(r, wakeup_flags_crossing(sizeof(*r), 0));
  count(WARD_REC_FORK, 0);
  return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(ward_exit, struct task_struct *task) {
  /* Only the last thread out ends the process: signal->live has already been
   * decremented when this tracepoint fires. */
  if (BPF_CORE_READ(task, signal, live.counter) != 0) return 0;
  if (is_muted(task)) return 0;

  struct ward_exit_rec *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
  if (!r) {
    next_kseq(WARD_REC_EXIT);
    count(WARD_REC_EXIT, 1);
    return 0;
  }
  fill_proc(&r->proc, task);
  /* SIGNAL_GROUP_EXIT: the group's code (exit_group or a fatal signal) wins. */
  __u32 sflags = BPF_CORE_READ(task, signal, flags);
  if (sflags & 0x00000004 /* SIGNAL_GROUP_EXIT */)
    r->status = BPF_CORE_READ(task, signal, group_exit_code);
  else
    r->status = BPF_CORE_READ(task, exit_code);
  r->pad = 0;
  fill_header(&r->hdr, WARD_REC_EXIT, sizeof(*r));
  bpf_ringbuf_submit(r, wakeup_flags_crossing(sizeof(*r), 0));
  count(WARD_REC_EXIT, 0);
  return 0;
}

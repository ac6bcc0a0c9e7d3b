// SPDX-License-Identifier: GPL-2.0
/* Ward's in-kernel AUTH (BPF LSM): decisions made in the kernel, from maps
 * the user-space policy engine fills, with no round trip to user space.
 *
 *  - exec: a sha256 block rule denies the binary. The hash is computed in the
 *    kernel (bpf_ima_file_hash, sleepable hook) once per file version and
 *    cached by inode identity + mtime/ctime; a write changes those.
 *  - anti-tamper: Ward's own files (protected_inodes) cannot be written,
 *    truncated, chmod/chown'ed, unlinked, renamed or hard-linked, and Ward's
 *    agent (config.agent_tgid) cannot be sent a signal that would stop it,
 *    nor be ptrace-attached, nor have its BPF maps and programs opened — by
 *    anyone but the agent itself, until it is unlocked with its token.
 *
 * Every denial (and every would-deny in monitor mode) is a record on
 * guard_events. Only loads where the kernel has the BPF LSM active
 * (lsm=...,bpf); elsewhere user space keeps the fanotify path.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "ward_guard_wire.h"

char LICENSE[] SEC("license") = "GPL";

#define EPERM 1
#define FMODE_WRITE 0x2
#define O_TRUNC 01000
#define PTRACE_MODE_ATTACH 0x02
#define HASH_ALGO_SHA256 4

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ward_guard_config);
} guard_config SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, struct ward_inode_key);
  __type(value, __u32); /* WARD_PROTECT_* */
} protected_inodes SEC(".maps");

/* Ids of Ward's BPF maps and programs: no fd to them for anyone else. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, __u8);
} protected_map_ids SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, __u8);
} protected_prog_ids SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, __u8[WARD_GUARD_SHA256_LEN]);
  __type(value, struct ward_exec_rule);
} exec_sha256_rules SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct ward_inode_key);
  __type(value, struct ward_exec_verdict);
} exec_verdicts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1024 * 1024);
} guard_events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ward_guard_counters);
} guard_counters SEC(".maps");

/* Kernels before 6.6 keep inode times as struct timespec64. */
struct inode___timespec {
  struct timespec64 i_mtime;
  struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

struct inode___ctime_only {
  struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));

#define WARD_NSEC_MASK ((1u << 30) - 1)

static __always_inline struct ward_guard_config *guard_cfg(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&guard_config, &zero);
}

static __always_inline struct ward_guard_counters *counters(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&guard_counters, &zero);
}

static __always_inline int is_agent(const struct ward_guard_config *c) {
  return c->agent_tgid != 0 && (__u32)(bpf_get_current_pid_tgid() >> 32) == c->agent_tgid;
}

static __always_inline struct ward_inode_key key_of(struct inode *inode) {
  struct ward_inode_key k = {};
  k.dev = BPF_CORE_READ(inode, i_sb, s_dev);
  k.ino = BPF_CORE_READ(inode, i_ino);
  return k;
}

static __always_inline __u32 protection_of(struct inode *inode) {
  if (!inode) return 0;
  struct ward_inode_key k = key_of(inode);
  __u32 *flags = bpf_map_lookup_elem(&protected_inodes, &k);
  return flags ? *flags : 0;
}

/* The protection an entry has: its own, plus its directory's CHILDREN. */
static __always_inline __u32 entry_protection(struct dentry *dentry, struct inode *dir) {
  __u32 own = protection_of(BPF_CORE_READ(dentry, d_inode));
  if (!dir) dir = BPF_CORE_READ(dentry, d_parent, d_inode);
  if (protection_of(dir) & WARD_PROTECT_CHILDREN) own |= WARD_PROTECT_CONTENT | WARD_PROTECT_NAME;
  return own;
}

static __always_inline void count_lost(void) {
  struct ward_guard_counters *n = counters();
  if (n) n->lost++;
}

static __always_inline struct ward_guard_rec *begin(__u32 kind, __u32 verdict) {
  struct ward_guard_rec *r = bpf_ringbuf_reserve(&guard_events, sizeof(*r), 0);
  if (!r) {
    count_lost();
    return 0;
  }
  struct task_struct *task = bpf_get_current_task_btf();
  __u64 id = bpf_get_current_pid_tgid();
  r->kind = kind;
  r->verdict = verdict;
  r->boot_ns = bpf_ktime_get_boot_ns();
  r->tid = (__u32)id;
  r->tgid = id >> 32;
  r->ppid = BPF_CORE_READ(task, real_parent, tgid);
  r->ruid = BPF_CORE_READ(task, cred, uid.val);
  r->euid = BPF_CORE_READ(task, cred, euid.val);
  r->result = 0;
  r->start_boot_ns = BPF_CORE_READ(task, group_leader, start_boottime);
  bpf_get_current_comm(r->comm, sizeof(r->comm));
  r->target_tgid = 0;
  r->arg = 0;
  r->rule_index = -1;
  r->hash_state = 0;
  r->dev = 0;
  r->ino = 0;
  r->name[0] = 0;
  r->path[0] = 0;
  return r;
}

static __always_inline void finish(struct ward_guard_rec *r) {
  struct ward_guard_counters *n = counters();
  if (n) n->records++;
  bpf_ringbuf_submit(r, 0);
}

/* Denies a file operation on `inode` (entry `dentry`), unless unlocked. */
static __always_inline int deny_file(const struct ward_guard_config *c, __u32 kind, struct inode *inode,
                                     struct dentry *dentry, __s32 arg) {
  if (c->unlocked) return 0;
  struct ward_guard_rec *r = begin(kind, WARD_GUARD_DENIED);
  if (r) {
    if (inode) {
      struct ward_inode_key k = key_of(inode);
      r->dev = k.dev;
      r->ino = k.ino;
    }
    if (dentry) bpf_probe_read_kernel_str(r->name, sizeof(r->name), BPF_CORE_READ(dentry, d_name.name));
    r->arg = arg;
    finish(r);
  }
  return -EPERM;
}

/* The file guard is on and the caller is not the agent. */
static __always_inline const struct ward_guard_config *file_guard(void) {
  const struct ward_guard_config *c = guard_cfg();
  if (!c || !c->guard_files || is_agent(c)) return 0;
  return c;
}

SEC("lsm/file_open")
int BPF_PROG(ward_file_open, struct file *file) {
  unsigned int mode = BPF_CORE_READ(file, f_mode);
  unsigned int flags = BPF_CORE_READ(file, f_flags);
  if (!(mode & FMODE_WRITE) && !(flags & O_TRUNC)) return 0; /* reads are free */
  struct dentry *dentry = BPF_CORE_READ(file, f_path.dentry);
  if (!(entry_protection(dentry, 0) & WARD_PROTECT_CONTENT)) return 0;
  const struct ward_guard_config *c = file_guard();
  if (!c) return 0;
  return deny_file(c, WARD_GUARD_OPEN_WRITE, BPF_CORE_READ(file, f_inode), dentry, (__s32)flags);
}

SEC("lsm/path_truncate")
int BPF_PROG(ward_path_truncate, const struct path *path) {
  struct dentry *dentry = BPF_CORE_READ(path, dentry);
  if (!(entry_protection(dentry, 0) & WARD_PROTECT_CONTENT)) return 0;
  const struct ward_guard_config *c = file_guard();
  if (!c) return 0;
  return deny_file(c, WARD_GUARD_TRUNCATE, BPF_CORE_READ(dentry, d_inode), dentry, 0);
}

SEC("lsm/path_chmod")
int BPF_PROG(ward_path_chmod, const struct path *path, umode_t mode) {
  struct dentry *dentry = BPF_CORE_READ(path, dentry);
  if (!(entry_protection(dentry, 0) & (WARD_PROTECT_CONTENT | WARD_PROTECT_NAME))) return 0;
  const struct ward_guard_config *c = file_guard();
  if (!c) return 0;
  return deny_file(c, WARD_GUARD_SETATTR, BPF_CORE_READ(dentry, d_inode), dentry, mode);
}

SEC("lsm/path_chown")
int BPF_PROG(ward_path_chown, const struct path *path) {
  struct dentry *dentry = BPF_CORE_READ(path, dentry);
  if (!(entry_protection(dentry, 0) & (WARD_PROTECT_CONTENT | WARD_PROTECT_NAME))) return 0;
  const struct ward_guard_config *c = file_guard();
  if (!c) return 0;
  return deny_file(c, WARD_GUARD_SETATTR, BPF_CORE_READ(dentry, d_inode), dentry, -1);
}

SEC("lsm/path_unlink")
int BPF_PROG(ward_path_unlink, const struct path *dir, struct dentry *dentry) {
  struct inode *dir_inode = BPF_CORE_READ(dir, dentry, d_inode);
  if (!(entry_protection(dentry, dir_inode) & WARD_PROTECT_NAME)) return 0;
  const struct ward_guard_config *c = file_guard();
  if (!c) return 0;
  return deny_file(c, WARD_GUARD_UNLINK, BPF_CORE_READ(dentry, d_inode), dentry, 0);
}

SEC("lsm/path_rmdir")
int BPF_PROG(ward_path_rmdir, const struct path *dir, struct dentry *dentry) {
  struct inode *dir_inode = BPF_CORE_READ(dir, dentry, d_inode);
  if (!(entry_protection(dentry, dir_inode) & WARD_PROTECT_NAME)) return 0;
  const struct ward_guard_config *c = file_guard();
  if (!c) return 0;
  return deny_file(c, WARD_GUARD_UNLINK, BPF_CORE_READ(dentry, d_inode), dentry, 1);
}

/* A new entry in a protected directory (open O_CREAT, mknod). */
SEC("lsm/path_mknod")
int BPF_PROG(ward_path_mknod, const struct path *dir, struct dentry *dentry) {
  struct inode *dir_inode = BPF_CORE_READ(dir, dentry, d_inode);
  if (!(protection_of(dir_inode) & WARD_PROTECT_CHILDREN)) return 0;
  const struct ward_guard_config *c = file_guard();
  if (!c) return 0;
  return deny_file(c, WARD_GUARD_OPEN_WRITE, dir_inode, dentry, 0);
}

SEC("lsm/path_rename")
int BPF_PROG(ward_path_rename, const struct path *old_dir, struct dentry *old_dentry, const struct path *new_dir,
             struct dentry *new_dentry) {
  struct inode *old_dir_inode = BPF_CORE_READ(old_dir, dentry, d_inode);
  struct inode *new_dir_inode = BPF_CORE_READ(new_dir, dentry, d_inode);
  /* Moving a protected entry away, or replacing one by a rename over it. */
  __u32 moved = entry_protection(old_dentry, old_dir_inode);
  __u32 replaced = entry_protection(new_dentry, new_dir_inode);
  if (protection_of(new_dir_inode) & WARD_PROTECT_CHILDREN) replaced |= WARD_PROTECT_NAME;
  if (!((moved | replaced) & (WARD_PROTECT_NAME | WARD_PROTECT_CONTENT))) return 0;
  const struct ward_guard_config *c = file_guard();
  if (!c) return 0;
  struct dentry *which = (moved & (WARD_PROTECT_NAME | WARD_PROTECT_CONTENT)) ? old_dentry : new_dentry;
  return deny_file(c, WARD_GUARD_RENAME, BPF_CORE_READ(which, d_inode), which, 0);
}

SEC("lsm/path_link")
int BPF_PROG(ward_path_link, struct dentry *old_dentry, const struct path *new_dir, struct dentry *new_dentry) {
  struct inode *new_dir_inode = BPF_CORE_READ(new_dir, dentry, d_inode);
  __u32 p = entry_protection(old_dentry, 0);
  if (protection_of(new_dir_inode) & WARD_PROTECT_CHILDREN) p |= WARD_PROTECT_NAME;
  if (!(p & (WARD_PROTECT_NAME | WARD_PROTECT_CONTENT))) return 0;
  const struct ward_guard_config *c = file_guard();
  if (!c) return 0;
  return deny_file(c, WARD_GUARD_LINK, BPF_CORE_READ(old_dentry, d_inode), old_dentry, 0);
}

/* Signals whose default action would stop the agent (it handles SIGHUP as
 * "reload"; SIGCHLD, SIGCONT, SIGURG, SIGWINCH do nothing to it). */
static __always_inline int stops_agent(int sig) {
  switch (sig) {
    case 0:  /* an existence probe: no signal */
    case 1:  /* SIGHUP */
    case 17: /* SIGCHLD */
    case 18: /* SIGCONT */
    case 23: /* SIGURG */
    case 28: /* SIGWINCH */
      return 0;
  }
  return 1;
}

SEC("lsm/task_kill")
int BPF_PROG(ward_task_kill, struct task_struct *p, struct kernel_siginfo *info, int sig, const struct cred *cred) {
  const struct ward_guard_config *c = guard_cfg();
  if (!c || !c->guard_signals || !c->agent_tgid) return 0;
  if ((__u32)BPF_CORE_READ(p, tgid) != c->agent_tgid || !stops_agent(sig) || is_agent(c)) return 0;
  if (c->unlocked) return 0;
  struct ward_guard_rec *r = begin(WARD_GUARD_SIGNAL, WARD_GUARD_DENIED);
  if (r) {
    r->target_tgid = c->agent_tgid;
    r->arg = sig;
    finish(r);
  }
  return -EPERM;
}

SEC("lsm/ptrace_access_check")
int BPF_PROG(ward_ptrace_access_check, struct task_struct *child, unsigned int mode) {
  const struct ward_guard_config *c = guard_cfg();
  if (!c || !c->guard_signals || !c->agent_tgid || !(mode & PTRACE_MODE_ATTACH)) return 0;
  if ((__u32)BPF_CORE_READ(child, tgid) != c->agent_tgid || is_agent(c) || c->unlocked) return 0;
  struct ward_guard_rec *r = begin(WARD_GUARD_PTRACE, WARD_GUARD_DENIED);
  if (r) {
    r->target_tgid = c->agent_tgid;
    r->arg = (__s32)mode;
    finish(r);
  }
  return -EPERM;
}

/* An fd to one of Ward's maps or programs would let root rewrite the policy
 * maps (or this config) behind the agent's back. */
static __always_inline int deny_bpf_object(__u32 id, int is_map) {
  const struct ward_guard_config *c = guard_cfg();
  if (!c || !c->guard_signals || is_agent(c) || c->unlocked) return 0;
  void *hit = is_map ? bpf_map_lookup_elem(&protected_map_ids, &id) : bpf_map_lookup_elem(&protected_prog_ids, &id);
  if (!hit) return 0;
  struct ward_guard_rec *r = begin(WARD_GUARD_BPF_OBJECT, WARD_GUARD_DENIED);
  if (r) {
    r->arg = (__s32)id;
    r->dev = is_map;
    finish(r);
  }
  return -EPERM;
}

SEC("lsm/bpf_map")
int BPF_PROG(ward_bpf_map, struct bpf_map *map, unsigned int fmode) {
  return deny_bpf_object(BPF_CORE_READ(map, id), 1);
}

SEC("lsm/bpf_prog")
int BPF_PROG(ward_bpf_prog, struct bpf_prog *prog) {
  return deny_bpf_object(BPF_CORE_READ(prog, aux, id), 0);
}

static __always_inline void inode_times(struct inode *inode, struct ward_exec_verdict *v) {
  if (bpf_core_field_exists(inode->i_mtime_sec)) {
    v->mtime_sec = BPF_CORE_READ(inode, i_mtime_sec);
    v->mtime_nsec = BPF_CORE_READ(inode, i_mtime_nsec);
    v->ctime_sec = BPF_CORE_READ(inode, i_ctime_sec);
    v->ctime_nsec = BPF_CORE_READ(inode, i_ctime_nsec) & WARD_NSEC_MASK;
  } else {
    struct inode___timespec *old = (void *)inode;
    v->mtime_sec = BPF_CORE_READ(old, i_mtime.tv_sec);
    v->mtime_nsec = BPF_CORE_READ(old, i_mtime.tv_nsec);
    if (bpf_core_field_exists(((struct inode___ctime_only *)inode)->__i_ctime)) {
      struct inode___ctime_only *co = (void *)inode;
      v->ctime_sec = BPF_CORE_READ(co, __i_ctime.tv_sec);
      v->ctime_nsec = BPF_CORE_READ(co, __i_ctime.tv_nsec);
    } else {
      v->ctime_sec = BPF_CORE_READ(old, i_ctime.tv_sec);
      v->ctime_nsec = BPF_CORE_READ(old, i_ctime.tv_nsec);
    }
  }
}

/* Sleepable: bpf_ima_file_hash() reads the whole file. bprm_check_security
 * runs with the file's writers denied (ETXTBSY), so the hash is that of
 * exactly what is about to run. */
SEC("lsm.s/bprm_check_security")
int BPF_PROG(ward_bprm_check, struct linux_binprm *bprm) {
  const struct ward_guard_config *c = guard_cfg();
  if (!c || c->exec_mode == WARD_EXEC_OFF) return 0;
  struct file *file = bprm->file;
  if (!file) return 0;
  struct inode *inode = BPF_CORE_READ(file, f_inode);
  struct ward_inode_key key = key_of(inode);
  struct ward_exec_verdict now = {};
  inode_times(inode, &now);
  now.generation = c->generation;

  __u32 policy = 0, rule_index = 0, hash_state = 0;
  struct ward_exec_verdict *cached = bpf_map_lookup_elem(&exec_verdicts, &key);
  if (cached && cached->generation == now.generation && cached->mtime_sec == now.mtime_sec &&
      cached->mtime_nsec == now.mtime_nsec && cached->ctime_sec == now.ctime_sec &&
      cached->ctime_nsec == now.ctime_nsec) {
    policy = cached->policy;
    rule_index = cached->rule_index;
  } else {
    __u8 hash[WARD_GUARD_SHA256_LEN] = {};
    long algo = bpf_ima_file_hash(file, hash, sizeof(hash));
    struct ward_guard_counters *n = counters();
    if (algo != HASH_ALGO_SHA256) {
      /* Not decidable here: the fanotify path (if scoped) still decides. */
      if (n) n->hash_failed++;
      hash_state = algo < 0 ? (__u32)-algo : 0xffff;
    } else {
      if (n) n->hashed++;
      struct ward_exec_rule *rule = bpf_map_lookup_elem(&exec_sha256_rules, hash);
      if (rule) {
        policy = rule->policy;
        rule_index = rule->rule_index;
      }
      now.policy = policy;
      now.rule_index = rule_index;
      bpf_map_update_elem(&exec_verdicts, &key, &now, BPF_ANY);
    }
  }
  if (hash_state) return 0;
  if (policy != WARD_EXEC_RULE_BLOCK && policy != WARD_EXEC_RULE_SILENT_BLOCK) return 0;

  int enforce = c->exec_mode == WARD_EXEC_ENFORCE;
  struct ward_guard_rec *r = begin(WARD_GUARD_EXEC, enforce ? WARD_GUARD_DENIED : WARD_GUARD_WOULD_DENY);
  if (r) {
    r->dev = key.dev;
    r->ino = key.ino;
    r->rule_index = (__s32)rule_index;
    r->arg = (__s32)policy;
    bpf_d_path((struct path *)&file->f_path, r->path, sizeof(r->path));
    finish(r);
  }
  return enforce ? -EPERM : 0;
}

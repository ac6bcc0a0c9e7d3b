/* Shared by the activity sensors (file.bpf.c, sys.bpf.c, net.bpf.c): the
 * maps every one of them declares (user space creates the mute maps once and
 * hands the same fds to each object before load), the instigator, the
 * forward path builder and the in-kernel mute evaluation.
 */
#ifndef WARD_BPF_WARD_ACTIVITY_BPF_H
#define WARD_BPF_WARD_ACTIVITY_BPF_H

#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "ward_event_wire.h"

/* Bounds the verifier can see: the empty asm makes the value opaque, so
 * the compiler cannot drop a mask or clamp it thinks redundant. */
#define WARD_MASK(x, mask)        \
  ({                              \
    __u64 __v = (x);              \
    asm volatile("" : "+r"(__v)); \
    __v&(mask);                   \
  })
#define WARD_MIN(x, max)              \
  ({                                  \
    __u64 __v = (x);                  \
    asm volatile("" : "+r"(__v));     \
    __v > (max) ? (__u64)(max) : __v; \
  })

/* Kernel objects are read with plain loads (BTF-typed pointers; the
 * verifier turns faults into zeros) rather than a probe-read helper call per
 * field: that is most of the cost of an event. bpf_rdonly_cast gives a raw
 * address its BTF type and costs nothing (the verifier inlines it). */
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id) __ksym;
#define WARD_CAST(ptr, type) ((type *)bpf_rdonly_cast((const void *)(ptr), bpf_core_type_id_kernel(type)))

/* Wake the reader only once this much is waiting (0 = every record); below
 * it the hub polls on its 10 ms timer. */
const volatile __u32 wakeup_bytes = 0;

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 16 * 1024 * 1024);
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, WARD_EV_TYPE_SLOTS);
  __type(key, __u32);
  __type(value, struct ward_ev_counters);
} counters SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, WARD_EV_TYPE_SLOTS);
  __type(key, __u32);
  __type(value, __u64);
} kseq SEC(".maps");

/* ---- shared with user space and the other activity objects ---- */

/* Clients subscribed to each record type; 0 = nobody, the type is off. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, WARD_EV_TYPE_SLOTS);
  __type(key, __u32);
  __type(value, __u64);
} subscribed SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ward_mute_config);
} mute_config SEC(".maps");

/* The agent's own processes (ward log's pipeline): never reported. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, __u8);
} self_tgid SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, __u8);
} self_pgid SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, struct ward_mute_process);
} mute_process SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 4096);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct ward_mute_key);
  __type(value, __u64);
} mute_exe_paths SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 4096);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct ward_mute_key);
  __type(value, __u64);
} mute_target_paths SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 8192);
  __type(key, __u32);
  __type(value, struct ward_exe_cache);
} exe_cache SEC(".maps");

/* ---- scratch ---- */

/* Forward paths are built backwards from the end of buf (as d_path does),
 * then copied to where they belong. */
#define WARD_TMP_END WARD_EV_STR_MAX
struct ward_scratch {
  char buf[WARD_TMP_END + WARD_EV_NAME_MAX];
  struct ward_mute_key key;
  char key_slack[WARD_MUTE_KEY_MAX]; /* lets the verifier see key + n stay in bounds */
  __u64 listed;                      /* out: clients listing the path looked up */
  __u32 exact;                       /* out: the lookup is exact */
  __u32 pad;
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ward_scratch);
} scratch SEC(".maps");

static __always_inline struct ward_scratch* get_scratch(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&scratch, &zero);
}

/* ---- counters and headers ---- */

static __always_inline void count_emitted(__u32 type, int dropped) {
  struct ward_ev_counters* c = bpf_map_lookup_elem(&counters, &type);
  if (!c) return;
  if (dropped)
    c->dropped++;
  else
    c->emitted++;
}

static __always_inline void count_muted(__u32 type) {
  struct ward_ev_counters* c = bpf_map_lookup_elem(&counters, &type);
  if (c) c->muted++;
}

static __always_inline __u64 next_kseq(__u32 type) {
  __u64* seq = bpf_map_lookup_elem(&kseq, &type);
  if (!seq) return 0;
  return __sync_fetch_and_add(seq, 1) + 1;
}

/* Wakes the reader when the unread data crosses wakeup_bytes, once: when
 * the reader lags, a wakeup per record (an IPI each) would tax every
 * syscall, and the reader polls on a timer anyway (a crossing missed when
 * CPUs race costs at most that timer). `pending`: nonzero when the query
 * does not see this record yet (before bpf_ringbuf_output), 0 when it does
 * (after bpf_ringbuf_reserve). */
static __always_inline __u64 wakeup_flags_crossing(__u64 size, __u64 pending) {
  if (wakeup_bytes == 0) return 0;
  __u64 step = (size + 8 + 7) & ~7ull; /* what the record takes in the ring: 8-byte header, 8-aligned */
  __u64 after = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + (pending ? step : 0);
  return after >= wakeup_bytes && after < wakeup_bytes + step ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* Sends a record built in scratch memory; counts it either way. A lost
 * record still takes its kseq, so user space sees the gap too. */
static __always_inline void submit_record(void* rec, __u64 size, __u64 max, __u32 type) {
  struct ward_rec_header* h = rec;
  h->type = type;
  h->version = WARD_WIRE_VERSION;
  h->size = size;
  h->boot_ns = bpf_ktime_get_boot_ns();
  h->kseq = next_kseq(type);
  h->cpu = bpf_get_smp_processor_id();
  h->tid = (__u32)bpf_get_current_pid_tgid();
  if (size > max) size = max;
  /* Keep the clamp where the verifier sees it. */
  asm volatile("" : "+r"(size));
  if (size > max) return;
  long err = bpf_ringbuf_output(&events, rec, size, wakeup_flags_crossing(size, size));
  count_emitted(type, err != 0);
}

/* ---- processes ---- */

static __always_inline __u32 pid_nr_of(struct task_struct *task, enum pid_type type) {
  struct pid *pid = task->signal->pids[type];
  return pid ? pid->numbers[0].nr : 0;
}

/* What the process tree needs to name the instigator (not its tty: the tree
 * knows every process it has seen fork or exec). */
static __noinline void fill_proc(struct ward_proc *p, struct task_struct *task) {
  if (!p) return;
  const struct cred *cred = task->cred;
  p->tgid = task->tgid;
  p->ppid = task->real_parent->tgid;
  p->pgid = pid_nr_of(task, PIDTYPE_PGID);
  p->sid = pid_nr_of(task, PIDTYPE_SID);
  p->ruid = cred->uid.val;
  p->euid = cred->euid.val;
  p->suid = cred->suid.val;
  p->rgid = cred->gid.val;
  p->egid = cred->egid.val;
  p->sgid = cred->sgid.val;
  p->auid = 0xffffffff;
  p->sessionid = 0xffffffff;
  if (bpf_core_field_exists(task->loginuid)) {
    p->auid = task->loginuid.val;
    p->sessionid = task->sessionid;
  }
  p->start_boot_ns = task->group_leader->start_boottime;
  __builtin_memcpy(p->comm, task->comm, WARD_COMM_LEN);
  p->comm[WARD_COMM_LEN - 1] = 0;
  p->tty_major = 0;
  p->tty_minor = 0;
  p->tty_name[0] = 0;
}

static __always_inline struct task_struct *current_task(void) { return bpf_get_current_task_btf(); }

/* ---- files ---- */

/* Nanoseconds are < 10^9 < 2^30: anything above is a flag bit. */
#define WARD_NSEC_MASK ((1u << 30) - 1)

struct inode___timespec {
  struct timespec64 i_mtime;
  struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

struct inode___ctime_only {
  struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));

/* Reads through BPF_CORE_READ so that inode may be a BTF pointer or a plain
 * address the verifier knows only as a scalar (BPF_CORE_READ's result). */
static __always_inline void fill_inode(struct ward_file *f, struct inode *inode) {
  if (!inode) return;
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

/* The struct file behind fd in the current process, or NULL. fd arguments
 * are C ints: the upper half of the register is not theirs. */
static __always_inline __u64 file_addr_of_fd(int fd) {
  if (fd < 0) return 0;
  struct fdtable *fdt = current_task()->files->fdt;
  if ((unsigned int)fd >= fdt->max_fds) return 0;
  struct file **fds = fdt->fd;
  __u64 file = 0;
  bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
  return file;
}

/* A kernel pointer as a plain address. A cast alone keeps the verifier's
 * pointer type, and a global function's scalar argument refuses that; a
 * copy through bpf_probe_read_kernel yields a scalar. */
static __always_inline __u64 ward_addr(const void *ptr) {
  __u64 addr = 0;
  bpf_probe_read_kernel(&addr, sizeof(addr), &ptr);
  return addr;
}

/* Global functions take kernel objects as plain addresses (the verifier
 * checks them once, not per caller); *_addr values are such addresses. */
static __always_inline struct file *file_of_fd(int fd) {
  __u64 file = file_addr_of_fd(fd);
  return file ? WARD_CAST(file, struct file) : 0;
}

/* Builds the path of (dentry, vfsmnt) as "/a/b" so that it ends at
 * s->buf[WARD_TMP_END], crossing mount points up to the namespace root.
 * Returns its length; bit 31 is set when the walk stopped early. One
 * component per bpf_loop step: the verifier checks the step once, instead of
 * every unrolled iteration with its own bounds. */
#define WARD_PATH_LEN_MASK 0x7fffffff
#define WARD_PATH_CUT (1u << 31)

struct ward_walk {
  struct dentry *dentry;
  struct mount *mnt;
  struct mount *mnt_parent;
  struct dentry *mnt_root;
  __u32 pos;
  __u32 cut;
};

static long ward_walk_step(__u64 i, struct ward_walk *w) {
  struct ward_scratch *s = get_scratch();
  if (!s) return 1;
  struct dentry *dentry = WARD_CAST(w->dentry, struct dentry);
  struct dentry *parent = dentry->d_parent;
  if (dentry == w->mnt_root || dentry == parent) {
    struct mount *mnt = WARD_CAST(w->mnt, struct mount);
    struct mount *up = WARD_CAST(w->mnt_parent, struct mount);
    if (mnt != up) {
      /* Top of a mount: continue from where it is mounted. */
      w->dentry = mnt->mnt_mountpoint;
      w->mnt = up;
      w->mnt_parent = up->mnt_parent;
      w->mnt_root = up->mnt.mnt_root;
      return 0;
    }
    w->cut = 0;
    return 1;
  }
  __u32 len = dentry->d_name.len;
  const unsigned char *name = dentry->d_name.name;
  __u32 pos = w->pos;
  if (len == 0 || len >= WARD_EV_NAME_MAX || pos < len + 1 || pos > WARD_TMP_END) return 1;
  pos -= len + 1;
  __u64 at = WARD_MASK(pos, WARD_TMP_END - 1);
  s->buf[at] = '/';
  if (bpf_probe_read_kernel(&s->buf[at + 1], WARD_MASK(len, WARD_EV_NAME_MAX - 1), name) != 0) return 1;
  w->pos = pos;
  w->dentry = parent;
  return 0;
}

__noinline __u32 ward_build_path(struct ward_scratch *s, __u64 dentry_addr, __u64 vfsmnt_addr) {
  if (!s) return WARD_PATH_CUT;
  struct mount *mnt = WARD_CAST(vfsmnt_addr - bpf_core_field_offset(struct mount, mnt), struct mount);
  struct ward_walk w = {};
  w.dentry = (struct dentry *)dentry_addr;
  w.mnt = mnt;
  w.mnt_parent = mnt->mnt_parent;
  w.mnt_root = mnt->mnt.mnt_root;
  w.pos = WARD_TMP_END;
  w.cut = WARD_PATH_CUT;
  bpf_loop(WARD_PATH_DEPTH, ward_walk_step, &w, 0);
  __u32 pos = w.pos;
  if (pos >= WARD_TMP_END) {
    /* The root itself. */
    pos = WARD_TMP_END - 1;
    s->buf[pos] = '/';
  }
  return (WARD_TMP_END - pos) | w.cut;
}

/* Appends the path built in scratch (the last `len` bytes before
 * WARD_TMP_END) to data at *off. */
static __always_inline void copy_built_path(char* data, __u32* off, struct ward_piece* piece,
                                            struct ward_scratch* s, __u32 len) {
  __u32 o = *off;
  piece->off = o;
  piece->len = 0;
  if (o > WARD_EV_OFF_LIMIT) return;
  __u64 n = WARD_MIN(len, WARD_EV_STR_MAX);
  if (bpf_probe_read_kernel(&data[WARD_MIN(o, WARD_EV_OFF_LIMIT)], n, &s->buf[WARD_TMP_END - n]) != 0) return;
  piece->len = n;
  *off = o + len;
}

/* ---- muting ---- */

static __always_inline struct ward_mute_config* get_mute_config(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&mute_config, &zero);
}

static __always_inline __u64 subscribed_clients(__u32 type) {
  __u64* m = bpf_map_lookup_elem(&subscribed, &type);
  return m ? *m : 0;
}

static __always_inline int is_self(struct task_struct* task) {
  __u32 tgid = task->tgid;
  if (bpf_map_lookup_elem(&self_tgid, &tgid)) return 1;
  __u32 pgid = pid_nr_of(task, PIDTYPE_PGID);
  return bpf_map_lookup_elem(&self_pgid, &pgid) != 0;
}

/* Looks the first WARD_MUTE_KEY_MAX bytes of the path in s->key (len bytes)
 * up in a trie: s->listed gets the clients that list it. */
static __always_inline __u64 trie_lookup(void* trie, struct ward_scratch* s, __u32 len) {
  if (len < WARD_MUTE_KEY_MAX) {
    s->key.data[WARD_MASK(len, WARD_MUTE_KEY_MAX - 1)] = 0; /* literal entries end with NUL */
    len++;
  } else {
    len = WARD_MUTE_KEY_MAX;
  }
  s->key.prefixlen = len * 8;
  __u64* listed = bpf_map_lookup_elem(trie, &s->key);
  return listed ? *listed : 0;
}

/* The mute terms that depend only on the instigating process: clients that
 * drop everything it does. Cached per image and mute generation. */
static __noinline __u64 process_drop_clients(struct ward_mute_config* cfg, struct task_struct* task) {
  if (!cfg) return 0;
  __u64 drop = 0;
  __u32 tgid = task->tgid;

  /* mute_process XOR invert_process */
  __u64 muted = 0;
  if (cfg->has_process_mutes) {
    struct ward_mute_process* mp = bpf_map_lookup_elem(&mute_process, &tgid);
    if (mp) {
      __u64 start = task->group_leader->start_boottime;
      /* /proc-seeded start times are tick-grained: allow 20 ms. */
      __u64 diff = start > mp->start_boot_ns ? start - mp->start_boot_ns : mp->start_boot_ns - start;
      if (diff < 20000000ull) {
        __u64 exec_id = task->self_exec_id + 1;
        if (mp->exec_id_plus1 == 0) __sync_val_compare_and_swap(&mp->exec_id_plus1, 0, exec_id);
        if (mp->exec_id_plus1 == exec_id) muted = mp->clients;
      }
    }
  }
  drop |= muted ^ cfg->invert_process;

  /* exe path listed XOR invert_exe, for clients whose list is exact */
  __u64 listed = 0;
  __u32 exact = 1;
  if (cfg->has_exe_paths) {
    __u64 mm = (__u64)task->mm;
    struct ward_exe_cache* c = bpf_map_lookup_elem(&exe_cache, &tgid);
    if (c && c->mm == mm && c->generation == cfg->generation) {
      listed = c->listed;
      exact = c->exact;
    } else {
      struct ward_scratch* s = get_scratch();
      struct file *exe = task->mm->exe_file;
      exact = 0;
      if (s && exe) {
        __u32 r = ward_build_path(s, (__u64)BPF_CORE_READ(exe, f_path.dentry), (__u64)BPF_CORE_READ(exe, f_path.mnt));
        __u32 len = r & WARD_PATH_LEN_MASK;
        if (!(r & WARD_PATH_CUT) && len <= WARD_EV_STR_MAX) {
          __u64 n = WARD_MIN(len, WARD_MUTE_KEY_MAX);
          __u64 from = WARD_MASK(WARD_TMP_END - len, WARD_TMP_END - 1);
          bpf_probe_read_kernel(s->key.data, n, &s->buf[from]);
          listed = trie_lookup(&mute_exe_paths, s, n);
          exact = 1;
        }
      }
      struct ward_exe_cache fresh = {
          .mm = mm, .generation = cfg->generation, .listed = listed, .exact = exact};
      bpf_map_update_elem(&exe_cache, &tgid, &fresh, BPF_ANY);
    }
  }
  if (exact) drop |= (listed ^ cfg->invert_exe) & cfg->exe_exact;
  return drop;
}

/* Whether the event stops here: nobody subscribed, the agent's own process,
 * or every subscribed client mutes this process. Sets *drop to the clients
 * that already drop it (for the target terms to add to). */
static __always_inline int early_filter(__u32 type, struct task_struct* task, __u64* sub, __u64* drop) {
  *sub = subscribed_clients(type);
  if (*sub == 0) return 1;
  if (is_self(task)) return 1;
  *drop = 0;
  struct ward_mute_config* cfg = get_mute_config();
  if (!cfg || !cfg->enabled) return 0;
  *drop = process_drop_clients(cfg, task);
  if ((*drop & *sub) == *sub) {
    count_muted(type);
    return 1;
  }
  return 0;
}

#endif /* WARD_BPF_WARD_ACTIVITY_BPF_H */

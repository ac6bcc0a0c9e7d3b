/* File-shaped records (struct ward_fs_rec): per-thread capture of the path
 * strings a syscall was given (at sys_enter, before the kernel copies them,
 * so a thread rewriting the buffer during the call cannot change what we
 * report), and the path slots built at sys_exit from the kernel's own
 * objects (a struct file, the cwd, the root). Included by file.bpf.c,
 * sys.bpf.c and net.bpf.c after ward_activity.bpf.h.
 */
#ifndef WARD_BPF_WARD_FS_PATHS_BPF_H
#define WARD_BPF_WARD_FS_PATHS_BPF_H

#include "ward_activity.bpf.h"

#define WARD_AT_FDCWD -100
#define WARD_AT_EMPTY_PATH 0x1000

/* What sys_enter kept for the thread's syscall in flight. */
struct ward_pending {
  __u32 nr_plus1; /* the syscall that filled it, + 1; 0 = none */
  __u32 flags[2]; /* per string: WARD_EVP_FAULTED */
  __u32 len[2];   /* bytes, without the NUL */
  __u32 has_extra;
  __u64 extra[16]; /* small structs read at entry: times, a sockaddr, bpf attrs */
  char str[2][WARD_EV_STR_MAX];
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 2048);
  __type(key, __u32); /* tid */
  __type(value, struct ward_pending);
} pending SEC(".maps");

/* Zeroed template for new pending entries, and the fallback when a thread's
 * entry was evicted: its strings are then read at exit (WARD_EVP_LATE_READ). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ward_pending);
} pending_spare SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ward_fs_rec);
} fs_rec_scratch SEC(".maps");

static __always_inline struct ward_pending* pending_spare_get(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&pending_spare, &zero);
}

static __always_inline struct ward_fs_rec* fs_rec_get(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&fs_rec_scratch, &zero);
}

/* Reads user string `src` into p->str[idx]. */
static __always_inline void read_user_str(struct ward_pending* p, __u32 idx, const char* src) {
  idx &= 1;
  p->len[idx] = 0;
  p->flags[idx] = 0;
  if (!src) return;
  long n = bpf_probe_read_user_str(p->str[idx], WARD_EV_STR_MAX, src);
  if (n <= 0) {
    p->flags[idx] = WARD_EVP_FAULTED;
    return;
  }
  p->len[idx] = (__u32)n - 1;
}

/* The thread's pending entry, created on first use and kept (the LRU evicts
 * threads that are gone), so a hot thread never copies the template. */
static __always_inline struct ward_pending* pending_for_enter(void) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct ward_pending* p = bpf_map_lookup_elem(&pending, &tid);
  if (p) return p;
  struct ward_pending* tmpl = pending_spare_get();
  if (!tmpl) return 0;
  tmpl->nr_plus1 = 0;
  bpf_map_update_elem(&pending, &tid, tmpl, BPF_NOEXIST);
  return bpf_map_lookup_elem(&pending, &tid);
}

/* At exit: the entry sys_enter filled for this syscall, or NULL. */
static __always_inline struct ward_pending* pending_for_exit(__u32 nr) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct ward_pending* p = bpf_map_lookup_elem(&pending, &tid);
  if (!p || p->nr_plus1 != nr + 1) return 0;
  p->nr_plus1 = 0;
  return p;
}

/* At exit: a string sys_enter could not read (BPF cannot fault a page in,
 * and a forked child's first touch of a string faults) is there now that
 * the kernel itself has read it. */
static __always_inline void reread_faulted(struct ward_pending* p, const char* s0, const char* s1) {
  if (p->flags[0] & WARD_EVP_FAULTED) {
    read_user_str(p, 0, s0);
    p->flags[0] |= WARD_EVP_LATE_READ;
  }
  if (p->flags[1] & WARD_EVP_FAULTED) {
    read_user_str(p, 1, s1);
    p->flags[1] |= WARD_EVP_LATE_READ;
  }
}

/* At exit when sys_enter's entry is missing: read the strings now. */
static __always_inline struct ward_pending* pending_late(const char* s0, const char* s1) {
  struct ward_pending* p = pending_spare_get();
  if (!p) return 0;
  p->has_extra = 0;
  read_user_str(p, 0, s0);
  read_user_str(p, 1, s1);
  p->flags[0] |= WARD_EVP_LATE_READ;
  p->flags[1] |= WARD_EVP_LATE_READ;
  return p;
}

static __always_inline void clear_slot(struct ward_ev_path* slot, __u32 off) {
  slot->base.off = off;
  slot->base.len = 0;
  slot->rel.off = off;
  slot->rel.len = 0;
  slot->flags = 0;
  slot->pad = 0;
}

/* Slot = the path of (dentry, vfsmnt), appended at off; returns the new off. */
__noinline __u32 ward_slot_from_path(struct ward_fs_rec* r, __u32 slot, __u32 off, __u64 dentry, __u64 mnt) {
  struct ward_scratch* s = get_scratch();
  if (!r || !s) return off;
  struct ward_ev_path* p = &r->path[slot & 1];
  __u32 res = ward_build_path(s, dentry, mnt);
  if (res & WARD_PATH_CUT) p->flags |= WARD_EVP_TRUNCATED;
  copy_built_path(r->data, &off, &p->base, s, res & WARD_PATH_LEN_MASK);
  return off;
}

/* Slot = an open file: its path and its inode's stat. */
__noinline __u32 ward_slot_from_file(struct ward_fs_rec* r, __u32 slot, __u32 off, __u64 file_addr) {
  if (!r) return off;
  struct ward_ev_path* p = &r->path[slot & 1];
  clear_slot(p, off);
  struct file* file = file_addr ? WARD_CAST(file_addr, struct file) : 0;
  if (!file) return off;
  off = ward_slot_from_path(r, slot, off, (__u64)BPF_CORE_READ(file, f_path.dentry),
                            (__u64)BPF_CORE_READ(file, f_path.mnt));
  fill_inode(&p->stat, file->f_inode);
  p->flags |= WARD_EVP_HAS_STAT;
  return off;
}

/* Appends pending string idx as the slot's rel piece. */
static __always_inline __u32 append_rel(struct ward_fs_rec* r, struct ward_ev_path* p, __u32 off,
                                        struct ward_pending* pend, __u32 idx) {
  idx &= 1;
  p->rel.off = off;
  p->rel.len = 0;
  p->flags |= pend->flags[idx];
  __u32 len = pend->len[idx];
  if (len == 0 || off > WARD_EV_OFF_LIMIT) return off;
  __u64 n = WARD_MIN(len, WARD_EV_STR_MAX);
  if (bpf_probe_read_kernel(&r->data[WARD_MIN(off, WARD_EV_OFF_LIMIT)], n, pend->str[idx]) != 0) return off;
  p->rel.len = n;
  return off + n;
}

/* Slot = pending string idx, resolved the way the kernel resolves it: an
 * absolute path from the process root, a relative one from dirfd (or the
 * cwd), an empty one with AT_EMPTY_PATH (or a NULL path) names dirfd itself. */
#define WARD_SLOT(slot, idx, empty_means_fd) ((slot) | ((idx) << 1) | ((empty_means_fd) << 2))
__noinline __u32 ward_slot_from_string(struct ward_fs_rec* r, __u32 off, struct ward_pending* pend, __u32 how,
                                       __s64 dirfd) {
  if (!r || !pend) return off;
  __u32 slot = how & 1, idx = (how >> 1) & 1, empty_means_fd = (how >> 2) & 1;
  struct ward_ev_path* p = &r->path[slot];
  clear_slot(p, off);
  __u32 len = pend->len[idx];
  if (len == 0 && empty_means_fd && !(pend->flags[idx] & WARD_EVP_FAULTED))
    return ward_slot_from_file(r, slot, off, file_addr_of_fd(dirfd));
  struct task_struct* task = current_task();
  if (len > 0 && pend->str[idx][0] == '/') {
    off = ward_slot_from_path(r, slot, off, (__u64)BPF_CORE_READ(task, fs, root.dentry),
                              (__u64)BPF_CORE_READ(task, fs, root.mnt));
  } else if (dirfd == WARD_AT_FDCWD) {
    off = ward_slot_from_path(r, slot, off, (__u64)BPF_CORE_READ(task, fs, pwd.dentry),
                              (__u64)BPF_CORE_READ(task, fs, pwd.mnt));
  } else {
    struct file* dir = file_of_fd(dirfd);
    if (!dir) {
      p->flags |= WARD_EVP_TRUNCATED;
    } else {
      off = ward_slot_from_path(r, slot, off, (__u64)BPF_CORE_READ(dir, f_path.dentry),
                                (__u64)BPF_CORE_READ(dir, f_path.mnt));
    }
  }
  return append_rel(r, p, off, pend, idx);
}

/* Slot = pending string idx as a literal (a symlink's target, an xattr name,
 * a mount source): no resolution. */
__noinline __u32 ward_slot_literal(struct ward_fs_rec* r, __u32 slot, __u32 off, struct ward_pending* pend,
                                   __u32 idx) {
  if (!r || !pend) return off;
  struct ward_ev_path* p = &r->path[slot & 1];
  clear_slot(p, off);
  return append_rel(r, p, off, pend, idx);
}

/* One byte of the simplicity scan of a user path (bpf_loop step). An
 * all-dots component ("...") counts as not simple too: harmless, only less
 * filtering. */
struct ward_scan {
  __u32 off, len;
  __u32 comp, dots;
  __u32 absolute, bad;
};

static long ward_scan_step(__u64 i, struct ward_scan* sc) {
  struct ward_fs_rec* r = fs_rec_get();
  if (!r || i >= sc->len) return 1;
  char c = r->data[WARD_MASK(sc->off + i, WARD_EV_DATA_SIZE - 1)];
  if (c == '/') {
    if (i == 0) {
      sc->absolute = 1;
      return 0;
    }
    if (sc->comp == 0 || sc->comp == sc->dots) {
      sc->bad = 1; /* "//", "/./", "/../" */
      return 1;
    }
    sc->comp = 0;
    sc->dots = 0;
    return 0;
  }
  sc->comp++;
  if (c == '.') sc->dots++;
  return 0;
}

/* Target path terms. A path is given as base (built, data[b_off..b_off+b_len))
 * and rel (a user string, data[r_off..]); rel empty = base alone. Writes
 * the first WARD_MUTE_KEY_MAX bytes of the joined path to s->key and looks
 * them up; s->exact = 0 when the join cannot be known to equal user space's
 * normalised path (rel with "." / ".." / "//" / a trailing "/", or longer
 * than the key). */
__noinline __u32 ward_target_lookup(struct ward_scratch* s, struct ward_fs_rec* r, __u32 slot) {
  if (!s || !r) return 0;
  s->listed = 0;
  s->exact = 0;
  struct ward_ev_path* p = &r->path[slot & 1];
  if (p->flags & (WARD_EVP_TRUNCATED | WARD_EVP_FAULTED | WARD_EVP_ABSTRACT)) return 0;
  __u32 b_off = p->base.off, b_len = p->base.len, r_off = p->rel.off, r_len = p->rel.len;
  if (b_off > WARD_EV_OFF_LIMIT || r_off > WARD_EV_OFF_LIMIT || r_len >= WARD_MUTE_KEY_MAX) return 0;

  /* rel must be "simple": components that are neither empty, "." nor "..". */
  struct ward_scan scan = {.off = r_off, .len = r_len};
  bpf_loop(WARD_MUTE_KEY_MAX, ward_scan_step, &scan, 0);
  if (scan.bad) return 0;
  if (r_len > 0 && (scan.comp == 0 || (scan.comp == scan.dots && scan.comp <= 2))) return 0;
  int absolute = scan.absolute;

  /* key = base [+ "/" + rel] (an absolute rel replaces a base of "/"). */
  __u32 k = 0;
  if (r_len == 0 || !absolute || !(b_len == 1 && r->data[WARD_MASK(b_off, WARD_EV_DATA_SIZE - 1)] == '/')) {
    __u64 n = WARD_MIN(b_len, WARD_MUTE_KEY_MAX);
    bpf_probe_read_kernel(s->key.data, n, &r->data[WARD_MIN(b_off, WARD_EV_OFF_LIMIT)]);
    k = n;
    /* A relative rel after a base other than "/" needs the separator. */
    if (r_len > 0 && !absolute && !(b_len == 1 && s->key.data[0] == '/') && k < WARD_MUTE_KEY_MAX) {
      s->key.data[WARD_MASK(k, WARD_MUTE_KEY_MAX - 1)] = '/';
      k++;
    }
  }
  if (r_len > 0 && k < WARD_MUTE_KEY_MAX) {
    __u32 room = WARD_MUTE_KEY_MAX - k;
    __u64 n = WARD_MIN(room < r_len ? room : r_len, WARD_MUTE_KEY_MAX - 1);
    bpf_probe_read_kernel(&s->key.data[WARD_MASK(k, WARD_MUTE_KEY_MAX - 1)], n,
                          &r->data[WARD_MIN(r_off, WARD_EV_OFF_LIMIT)]);
    k += n;
  }
  if (k > WARD_MUTE_KEY_MAX) k = WARD_MUTE_KEY_MAX;
  s->listed = trie_lookup(&mute_target_paths, s, k);
  s->exact = 1;
  return 1;
}

/* Adds the target terms for a record with `targets` paths (0, 1 or 2) to
 * drop; returns 1 when every subscribed client drops it. */
static __always_inline int targets_drop(struct ward_fs_rec* r, __u32 targets, __u64 sub, __u64 drop) {
  struct ward_mute_config* cfg = get_mute_config();
  if (!cfg || !cfg->enabled) return 0;
  __u64 all_listed = ~0ull, none_listed = ~0ull;
  if (cfg->has_target_paths && targets > 0) {
    struct ward_scratch* s = get_scratch();
    if (!s) return 0;
    for (__u32 slot = 0; slot < 2; slot++) {
      if (slot >= targets) break;
      ward_target_lookup(s, r, slot);
      if (!s->exact) return (drop & sub) == sub; /* target terms unknown */
      all_listed &= s->listed;
      none_listed &= ~s->listed;
    }
  } else if (targets > 0) {
    all_listed = 0; /* no entries: nothing listed */
  }
  if (targets == 0) all_listed = 0; /* "every target listed" needs a target */
  drop |= all_listed & ~cfg->invert_target & cfg->target_exact;
  drop |= none_listed & cfg->invert_target & cfg->target_exact;
  return (drop & sub) == sub;
}

static __always_inline void fill_head(struct ward_ev_head* h, struct task_struct* task, __u32 nr, long ret) {
  fill_proc(&h->proc, task);
  h->syscall_nr = nr;
  h->flags = 0;
  h->result = ret;
}

/* Sends r unless every subscribed client mutes it by its `targets` paths
 * (0, 1 or 2 slots; WARD_TARGETS_UNKNOWN when the kernel cannot tell). */
#define WARD_TARGETS_UNKNOWN 0xff
static __always_inline void finish_fs(struct ward_fs_rec* r, __u32 type, __u32 off, __u32 targets, __u64 sub,
                                      __u64 drop) {
  if (targets == WARD_TARGETS_UNKNOWN) {
    if ((drop & sub) == sub) {
      count_muted(type);
      return;
    }
  } else if (targets_drop(r, targets, sub, drop)) {
    count_muted(type);
    return;
  }
  submit_record(r, (__u64) __builtin_offsetof(struct ward_fs_rec, data) + off, sizeof(*r), type);
}

#endif /* WARD_BPF_WARD_FS_PATHS_BPF_H */

// SPDX-License-Identifier: GPL-2.0
/* Ward file sensor: open, close, first write, create, unlink, rename, link,
 * truncate, setmode, setowner, utimes, set/delete extattr, mmap (executable
 * file mappings), mprotect (adding exec).
 *
 * Two raw syscall tracepoints, dispatched by number: sys_enter keeps the path
 * strings of the calls that name files by path; sys_exit reports successful
 * calls, with paths resolved from the kernel's objects where the call leaves
 * one (the new fd of an open, the fd argument) and otherwise from the
 * directory the kernel started the lookup from plus the string.
 */
#include "ward_fs_paths.bpf.h"
#include "ward_syscalls.h"

char LICENSE[] SEC("license") = "GPL";

#define WARD_O_ACCMODE 03
#define WARD_O_CREAT 0100
#define WARD_O_TRUNC 01000
#define WARD_AT_REMOVEDIR 0x200
#define WARD_PROT_EXEC 0x4
#define WARD_MAP_ANONYMOUS 0x20
#define WARD_FMODE_WRITE 0x2
#define WARD_FMODE_PATH (1u << 14)
#define WARD_FMODE_CREATED (1u << 20)
#define WARD_S_IFMT 00170000
#define WARD_S_IFREG 0100000
#define WARD_S_IFDIR 0040000
#define WARD_S_IFLNK 0120000
#define WARD_VM_EXEC 0x4

/* Open files written since they were opened: the first write is reported,
 * and close says whether the file was modified. Keyed by struct file; the
 * inode guards against a freed file's address being reused. */
struct ward_written {
  __u64 inode;
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, __u64);
  __type(value, struct ward_written);
} written SEC(".maps");

static __always_inline int is_regular(struct file* file) {
  umode_t mode = file->f_inode->i_mode;
  return (mode & WARD_S_IFMT) == WARD_S_IFREG;
}

/* The record type a path syscall produces. */
static __always_inline __u32 type_of_path_syscall(long nr) {
  switch (nr) {
    case NR_unlink:
    case NR_unlinkat:
    case NR_rmdir:
      return WARD_EV_UNLINK;
    case NR_rename:
    case NR_renameat:
    case NR_renameat2:
      return WARD_EV_RENAME;
    case NR_link:
    case NR_linkat:
      return WARD_EV_LINK;
    case NR_symlink:
    case NR_symlinkat:
    case NR_mkdir:
    case NR_mkdirat:
    case NR_mknod:
    case NR_mknodat:
      return WARD_EV_CREATE;
    case NR_truncate:
      return WARD_EV_TRUNCATE;
    case NR_chmod:
    case NR_fchmodat:
    case NR_fchmodat2:
      return WARD_EV_SETMODE;
    case NR_chown:
    case NR_lchown:
    case NR_fchownat:
      return WARD_EV_SETOWNER;
    case NR_utime:
    case NR_utimes:
    case NR_futimesat:
    case NR_utimensat:
      return WARD_EV_UTIMES;
    case NR_setxattr:
    case NR_lsetxattr:
    case NR_fsetxattr:
    case NR_setxattrat:
      return WARD_EV_SETEXTATTR;
    case NR_removexattr:
    case NR_lremovexattr:
    case NR_fremovexattr:
    case NR_removexattrat:
      return WARD_EV_DELETEEXTATTR;
  }
  return 0;
}

/* The user strings of a path syscall: [0] the (first) file, [1] the second
 * file or a literal (symlink target, xattr name). */
static __always_inline void strings_of(long nr, struct pt_regs* regs, const char** s0, const char** s1) {
  unsigned long a0 = PT_REGS_PARM1_CORE_SYSCALL(regs);
  unsigned long a1 = PT_REGS_PARM2_CORE_SYSCALL(regs);
  unsigned long a3 = PT_REGS_PARM4_CORE_SYSCALL(regs);
  *s0 = 0;
  *s1 = 0;
  switch (nr) {
    case NR_unlink:
    case NR_rmdir:
    case NR_mkdir:
    case NR_mknod:
    case NR_truncate:
    case NR_chmod:
    case NR_chown:
    case NR_lchown:
    case NR_utime:
    case NR_utimes:
      *s0 = (const char*)a0;
      break;
    case NR_unlinkat:
    case NR_mkdirat:
    case NR_mknodat:
    case NR_fchmodat:
    case NR_fchmodat2:
    case NR_fchownat:
    case NR_futimesat:
    case NR_utimensat:
      *s0 = (const char*)a1;
      break;
    case NR_rename:
    case NR_link:
    case NR_setxattr:
    case NR_lsetxattr:
    case NR_removexattr:
    case NR_lremovexattr:
      *s0 = (const char*)a0;
      *s1 = (const char*)a1;
      break;
    case NR_renameat:
    case NR_renameat2:
    case NR_linkat:
    case NR_setxattrat:
    case NR_removexattrat:
      *s0 = (const char*)a1;
      *s1 = (const char*)a3;
      break;
    case NR_symlink: /* (target, linkpath) */
      *s0 = (const char*)a1;
      *s1 = (const char*)a0;
      break;
    case NR_symlinkat: /* (target, newdirfd, linkpath) */
      *s0 = (const char*)PT_REGS_PARM3_CORE_SYSCALL(regs);
      *s1 = (const char*)a0;
      break;
    case NR_fsetxattr:
    case NR_fremovexattr:
      *s1 = (const char*)a1;
      break;
  }
}

/* utime/utimes/futimesat/utimensat: the requested times as timespecs in
 * extra[0..3] (UTIME_NOW / UTIME_OMIT kept as the kernel defines them). */
#define WARD_UTIME_NOW ((1l << 30) - 1l)
#define WARD_UTIME_OMIT ((1l << 30) - 2l)
static __always_inline void read_times(long nr, struct pt_regs* regs, struct ward_pending* p) {
  const void* times = 0;
  switch (nr) {
    case NR_utime:
    case NR_utimes:
      times = (const void*)PT_REGS_PARM2_CORE_SYSCALL(regs);
      break;
    case NR_futimesat:
    case NR_utimensat:
      times = (const void*)PT_REGS_PARM3_CORE_SYSCALL(regs);
      break;
    default:
      return;
  }
  p->has_extra = 0;
  if (!times) return; /* NULL: both now */
  __s64 t[4] = {};
  if (nr == NR_utime) {
    __s64 ut[2] = {}; /* struct utimbuf: seconds */
    if (bpf_probe_read_user(ut, sizeof(ut), times) != 0) return;
    t[0] = ut[0];
    t[2] = ut[1];
  } else {
    if (bpf_probe_read_user(t, sizeof(t), times) != 0) return;
    if (nr != NR_utimensat) { /* struct timeval: microseconds */
      t[1] *= 1000;
      t[3] *= 1000;
    }
  }
  p->extra[0] = t[0];
  p->extra[1] = t[1];
  p->extra[2] = t[2];
  p->extra[3] = t[3];
  p->has_extra = 1;
}

static __always_inline int on_path_enter(struct pt_regs* regs, long nr) {
  __u32 type = type_of_path_syscall(nr);
  if (!type || subscribed_clients(type) == 0) return 0;
  if (is_self(current_task())) return 0;
  struct ward_pending* p = pending_for_enter();
  if (!p) return 0;
  const char *s0, *s1;
  strings_of(nr, regs, &s0, &s1);
  read_user_str(p, 0, s0);
  read_user_str(p, 1, s1);
  p->has_extra = 0;
  read_times(nr, regs, p);
  p->nr_plus1 = (__u32)nr + 1;
  return 0;
}

/* mprotect adding PROT_EXEC: remember whether the mapping had no exec yet. */
static long vma_has_exec(struct task_struct* task, struct vm_area_struct* vma, void* ctx) {
  *(int*)ctx = (vma->vm_flags & WARD_VM_EXEC) != 0;
  return 0;
}

static __always_inline int on_mprotect_enter(struct pt_regs* regs) {
  unsigned long prot = PT_REGS_PARM3_CORE_SYSCALL(regs);
  if (!(prot & WARD_PROT_EXEC) || subscribed_clients(WARD_EV_MPROTECT) == 0) return 0;
  int had_exec = 0;
  bpf_find_vma(bpf_get_current_task_btf(), PT_REGS_PARM1_CORE_SYSCALL(regs), vma_has_exec, &had_exec, 0);
  if (had_exec) return 0;
  struct ward_pending* p = pending_for_enter();
  if (!p) return 0;
  p->len[0] = p->len[1] = 0;
  p->flags[0] = p->flags[1] = 0;
  p->nr_plus1 = NR_mprotect + 1;
  return 0;
}

/* close(fd), and dup2/dup3 onto an open fd (which closes what it held). */
static __always_inline int on_close_enter(int fd, long nr) {
  if (subscribed_clients(WARD_EV_CLOSE) == 0) return 0;
  struct file* file = file_of_fd(fd);
  if (!file || !is_regular(file)) return 0;
  __u64 key = (__u64)file;
  struct ward_written* w = bpf_map_lookup_elem(&written, &key);
  __u64 modified = w && w->inode == (__u64)file->f_inode;
  if (w) bpf_map_delete_elem(&written, &key);

  struct task_struct* task = current_task();
  __u64 sub, drop;
  if (early_filter(WARD_EV_CLOSE, task, &sub, &drop)) return 0;
  struct ward_fs_rec* r = fs_rec_get();
  if (!r) return 0;
  fill_head(&r->h, task, nr, 0);
  r->h.arg[0] = modified;
  __u32 off = ward_slot_from_file(r, 0, 0, ward_addr(file));
  clear_slot(&r->path[1], off);
  finish_fs(r, WARD_EV_CLOSE, off, 1, sub, drop);
  return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(ward_file_enter, struct pt_regs* regs, long id) {
  switch (id) {
    case NR_close:
      return on_close_enter((int)PT_REGS_PARM1_CORE_SYSCALL(regs), id);
    case NR_dup2:
    case NR_dup3: {
      int oldfd = (int)PT_REGS_PARM1_CORE_SYSCALL(regs), newfd = (int)PT_REGS_PARM2_CORE_SYSCALL(regs);
      if (oldfd == newfd || file_of_fd(oldfd) == 0) return 0; /* no close happens */
      return on_close_enter(newfd, id);
    }
    case NR_mprotect:
      return on_mprotect_enter(regs);
    default:
      return on_path_enter(regs, id);
  }
}

/* Emits one file-shaped record whose slot 0 is an open file. */
static __always_inline void emit_file_event(__u32 type, long nr, long ret, struct file* file, __u64 a0,
                                            __u64 a1, __u64 a2, __u64 a3) {
  struct task_struct* task = current_task();
  __u64 sub, drop;
  if (early_filter(type, task, &sub, &drop)) return;
  struct ward_fs_rec* r = fs_rec_get();
  if (!r) return;
  fill_head(&r->h, task, nr, ret);
  r->h.arg[0] = a0;
  r->h.arg[1] = a1;
  r->h.arg[2] = a2;
  r->h.arg[3] = a3;
  __u32 off = ward_slot_from_file(r, 0, 0, ward_addr(file));
  clear_slot(&r->path[1], off);
  finish_fs(r, type, off, 1, sub, drop);
}

static __always_inline int on_open_exit(struct pt_regs* regs, long nr, long ret) {
  if (ret < 0) return 0;
  struct file* file = file_of_fd((int)ret);
  if (!file) return 0;
  __u32 f_mode = file->f_mode;
  if (f_mode & WARD_FMODE_PATH) return 0;
  __u64 fkey = (__u64)file;
  bpf_map_delete_elem(&written, &fkey); /* a new open: its first write is news */

  __u64 flags;
  switch (nr) {
    case NR_open:
      flags = PT_REGS_PARM2_CORE_SYSCALL(regs);
      break;
    case NR_creat:
      flags = 01 | WARD_O_CREAT | WARD_O_TRUNC;
      break;
    case NR_openat2: {
      __u64 how = 0; /* struct open_how.flags */
      bpf_probe_read_user(&how, sizeof(how), (void*)PT_REGS_PARM3_CORE_SYSCALL(regs));
      flags = how;
      break;
    }
    default:
      flags = PT_REGS_PARM3_CORE_SYSCALL(regs);
  }
  emit_file_event(WARD_EV_OPEN, nr, ret, file, flags, f_mode, 0, 0);
  if (f_mode & WARD_FMODE_CREATED) {
    emit_file_event(WARD_EV_CREATE, nr, ret, file, file->f_inode->i_mode, 0, 0, 0);
  } else if ((flags & WARD_O_TRUNC) && (f_mode & WARD_FMODE_WRITE) && is_regular(file)) {
    emit_file_event(WARD_EV_TRUNCATE, nr, ret, file, 0, 0, 0, 0);
  }
  return 0;
}

static __always_inline int on_write_exit(struct pt_regs* regs, long nr, long ret) {
  if (ret <= 0 || subscribed_clients(WARD_EV_WRITE) == 0) return 0;
  /* copy_file_range(fd_in, off_in, fd_out, ...): the file written is fd_out. */
  int fd = nr == NR_copy_file_range ? (int)PT_REGS_PARM3_CORE_SYSCALL(regs)
                                    : (int)PT_REGS_PARM1_CORE_SYSCALL(regs);
  struct file* file = file_of_fd(fd);
  if (!file || !is_regular(file)) return 0;
  __u64 key = (__u64)file;
  __u64 inode = (__u64)file->f_inode;
  struct ward_written* w = bpf_map_lookup_elem(&written, &key);
  if (w && w->inode == inode) return 0; /* not the first write */
  struct ward_written fresh = {.inode = inode};
  bpf_map_update_elem(&written, &key, &fresh, BPF_ANY);
  emit_file_event(WARD_EV_WRITE, nr, ret, file, 0, 0, 0, 0);
  return 0;
}

static __always_inline int on_mmap_exit(struct pt_regs* regs, long ret) {
  if (ret < 0 && ret > -4096) return 0;
  __u64 prot = PT_REGS_PARM3_CORE_SYSCALL(regs);
  __u64 flags = PT_REGS_PARM4_CORE_SYSCALL(regs);
  if (!(prot & WARD_PROT_EXEC) || (flags & WARD_MAP_ANONYMOUS)) return 0;
  if (subscribed_clients(WARD_EV_MMAP) == 0) return 0;
  struct file* file = file_of_fd((int)PT_REGS_PARM5_CORE_SYSCALL(regs));
  if (!file) return 0;
  __u32 f_mode = file->f_mode;
  emit_file_event(WARD_EV_MMAP, NR_mmap, ret, file, prot, flags, WARD_SYSCALL_ARG6(regs), f_mode);
  return 0;
}

static __always_inline int on_mprotect_exit(struct pt_regs* regs, long ret) {
  if (!pending_for_exit(NR_mprotect) || ret != 0) return 0;
  struct task_struct* task = current_task();
  __u64 sub, drop;
  if (early_filter(WARD_EV_MPROTECT, task, &sub, &drop)) return 0;
  struct ward_fs_rec* r = fs_rec_get();
  if (!r) return 0;
  fill_head(&r->h, task, NR_mprotect, ret);
  r->h.arg[0] = PT_REGS_PARM3_CORE_SYSCALL(regs);
  r->h.arg[1] = PT_REGS_PARM1_CORE_SYSCALL(regs);
  r->h.arg[2] = PT_REGS_PARM2_CORE_SYSCALL(regs);
  clear_slot(&r->path[0], 0);
  clear_slot(&r->path[1], 0);
  finish_fs(r, WARD_EV_MPROTECT, 0, 0, sub, drop);
  return 0;
}

/* ftruncate, fchmod, fchown: the file is the fd argument. */
static __always_inline int on_fd_attr_exit(struct pt_regs* regs, long nr, long ret) {
  if (ret != 0) return 0;
  __u32 type = nr == NR_ftruncate ? WARD_EV_TRUNCATE : nr == NR_fchmod ? WARD_EV_SETMODE : WARD_EV_SETOWNER;
  if (subscribed_clients(type) == 0) return 0;
  struct file* file = file_of_fd((int)PT_REGS_PARM1_CORE_SYSCALL(regs));
  if (!file) return 0;
  emit_file_event(type, nr, ret, file, PT_REGS_PARM2_CORE_SYSCALL(regs), PT_REGS_PARM3_CORE_SYSCALL(regs), 0,
                  0);
  return 0;
}

/* The path syscalls: strings from sys_enter, directories resolved now. */
static __always_inline int on_path_exit(struct pt_regs* regs, long nr, long ret) {
  __u32 type = type_of_path_syscall(nr);
  if (!type) return 0;
  struct ward_pending* p = pending_for_exit(nr);
  if (ret != 0) return 0;
  struct task_struct* task = current_task();
  __u64 sub, drop;
  if (early_filter(type, task, &sub, &drop)) return 0;
  const char *s0, *s1;
  strings_of(nr, regs, &s0, &s1);
  if (!p) {
    p = pending_late(s0, s1);
    if (!p) return 0;
    read_times(nr, regs, p);
  } else {
    reread_faulted(p, s0, s1);
  }
  struct ward_fs_rec* r = fs_rec_get();
  if (!r) return 0;
  fill_head(&r->h, task, nr, ret);
  unsigned long a0 = PT_REGS_PARM1_CORE_SYSCALL(regs);
  unsigned long a1 = PT_REGS_PARM2_CORE_SYSCALL(regs);
  unsigned long a2 = PT_REGS_PARM3_CORE_SYSCALL(regs);
  unsigned long a3 = PT_REGS_PARM4_CORE_SYSCALL(regs);
  unsigned long a4 = PT_REGS_PARM5_CORE_SYSCALL(regs);
  r->h.arg[0] = r->h.arg[1] = r->h.arg[2] = r->h.arg[3] = 0;

  /* dirfds and the slot layout per syscall */
  __s64 d0 = WARD_AT_FDCWD, d1 = WARD_AT_FDCWD;
  __u32 empty0 = 0, literal1 = 0, targets = 1, two_paths = 0;
  switch (nr) {
    case NR_unlinkat:
      d0 = (__s64)(int)a0;
      r->h.arg[0] = (a2 & WARD_AT_REMOVEDIR) != 0;
      break;
    case NR_rmdir:
      r->h.arg[0] = 1;
      break;
    case NR_renameat2:
      r->h.arg[0] = a4;
      /* fall through */
    case NR_renameat:
      d0 = (__s64)(int)a0;
      d1 = (__s64)(int)a2;
      /* fall through */
    case NR_rename:
      two_paths = 1;
      targets = 2;
      break;
    case NR_linkat:
      d0 = (__s64)(int)a0;
      d1 = (__s64)(int)a2;
      empty0 = (a4 & WARD_AT_EMPTY_PATH) != 0;
      /* fall through */
    case NR_link:
      two_paths = 1;
      targets = 2;
      break;
    case NR_symlinkat:
      d0 = (__s64)(int)a1;
      /* fall through */
    case NR_symlink:
      literal1 = 1;
      r->h.arg[0] = WARD_S_IFLNK | 0777;
      break;
    case NR_mkdirat:
      d0 = (__s64)(int)a0;
      r->h.arg[0] = WARD_S_IFDIR | (a2 & 07777);
      break;
    case NR_mkdir:
      r->h.arg[0] = WARD_S_IFDIR | (a1 & 07777);
      break;
    case NR_mknodat:
      d0 = (__s64)(int)a0;
      r->h.arg[0] = a2;
      break;
    case NR_mknod:
      r->h.arg[0] = a1;
      break;
    case NR_truncate:
      r->h.arg[0] = a1;
      break;
    case NR_chmod:
      r->h.arg[0] = a1;
      break;
    case NR_fchmodat2:
      empty0 = (a3 & WARD_AT_EMPTY_PATH) != 0;
      /* fall through */
    case NR_fchmodat:
      d0 = (__s64)(int)a0;
      r->h.arg[0] = a2;
      break;
    case NR_chown:
    case NR_lchown:
      r->h.arg[0] = a1;
      r->h.arg[1] = a2;
      break;
    case NR_fchownat:
      d0 = (__s64)(int)a0;
      r->h.arg[0] = a2;
      r->h.arg[1] = a3;
      empty0 = (a4 & WARD_AT_EMPTY_PATH) != 0;
      break;
    case NR_futimesat:
      d0 = (__s64)(int)a0;
      break;
    case NR_utimensat:
      d0 = (__s64)(int)a0;
      empty0 = 1; /* a NULL path: the fd itself (futimens) */
      break;
    case NR_setxattr:
    case NR_lsetxattr:
    case NR_removexattr:
    case NR_lremovexattr:
      literal1 = 1;
      break;
    case NR_fsetxattr:
    case NR_fremovexattr:
      d0 = (__s64)(int)a0;
      empty0 = 1;
      literal1 = 1;
      break;
    case NR_setxattrat:
    case NR_removexattrat:
      d0 = (__s64)(int)a0;
      empty0 = (a2 & WARD_AT_EMPTY_PATH) != 0;
      literal1 = 1;
      break;
  }
  if (type == WARD_EV_UTIMES) {
    r->h.flags = p->has_extra;
    r->h.arg[0] = p->extra[0];
    r->h.arg[1] = p->extra[1];
    r->h.arg[2] = p->extra[2];
    r->h.arg[3] = p->extra[3];
  }
  __u32 off = ward_slot_from_string(r, 0, p, WARD_SLOT(0, 0, empty0), d0);
  if (two_paths)
    off = ward_slot_from_string(r, off, p, WARD_SLOT(1, 1, 0), d1);
  else if (literal1)
    off = ward_slot_literal(r, 1, off, p, 1);
  else
    clear_slot(&r->path[1], off);
  finish_fs(r, type, off, targets, sub, drop);
  return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(ward_file_exit, struct pt_regs* regs, long ret) {
  long nr = WARD_SYSCALL_NR(regs);
  switch (nr) {
    case NR_open:
    case NR_openat:
    case NR_openat2:
    case NR_creat:
      return on_open_exit(regs, nr, ret);
    case NR_write:
    case NR_pwrite64:
    case NR_writev:
    case NR_pwritev:
    case NR_pwritev2:
    case NR_copy_file_range:
      return on_write_exit(regs, nr, ret);
    case NR_mmap:
      return on_mmap_exit(regs, ret);
    case NR_mprotect:
      return on_mprotect_exit(regs, ret);
    case NR_ftruncate:
    case NR_fchmod:
    case NR_fchown:
      return on_fd_attr_exit(regs, nr, ret);
    default:
      return on_path_exit(regs, nr, ret);
  }
}

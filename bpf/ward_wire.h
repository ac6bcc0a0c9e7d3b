/* Ward's kernel→user wire format: the records BPF programs put on the ring
 * buffer. Shared verbatim by the BPF programs and the user-space
 * decoder (src/sensors/bpf/), so both sides agree by construction; the decoder
 * static_asserts the sizes it depends on.
 *
 * Layout rules: fixed-width fields only, naturally aligned, no pointers.
 * Variable-length strings live in a record's trailing data[] area and are
 * referenced by (off, len) pieces.
 */
#ifndef WARD_BPF_WARD_WIRE_H
#define WARD_BPF_WARD_WIRE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define WARD_WIRE_VERSION 1

/* The data area of a record is WARD_DATA_SIZE bytes. Every piece starts at an
 * offset <= WARD_PIECE_MASK and is at most WARD_PIECE_MASK long, which is what
 * lets the verifier prove each write stays inside the area. */
#define WARD_DATA_SIZE 65536
#define WARD_PIECE_MASK 32767
#define WARD_NAME_MAX 256     /* one path component with its NUL */
#define WARD_PATH_DEPTH 48    /* components walked per path before giving up */
#define WARD_STR_MAX 4096     /* kernel strings such as bprm->filename */
#define WARD_COMM_LEN 16
#define WARD_TTY_NAME_LEN 64

enum ward_record_type {
  WARD_REC_EXEC = 1,
  WARD_REC_FORK = 2,
  WARD_REC_EXIT = 3,
  WARD_REC_TYPE_MAX = 4, /* size of per-type counter arrays */
};

/* Record flags. */
#define WARD_F_ARGS_TRUNCATED (1u << 0)
#define WARD_F_ENV_TRUNCATED (1u << 1)
#define WARD_F_EXE_PATH_TRUNCATED (1u << 2)
#define WARD_F_CWD_TRUNCATED (1u << 3)
#define WARD_F_FILENAME_TRUNCATED (1u << 4)
#define WARD_F_ENV_CAPTURED (1u << 5)
#define WARD_F_ARGS_FAULTED (1u << 6) /* user memory was not resident: read it from user space */

struct ward_rec_header {
  __u16 type;    /* enum ward_record_type */
  __u16 version; /* WARD_WIRE_VERSION */
  __u32 size;    /* bytes of the whole record, header included */
  __u64 boot_ns; /* bpf_ktime_get_boot_ns() when the record was made */
  __u64 kseq;    /* per-type sequence; a gap is a kernel-side drop */
  __u32 cpu;
  __u32 tid; /* thread that caused the record */
};

/* A process as the kernel sees it at the moment of the record. Pids are in
 * the initial pid namespace. */
struct ward_proc {
  __u32 tgid;
  __u32 ppid; /* real_parent's tgid */
  __u32 pgid;
  __u32 sid;
  __u32 ruid, euid, suid;
  __u32 rgid, egid, sgid;
  __u32 auid; /* loginuid; 0xffffffff when unset */
  __u32 sessionid;
  __u32 tty_major, tty_minor; /* 0,0 = no controlling terminal */
  __u64 start_boot_ns;        /* group leader's start_boottime */
  char comm[WARD_COMM_LEN];
  char tty_name[WARD_TTY_NAME_LEN];
};

/* Identity of a file: what the exe hash cache keys on. dev is the kernel's
 * internal encoding (MAJOR << 20 | MINOR). */
struct ward_file {
  __u64 ino;
  __u64 size;
  __s64 mtime_sec;
  __s64 ctime_sec;
  __u32 mtime_nsec;
  __u32 ctime_nsec;
  __u32 dev;
  __u32 mode;
  __u32 uid;
  __u32 gid;
};

struct ward_piece {
  __u32 off; /* into data[] */
  __u32 len; /* bytes, without any terminating NUL */
};

/* Paths from the dentry walk are stored leaf first: "echo\0bin\0usr\0";
 * user space reverses the components. Argument and environment pieces are the
 * raw NUL-separated blocks of the new image's memory. */
struct ward_exec_rec {
  struct ward_rec_header hdr;
  struct ward_proc proc; /* after exec: new credentials, same pid */
  struct ward_file exe;
  __u32 old_tid; /* thread that called execve (differs when a non-leader did) */
  __u32 flags;
  struct ward_piece exe_path; /* leaf-first components */
  struct ward_piece cwd;      /* leaf-first components */
  struct ward_piece filename; /* as given to execve, plain string */
  struct ward_piece interp;   /* bprm->interp, plain string */
  struct ward_piece args;
  struct ward_piece env;
  char data[WARD_DATA_SIZE];
};

struct ward_fork_rec {
  struct ward_rec_header hdr;
  struct ward_proc child;
  __u32 parent_tgid;
  __u32 pad;
  __u64 parent_start_boot_ns;
};

struct ward_exit_rec {
  struct ward_rec_header hdr;
  struct ward_proc proc;
  __s32 status; /* wait(2)-style status, as waitpid would report it */
  __u32 pad;
};

/* Global counters, indexed by record type, kept in an array map. */
struct ward_counters {
  __u64 emitted;
  __u64 dropped; /* ring buffer full: the record was lost in the kernel */
};

/* AUTH context (bpf/auth.bpf.c): what the fanotify permission events lack,
 * recorded at syscall entry and looked up by thread id when the permission
 * event for that thread arrives. */
#define WARD_AUTH_ARGS_SIZE 8192 /* argv bytes kept for AUTH_EXEC */
#define WARD_AUTH_ARGS_MASK 4095 /* each argument starts below this offset */
#define WARD_AUTH_ARGV_MAX 128   /* arguments walked */
#define WARD_AUTH_ARG_MAX 4096   /* bytes read of one argument */

struct ward_exec_args {
  __u32 tgid;
  __u32 argc;    /* arguments captured */
  __u32 len;     /* bytes of data[] used: NUL-separated arguments */
  __u32 flags;    /* WARD_F_ARGS_TRUNCATED, WARD_F_ARGS_FAULTED */
  __u64 boot_ns;  /* when execve was entered */
  __u64 argv_ptr; /* the caller's argv, for reading it from user space */
  char data[WARD_AUTH_ARGS_SIZE];
};

struct ward_open_intent {
  __u32 tgid;
  __s32 flags;   /* open(2) flags as requested */
  __u64 boot_ns; /* when open was entered */
};

#endif /* WARD_BPF_WARD_WIRE_H */

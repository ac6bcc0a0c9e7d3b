/* Wire format of the activity sensors (file, system, network: bpf/file.bpf.c,
 * bpf/sys.bpf.c, bpf/net.bpf.c, bpf/net_auth.bpf.c) and the in-kernel mute
 * and policy maps they share with user space. Builds on ward_wire.h (record
 * header, ward_proc, ward_file, ward_piece). Shared verbatim by BPF and the
 * decoder in src/sensors/bpf/, which static_asserts the layouts.
 */
#ifndef WARD_BPF_WARD_EVENT_WIRE_H
#define WARD_BPF_WARD_EVENT_WIRE_H

#include "ward_wire.h"

/* Record types, after the process sensor's (ward_wire.h). One per event type
 * so that counters, subscription masks and drops are per type. */
enum ward_ev_type {
  WARD_EV_FIRST = 16,
  WARD_EV_OPEN = 16,
  WARD_EV_CLOSE,
  WARD_EV_WRITE,
  WARD_EV_CREATE,
  WARD_EV_UNLINK,
  WARD_EV_RENAME,
  WARD_EV_LINK,
  WARD_EV_TRUNCATE,
  WARD_EV_SETMODE,
  WARD_EV_SETOWNER,
  WARD_EV_UTIMES,
  WARD_EV_SETEXTATTR,
  WARD_EV_DELETEEXTATTR,
  WARD_EV_MMAP,
  WARD_EV_MPROTECT,
  WARD_EV_SIGNAL,
  WARD_EV_TRACE,
  WARD_EV_SETUID,
  WARD_EV_SETGID,
  WARD_EV_SETEUID,
  WARD_EV_SETEGID,
  WARD_EV_SETREUID,
  WARD_EV_SETREGID,
  WARD_EV_CHDIR,
  WARD_EV_CHROOT,
  WARD_EV_PROC_CHECK,
  WARD_EV_KEXTLOAD,
  WARD_EV_MOUNT,
  WARD_EV_UNMOUNT,
  WARD_EV_SETTIME,
  WARD_EV_BPF,
  WARD_EV_MEMFD_CREATE,
  WARD_EV_UIPC_CONNECT,
  WARD_EV_UIPC_BIND,
  WARD_EV_CONNECT,
  WARD_EV_BIND,
  WARD_EV_ACCEPT,
  WARD_EV_NET_DENIED, /* a cgroup sock program refused a connect or bind */
  WARD_EV_TYPE_MAX,   /* bound of the per-type arrays below */
};
#define WARD_EV_TYPE_SLOTS 64 /* array map sizes: > WARD_EV_TYPE_MAX */

/* Data area of a file-shaped record. Each piece starts at or below
 * WARD_EV_OFF_LIMIT and is at most WARD_EV_STR_MAX long, which is what lets
 * the verifier prove every write stays inside. */
#define WARD_EV_DATA_SIZE 16384
#define WARD_EV_OFF_LIMIT 12288
#define WARD_EV_STR_MAX 4096 /* PATH_MAX: user strings and built paths */
#define WARD_EV_NAME_MAX 256 /* xattr names, mount types, bpf object names */

/* Path flags. */
#define WARD_EVP_TRUNCATED (1u << 0) /* the kernel path walk stopped early */
#define WARD_EVP_FAULTED (1u << 1)   /* the user string could not be read */
#define WARD_EVP_HAS_STAT (1u << 2)  /* stat is the target's */
#define WARD_EVP_LATE_READ (1u << 3) /* user string read at syscall exit, not entry */
#define WARD_EVP_ABSTRACT (1u << 4)  /* a Unix socket's abstract name */

/* One path of an event: a directory the kernel resolved (a forward path
 * "/a/b", from a file, the cwd or the root) and, when the syscall named the
 * file by string, that string as passed. User space joins them: base alone
 * is the whole path; an absolute rel is taken from base (the process root). */
struct ward_ev_path {
  struct ward_piece base;
  struct ward_piece rel;
  __u32 flags;
  __u32 pad;
  struct ward_file stat;
};

/* What every activity record starts with. arg[] holds the syscall's scalar
 * arguments or event facts (documented per type in the decoder). */
struct ward_ev_head {
  struct ward_rec_header hdr;
  struct ward_proc proc; /* the instigator */
  __u32 syscall_nr;
  __u32 flags;
  __s64 result; /* the syscall's return value */
  __u64 arg[6];
};

/* File-shaped records: every file event, chdir/chroot, kextload, mount,
 * settime, bpf, memfd_create, Unix sockets, mmap/mprotect, set*id. */
struct ward_fs_rec {
  struct ward_ev_head h;
  struct ward_ev_path path[2];
  char data[WARD_EV_DATA_SIZE];
};

/* signal, trace, proc_check: another process is the target. */
struct ward_task_rec {
  struct ward_ev_head h;
  struct ward_proc target;
  __u32 target_found; /* 0: the target was gone before it could be read */
  __u32 pad;
};

struct ward_sockaddr {
  __u16 family; /* AF_INET 2 / AF_INET6 10 */
  __u16 port;   /* host byte order */
  __u32 pad;
  __u8 addr[16]; /* network byte order; IPv4 in the first 4 bytes */
};

/* connect, bind, accept and in-kernel network denials. */
struct ward_net_rec {
  struct ward_ev_head h;
  struct ward_sockaddr local;
  struct ward_sockaddr remote;
  __u32 protocol;
  __u32 sock_type;
  __u32 rule_id;   /* WARD_EV_NET_DENIED: the rule that denied */
  __u32 direction; /* WARD_NET_CONNECT / WARD_NET_BIND */
};

/* Per-type counters (a per-CPU array indexed by record type). */
struct ward_ev_counters {
  __u64 emitted;
  __u64 dropped; /* ring buffer full: lost in the kernel, reported to clients */
  __u64 muted;   /* dropped on purpose: every subscribed client mutes it */
};

/* ---------------------------------------------------------------- muting
 *
 * Clients of one hub get a bit each (WARD_MUTE_CLIENTS; the rest share
 * WARD_MUTE_OVERFLOW_BIT, which never mutes). The kernel drops an event only
 * when every client subscribed to its type would drop it. Per client c:
 *
 *   drop(c) = (muted process(c) XOR process inverted(c))
 *           | (exe path listed(c) XOR path inverted(c))
 *           | target inverted(c) ? no target listed(c)
 *                                : some target, every target listed(c)
 *
 * computed for all clients at once as 64-bit masks. A term the kernel cannot
 * evaluate exactly (path walk truncated, a relative path with "." or "..",
 * an entry too long for the trie) does not drop: user space still applies
 * every client's exact mutes, so the kernel filter only ever removes what
 * user space would have removed too.
 */
#define WARD_MUTE_CLIENTS 63
#define WARD_MUTE_OVERFLOW_BIT 63
#define WARD_MUTE_KEY_MAX 256 /* bytes of path compared in the tries (LPM maximum) */

struct ward_mute_config {
  __u64 generation;        /* bumped on every change: invalidates exe caches */
  __u32 enabled;           /* 0 while user space rewrites the maps */
  __u32 has_process_mutes; /* skip lookups when a set is empty */
  __u32 has_exe_paths;
  __u32 has_target_paths;
  __u64 invert_process; /* clients that inverted process muting */
  __u64 invert_exe;     /* ... path (executable) muting */
  __u64 invert_target;  /* ... target path muting */
  __u64 exe_exact;      /* clients whose exe path list the trie holds entirely */
  __u64 target_exact;   /* clients whose target path list the trie holds entirely */
};

/* mute_process: tgid -> the muted process instance. pidversion is user
 * space's; the kernel pins it to the image by claiming self_exec_id on first
 * sight, so an exec stops the mute. */
struct ward_mute_process {
  __u64 clients;
  __u64 start_boot_ns; /* the process's start, to tell a reused pid */
  __u64 exec_id_plus1; /* 0 = not claimed yet */
};

/* Tries: path bytes, literal entries end with a NUL (so "/a" literal never
 * matches "/ab"); the value is every client whose list has this entry or a
 * prefix entry of it (user space closes the sets, so the longest match says
 * everything). */
struct ward_mute_key {
  __u32 prefixlen; /* bits */
  __u8 data[WARD_MUTE_KEY_MAX];
};

/* Exe mute masks per process, computed from the executable path once per
 * image and mute generation. */
struct ward_exe_cache {
  __u64 mm;         /* the image (an exec replaces mm) */
  __u64 generation; /* of ward_mute_config */
  __u64 listed;     /* clients listing the executable */
  __u32 exact;      /* 0: the path could not be matched exactly */
  __u32 pad;
};

/* ---------------------------------------------------------------- network policy */

#define WARD_NET_RULES_MAX 64
#define WARD_NET_CONNECT 1
#define WARD_NET_BIND 2
#define WARD_NET_ANY_PROTOCOL 0

/* One deny rule. A field that is 0 matches anything (prefix_len 0 = any
 * address); identity_bit 0 = any process, else the process must carry that
 * identity bit (from its executable path or sha256). */
struct ward_net_rule {
  __u32 id;        /* reported with the denial; 0 = empty slot */
  __u32 direction; /* WARD_NET_CONNECT | WARD_NET_BIND bits */
  __u16 family;    /* 0, AF_INET, AF_INET6 */
  __u16 protocol;  /* 0, IPPROTO_TCP, IPPROTO_UDP */
  __u16 port_lo, port_hi;
  __u32 prefix_len; /* bits of addr compared */
  __u64 identity_bit;
  __u8 addr[16];
};

/* exe_identity_by_path: executable path (NUL padded) -> identity bits. */
struct ward_exe_path_key {
  char path[WARD_MUTE_KEY_MAX];
};

/* exe_identity_by_file: the executable's inode -> identity bits (sha256
 * rules: user space hashes, the kernel compares the file it runs). */
struct ward_exe_file_key {
  __u64 ino;
  __u32 dev;
  __u32 pad;
  __s64 mtime_sec;
  __s64 ctime_sec;
};

#endif /* WARD_BPF_WARD_EVENT_WIRE_H */

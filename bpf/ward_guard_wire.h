/* The wire format of Ward's guard programs (bpf/lsm.bpf.c, bpf/tamper.bpf.c):
 * the maps user space fills and the records the kernel sends. Shared by the
 * BPF side (C) and user space (C++). */
#ifndef WARD_GUARD_WIRE_H
#define WARD_GUARD_WIRE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define WARD_GUARD_COMM_LEN 16
#define WARD_GUARD_NAME_LEN 64
#define WARD_GUARD_PATH_LEN 256
#define WARD_GUARD_SHA256_LEN 32
#define WARD_TAMPER_HISTORY 16 /* records kept for the next agent (tamper.bpf.c) */

/* What was attempted. */
enum ward_guard_kind {
  WARD_GUARD_EXEC = 1,
  WARD_GUARD_OPEN_WRITE = 2,
  WARD_GUARD_UNLINK = 3,
  WARD_GUARD_RENAME = 4,
  WARD_GUARD_LINK = 5,
  WARD_GUARD_TRUNCATE = 6,
  WARD_GUARD_SETATTR = 7, /* chmod / chown */
  WARD_GUARD_SIGNAL = 8,
  WARD_GUARD_PTRACE = 9,
  WARD_GUARD_BPF_OBJECT = 10, /* an fd to one of Ward's maps or programs */
};

/* What the kernel did about it. */
enum ward_guard_verdict {
  WARD_GUARD_DENIED = 1,     /* the LSM returned -EPERM */
  WARD_GUARD_WOULD_DENY = 2, /* monitor mode: allowed and reported */
  WARD_GUARD_OBSERVED = 3,   /* no hook could deny it (no BPF LSM): it happened */
  WARD_GUARD_UNLOCKED = 4,   /* allowed because Ward was unlocked with its token */
};

/* Flags of a protected inode (map protected_inodes). */
#define WARD_PROTECT_CONTENT 0x1  /* no write-open, truncate, chmod, chown */
#define WARD_PROTECT_NAME 0x2     /* no unlink, rename, hard link of it */
#define WARD_PROTECT_CHILDREN 0x4 /* a directory: its entries are protected as above */

/* An inode as the kernel names it: s_dev (MAJOR << 20 | MINOR) and i_ino. */
struct ward_inode_key {
  __u64 dev;
  __u64 ino;
};

/* Exec mode (ward_guard_config.exec_mode). */
#define WARD_EXEC_OFF 0
#define WARD_EXEC_MONITOR 1 /* report what a block rule would deny */
#define WARD_EXEC_ENFORCE 2 /* deny it */

/* Policy of a sha256 rule (map exec_sha256_rules). */
#define WARD_EXEC_RULE_ALLOW 1
#define WARD_EXEC_RULE_BLOCK 2
#define WARD_EXEC_RULE_SILENT_BLOCK 3

struct ward_exec_rule {
  __u32 policy;     /* WARD_EXEC_RULE_* */
  __u32 rule_index; /* user space's index, reported back in records */
};

/* A cached exec verdict: valid while the file's times and the policy
 * generation are unchanged (a write changes mtime/ctime). */
struct ward_exec_verdict {
  __s64 mtime_sec;
  __s64 ctime_sec;
  __u32 mtime_nsec;
  __u32 ctime_nsec;
  __u32 generation;
  __u32 policy; /* 0 = no rule matched, else WARD_EXEC_RULE_* */
  __u32 rule_index;
  __u32 pad;
};

/* The one-entry configuration array. */
struct ward_guard_config {
  __u32 agent_tgid; /* wardd: exempt, and the process whose signals/ptrace are guarded */
  __u32 unlocked;   /* 1 after an authenticated unlock: nothing is denied */
  __u32 exec_mode;  /* WARD_EXEC_* */
  __u32 generation; /* bumped by user space whenever the exec rules change */
  __u32 guard_signals;
  __u32 guard_files;
};

/* One record on a guard ring buffer. */
struct ward_guard_rec {
  __u32 kind;    /* enum ward_guard_kind */
  __u32 verdict; /* enum ward_guard_verdict */
  __u64 boot_ns;
  /* the instigator */
  __u32 tid;
  __u32 tgid;
  __u32 ppid;
  __u32 ruid;
  __u32 euid;
  __s32 result; /* signal: the kernel's trace result (0 delivered, 1 ignored, ...) */
  __u64 start_boot_ns;
  char comm[WARD_GUARD_COMM_LEN];
  /* the target */
  __u32 target_tgid; /* signal / ptrace */
  __s32 arg;         /* signal number; ptrace mode; rename flags */
  __s32 rule_index;  /* exec: the matched rule; -1 = none */
  __u32 hash_state;  /* exec: 0 hashed, else the kernel's error (-errno) as positive */
  __u64 dev;         /* the file (user space maps it to the path it protected) */
  __u64 ino;
  char name[WARD_GUARD_NAME_LEN];   /* the entry's name (unlink/rename/link/new file) */
  char path[WARD_GUARD_PATH_LEN];   /* exec: the executable's path (d_path) */
};

/* Counters (per-CPU array, index 0). */
struct ward_guard_counters {
  __u64 records;
  __u64 lost;        /* ring buffer full */
  __u64 hash_failed; /* bpf_ima_file_hash() failed or was not sha256 */
  __u64 hashed;
};

#endif

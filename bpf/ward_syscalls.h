/* Syscall numbers the activity sensors dispatch on. They attach to the raw
 * sys_enter / sys_exit tracepoints (tp_btf: BTF only, no tracefs) and filter
 * by number. -1 = the architecture has no such syscall. */
#ifndef WARD_BPF_WARD_SYSCALLS_H
#define WARD_BPF_WARD_SYSCALLS_H

#if defined(__TARGET_ARCH_x86)
#define NR_read 0
#define NR_write 1
#define NR_open 2
#define NR_close 3
#define NR_mmap 9
#define NR_mprotect 10
#define NR_pwrite64 18
#define NR_dup2 33
#define NR_writev 20
#define NR_connect 42
#define NR_accept 43
#define NR_bind 49
#define NR_kill 62
#define NR_truncate 76
#define NR_ftruncate 77
#define NR_chdir 80
#define NR_fchdir 81
#define NR_rename 82
#define NR_mkdir 83
#define NR_rmdir 84
#define NR_creat 85
#define NR_link 86
#define NR_unlink 87
#define NR_symlink 88
#define NR_chmod 90
#define NR_fchmod 91
#define NR_chown 92
#define NR_fchown 93
#define NR_lchown 94
#define NR_ptrace 101
#define NR_setuid 105
#define NR_setgid 106
#define NR_setreuid 113
#define NR_setregid 114
#define NR_setresuid 117
#define NR_setresgid 119
#define NR_utime 132
#define NR_mknod 133
#define NR_adjtimex 159
#define NR_chroot 161
#define NR_settimeofday 164
#define NR_mount 165
#define NR_umount2 166
#define NR_init_module 175
#define NR_setxattr 188
#define NR_lsetxattr 189
#define NR_fsetxattr 190
#define NR_removexattr 197
#define NR_lremovexattr 198
#define NR_fremovexattr 199
#define NR_clock_settime 227
#define NR_utimes 235
#define NR_openat 257
#define NR_mkdirat 258
#define NR_mknodat 259
#define NR_fchownat 260
#define NR_futimesat 261
#define NR_unlinkat 263
#define NR_renameat 264
#define NR_linkat 265
#define NR_symlinkat 266
#define NR_fchmodat 268
#define NR_utimensat 280
#define NR_accept4 288
#define NR_dup3 292
#define NR_pwritev 296
#define NR_clock_adjtime 305
#define NR_process_vm_readv 310
#define NR_process_vm_writev 311
#define NR_finit_module 313
#define NR_renameat2 316
#define NR_memfd_create 319
#define NR_bpf 321
#define NR_copy_file_range 326
#define NR_pwritev2 328
#define NR_move_mount 429
#define NR_openat2 437
#define NR_fchmodat2 452
#define NR_setxattrat 463
#define NR_removexattrat 466
/* At sys_exit: the syscall number, and the 6th argument (libbpf 1.1 has no
 * PT_REGS_PARM6_CORE_SYSCALL). */
#define WARD_SYSCALL_NR(regs) BPF_CORE_READ(regs, orig_ax)
#define WARD_SYSCALL_ARG6(regs) BPF_CORE_READ(regs, r9)
#else
#error "ward_syscalls.h: add the syscall numbers of this architecture"
#endif

#endif /* WARD_BPF_WARD_SYSCALLS_H */

// SPDX-License-Identifier: GPL-2.0
/* Ward network sensor: connect, bind and accept of IP sockets, and their
 * Unix-domain forms (uipc_connect, uipc_bind).
 *
 * sys_enter keeps the address the caller passed (before the kernel copies
 * it); sys_exit reports it with the result and what the socket says now (its
 * type and protocol, the local address the kernel chose). accept reports the
 * new connection's endpoints from the kernel's socket.
 */
#include <bpf/bpf_endian.h>

#include "ward_fs_paths.bpf.h"
#include "ward_syscalls.h"

char LICENSE[] SEC("license") = "GPL";

#define WARD_AF_UNIX 1
#define WARD_AF_INET 2
#define WARD_AF_INET6 10
#define WARD_S_IFSOCK 0140000
#define WARD_S_IFMT 00170000
#define WARD_SUN_PATH_MAX 108

/* pending->extra holds the caller's sockaddr (up to 128 bytes); a Unix
 * socket's path goes to str[0]. has_extra = 0 when it could not be read yet
 * (a page not faulted in): sys_exit reads it again. */
static __always_inline void read_sockaddr(struct ward_pending* p, const void* addr, __u32 addrlen) {
  __builtin_memset(p->extra, 0, sizeof(p->extra));
  p->has_extra = 0;
  p->len[0] = p->len[1] = 0;
  p->flags[0] = p->flags[1] = 0;
  __u64 n = WARD_MIN(addrlen, sizeof(p->extra));
  if (n < 2 || bpf_probe_read_user(p->extra, n, addr) != 0) return;
  p->has_extra = addrlen;
  __u16 family = *(__u16*)p->extra;
  if (family == WARD_AF_UNIX && addrlen > 2) {
    const char* sun_path = (const char*)addr + 2;
    char first = 0;
    bpf_probe_read_user(&first, 1, sun_path);
    if (first == 0) {
      /* Abstract: the name is the rest of addrlen, not NUL-terminated. */
      __u64 len = WARD_MIN(addrlen > 3 ? addrlen - 3 : 0, WARD_SUN_PATH_MAX);
      if (len > 0 && bpf_probe_read_user(p->str[0], len, sun_path + 1) == 0) p->len[0] = len;
      p->flags[0] = WARD_EVP_ABSTRACT;
    } else {
      read_user_str(p, 0, sun_path);
    }
  }
}

static __always_inline int on_addr_enter(struct pt_regs* regs, long nr, __u32 ip_type, __u32 unix_type) {
  if (subscribed_clients(ip_type) == 0 && subscribed_clients(unix_type) == 0) return 0;
  if (is_self(current_task())) return 0;
  const void* addr = (const void*)PT_REGS_PARM2_CORE_SYSCALL(regs);
  __u32 addrlen = PT_REGS_PARM3_CORE_SYSCALL(regs);
  if (!addr || addrlen < 2) return 0;
  struct ward_pending* p = pending_for_enter();
  if (!p) return 0;
  read_sockaddr(p, addr, addrlen);
  p->nr_plus1 = (__u32)nr + 1;
  return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(ward_net_enter, struct pt_regs* regs, long id) {
  switch (id) {
    case NR_connect:
      return on_addr_enter(regs, id, WARD_EV_CONNECT, WARD_EV_UIPC_CONNECT);
    case NR_bind:
      return on_addr_enter(regs, id, WARD_EV_BIND, WARD_EV_UIPC_BIND);
  }
  return 0;
}

static __always_inline struct sock* sock_of_fd(int fd) {
  struct file* file = file_of_fd(fd);
  if (!file) return 0;
  umode_t mode = BPF_CORE_READ(file, f_inode, i_mode);
  if ((mode & WARD_S_IFMT) != WARD_S_IFSOCK) return 0;
  struct socket* sock = BPF_CORE_READ(file, private_data);
  return sock ? BPF_CORE_READ(sock, sk) : 0;
}

/* The socket's own endpoint (local = 1) or its peer's, as the kernel has them. */
static __always_inline void endpoint_of(struct ward_sockaddr* a, struct sock* sk, int local) {
  __builtin_memset(a, 0, sizeof(*a));
  if (!sk) return;
  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  a->family = family;
  if (local)
    a->port = BPF_CORE_READ(sk, __sk_common.skc_num);
  else
    a->port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
  if (family == WARD_AF_INET) {
    __u32 v4 =
        local ? BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr) : BPF_CORE_READ(sk, __sk_common.skc_daddr);
    __builtin_memcpy(a->addr, &v4, 4);
  } else if (family == WARD_AF_INET6) {
    if (local)
      BPF_CORE_READ_INTO(&a->addr, sk, __sk_common.skc_v6_rcv_saddr);
    else
      BPF_CORE_READ_INTO(&a->addr, sk, __sk_common.skc_v6_daddr);
  }
}

/* The sockaddr the caller passed (pending->extra). */
static __always_inline void endpoint_of_user(struct ward_sockaddr* a, struct ward_pending* p) {
  __builtin_memset(a, 0, sizeof(*a));
  __u16 family = *(__u16*)p->extra;
  a->family = family;
  a->port = bpf_ntohs(*(__u16*)((char*)p->extra + 2));
  if (family == WARD_AF_INET)
    __builtin_memcpy(a->addr, (char*)p->extra + 4, 4); /* sin_addr */
  else if (family == WARD_AF_INET6)
    __builtin_memcpy(a->addr, (char*)p->extra + 8, 16); /* sin6_addr */
}

static __always_inline void emit_net(__u32 type, long nr, long ret, struct sock* sk, struct ward_pending* p,
                                     int accepted) {
  struct task_struct* task = current_task();
  __u64 sub, drop;
  if (early_filter(type, task, &sub, &drop)) return;
  /* No target paths: for these the process terms and the inverted target
   * terms (nothing selected) decide. */
  struct ward_mute_config* cfg = get_mute_config();
  if (cfg && cfg->enabled) drop |= cfg->invert_target & cfg->target_exact;
  if ((drop & sub) == sub) {
    count_muted(type);
    return;
  }
  struct ward_net_rec* r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
  if (!r) {
    next_kseq(type);
    count_emitted(type, 1);
    return;
  }
  fill_head(&r->h, task, nr, ret);
  for (int i = 0; i < 6; i++) r->h.arg[i] = 0;
  endpoint_of(&r->local, sk, 1);
  if (accepted || !p)
    endpoint_of(&r->remote, sk, 0);
  else
    endpoint_of_user(&r->remote, p);
  if (type == WARD_EV_BIND) {
    /* The address bound: the kernel's once it succeeded (it picks port 0's
     * port), else what was asked. */
    if (ret != 0 && p) endpoint_of_user(&r->local, p);
    __builtin_memset(&r->remote, 0, sizeof(r->remote));
  }
  r->protocol = sk ? BPF_CORE_READ(sk, sk_protocol) : 0;
  r->sock_type = sk ? BPF_CORE_READ(sk, sk_type) : 0;
  r->rule_id = 0;
  r->direction = 0;
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

static __always_inline void emit_uipc(__u32 type, long nr, long ret, struct sock* sk,
                                      struct ward_pending* p) {
  struct task_struct* task = current_task();
  __u64 sub, drop;
  if (early_filter(type, task, &sub, &drop)) return;
  struct ward_fs_rec* r = fs_rec_get();
  if (!r) return;
  fill_head(&r->h, task, nr, ret);
  for (int i = 0; i < 6; i++) r->h.arg[i] = 0;
  r->h.arg[0] = sk ? BPF_CORE_READ(sk, sk_type) : 0;
  r->h.arg[1] = sk ? BPF_CORE_READ(sk, sk_protocol) : 0;
  r->h.arg[2] = 0777 & ~BPF_CORE_READ(task, fs, umask); /* the socket file's mode after bind */
  __u32 off;
  if (p->flags[0] & WARD_EVP_ABSTRACT) {
    off = ward_slot_literal(r, 0, 0, p, 0);
    r->path[0].flags |= WARD_EVP_ABSTRACT;
  } else {
    off = ward_slot_from_string(r, 0, p, WARD_SLOT(0, 0, 0), WARD_AT_FDCWD);
  }
  clear_slot(&r->path[1], off);
  finish_fs(r, type, off, 1, sub, drop);
}

static __always_inline int on_addr_exit(struct pt_regs* regs, long nr, long ret) {
  struct ward_pending* p = pending_for_exit(nr);
  if (!p) return 0;
  const char* addr = (const char*)PT_REGS_PARM2_CORE_SYSCALL(regs);
  if (!p->has_extra) read_sockaddr(p, addr, PT_REGS_PARM3_CORE_SYSCALL(regs));
  __u16 family = *(__u16*)p->extra;
  if (family == WARD_AF_UNIX && !(p->flags[0] & WARD_EVP_ABSTRACT)) reread_faulted(p, addr + 2, 0);
  struct sock* sk = sock_of_fd((int)PT_REGS_PARM1_CORE_SYSCALL(regs));
  if (family == WARD_AF_UNIX) {
    emit_uipc(nr == NR_connect ? WARD_EV_UIPC_CONNECT : WARD_EV_UIPC_BIND, nr, ret, sk, p);
  } else if (family == WARD_AF_INET || family == WARD_AF_INET6) {
    emit_net(nr == NR_connect ? WARD_EV_CONNECT : WARD_EV_BIND, nr, ret, sk, p, 0);
  }
  return 0;
}

static __always_inline int on_accept_exit(long nr, long ret) {
  if (ret < 0 || subscribed_clients(WARD_EV_ACCEPT) == 0) return 0;
  struct sock* sk = sock_of_fd((int)ret);
  if (!sk) return 0;
  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  if (family != WARD_AF_INET && family != WARD_AF_INET6) return 0;
  emit_net(WARD_EV_ACCEPT, nr, ret, sk, 0, 1);
  return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(ward_net_exit, struct pt_regs* regs, long ret) {
  long nr = WARD_SYSCALL_NR(regs);
  switch (nr) {
    case NR_connect:
    case NR_bind:
      return on_addr_exit(regs, nr, ret);
    case NR_accept:
    case NR_accept4:
      return on_accept_exit(nr, ret);
  }
  return 0;
}

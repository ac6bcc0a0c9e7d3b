// SPDX-License-Identifier: GPL-2.0
/* Ward network AUTH: connect and bind decided in the kernel by cgroup sock
 * programs, against deny rules user space writes (src/sensors/bpf/
 * network_rules.cc). Returning 0 makes the syscall fail with EPERM; each
 * denial is put on the ring buffer. No user-space round trip: an allowed
 * connect costs one rule scan.
 *
 * Rules match on direction, family, protocol, destination (or bound) CIDR,
 * port range and process identity: the executable's path (compared here) or
 * its sha256 (user space hashes; the kernel compares the executable's inode
 * against a map user space fills).
 */
#include <bpf/bpf_endian.h>

#include "ward_activity.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define WARD_AF_INET 2
#define WARD_AF_INET6 10

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, WARD_NET_RULES_MAX);
  __type(key, __u32);
  __type(value, struct ward_net_rule);
} net_rules SEC(".maps");

/* [0] = rules in use, [1] = generation (bumped when identities change),
 * [2] = some rule names an identity. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 3);
  __type(key, __u32);
  __type(value, __u64);
} net_config SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, struct ward_exe_path_key);
  __type(value, __u64);
} exe_identity_by_path SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, struct ward_exe_file_key);
  __type(value, __u64);
} exe_identity_by_file SEC(".maps");

struct ward_identity_cache {
  __u64 mm;
  __u64 generation;
  __u64 bits;
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 8192);
  __type(key, __u32);
  __type(value, struct ward_identity_cache);
} identity_cache SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ward_exe_path_key);
} path_key_scratch SEC(".maps");

static __always_inline __u64 config_of(__u32 i) {
  __u64* v = bpf_map_lookup_elem(&net_config, &i);
  return v ? *v : 0;
}

/* The identity bits of the current process: which rule identities its
 * executable has. Cached per image and generation. */
static __noinline __u64 identity_bits(void) {
  struct task_struct* task = current_task();
  __u32 tgid = BPF_CORE_READ(task, tgid);
  __u64 mm = (__u64)BPF_CORE_READ(task, mm);
  __u64 generation = config_of(1);
  struct ward_identity_cache* c = bpf_map_lookup_elem(&identity_cache, &tgid);
  if (c && c->mm == mm && c->generation == generation) return c->bits;

  __u64 bits = 0;
  struct file* exe = BPF_CORE_READ(task, mm, exe_file);
  struct ward_scratch* s = get_scratch();
  __u32 zero = 0;
  struct ward_exe_path_key* key = bpf_map_lookup_elem(&path_key_scratch, &zero);
  if (exe && s && key) {
    __u32 r =
        ward_build_path(s, (__u64)BPF_CORE_READ(exe, f_path.dentry), (__u64)BPF_CORE_READ(exe, f_path.mnt));
    __u32 len = r & WARD_PATH_LEN_MASK;
    __builtin_memset(key, 0, sizeof(*key));
    if (!(r & WARD_PATH_CUT) && len < WARD_MUTE_KEY_MAX) {
      __u64 from = WARD_MASK(WARD_TMP_END - len, WARD_TMP_END - 1);
      bpf_probe_read_kernel(key->path, WARD_MIN(len, WARD_MUTE_KEY_MAX - 1), &s->buf[from]);
      __u64* by_path = bpf_map_lookup_elem(&exe_identity_by_path, key);
      if (by_path) bits |= *by_path;
    }
    struct inode* inode = BPF_CORE_READ(exe, f_inode);
    struct ward_file f = {};
    fill_inode(&f, inode);
    struct ward_exe_file_key fk = {
        .ino = f.ino, .dev = f.dev, .mtime_sec = f.mtime_sec, .ctime_sec = f.ctime_sec};
    __u64* by_file = bpf_map_lookup_elem(&exe_identity_by_file, &fk);
    if (by_file) bits |= *by_file;
  }
  struct ward_identity_cache fresh = {.mm = mm, .generation = generation, .bits = bits};
  bpf_map_update_elem(&identity_cache, &tgid, &fresh, BPF_ANY);
  return bits;
}

struct ward_decision {
  __u32 direction;
  __u16 family;
  __u16 protocol;
  __u16 port;
  __u16 pad;
  __u32 rules;
  __u32 denied_by; /* rule id, 0 = allowed */
  __u32 have_identity;
  __u64 identity;
  __u8 addr[16];
};

static __always_inline int prefix_matches(const __u8* a, const __u8* b, __u32 bits) {
  /* Compares whole bytes, then the leading bits of the next one. */
  for (int i = 0; i < 16; i++) {
    if (bits >= 8) {
      if (a[i] != b[i]) return 0;
      bits -= 8;
      continue;
    }
    if (bits == 0) return 1;
    __u8 mask = (__u8)(0xff << (8 - bits));
    return (a[i] & mask) == (b[i] & mask);
  }
  return 1;
}

static long rule_step(__u64 i, struct ward_decision* d) {
  if (i >= d->rules) return 1;
  __u32 key = (__u32)i;
  struct ward_net_rule* rule = bpf_map_lookup_elem(&net_rules, &key);
  if (!rule || rule->id == 0) return 0;
  if (!(rule->direction & d->direction)) return 0;
  if (rule->family && rule->family != d->family) return 0;
  if (rule->protocol && rule->protocol != d->protocol) return 0;
  if (rule->port_lo && (d->port < rule->port_lo || d->port > rule->port_hi)) return 0;
  if (rule->prefix_len &&
      !prefix_matches(rule->addr, d->addr, rule->prefix_len > 128 ? 128 : rule->prefix_len))
    return 0;
  if (rule->identity_bit) {
    if (!d->have_identity) {
      d->identity = identity_bits();
      d->have_identity = 1;
    }
    if (!(d->identity & rule->identity_bit)) return 0;
  }
  d->denied_by = rule->id;
  return 1;
}

static __always_inline void report_denial(struct ward_decision* d) {
  struct ward_net_rec* r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
  if (!r) {
    next_kseq(WARD_EV_NET_DENIED);
    count_emitted(WARD_EV_NET_DENIED, 1);
    return;
  }
  struct task_struct* task = current_task();
  fill_proc(&r->h.proc, task);
  r->h.syscall_nr = 0;
  r->h.flags = 0;
  r->h.result = -1; /* -EPERM */
  for (int i = 0; i < 6; i++) r->h.arg[i] = 0;
  __builtin_memset(&r->local, 0, sizeof(r->local));
  __builtin_memset(&r->remote, 0, sizeof(r->remote));
  struct ward_sockaddr* a = d->direction == WARD_NET_CONNECT ? &r->remote : &r->local;
  a->family = d->family;
  a->port = d->port;
  __builtin_memcpy(a->addr, d->addr, 16);
  r->protocol = d->protocol;
  r->sock_type = 0;
  r->rule_id = d->denied_by;
  r->direction = d->direction;
  struct ward_rec_header* h = &r->h.hdr;
  h->type = WARD_EV_NET_DENIED;
  h->version = WARD_WIRE_VERSION;
  h->size = sizeof(*r);
  h->boot_ns = bpf_ktime_get_boot_ns();
  h->kseq = next_kseq(WARD_EV_NET_DENIED);
  h->cpu = bpf_get_smp_processor_id();
  h->tid = (__u32)bpf_get_current_pid_tgid();
  bpf_ringbuf_submit(r, 0); /* a denial wakes the reader at once */
  count_emitted(WARD_EV_NET_DENIED, 0);
}

static __always_inline int decide(struct bpf_sock_addr* ctx, __u32 direction, __u16 family) {
  struct ward_decision d = {};
  d.rules = (__u32)config_of(0);
  if (d.rules == 0) return 1;
  d.direction = direction;
  d.family = family;
  d.protocol = ctx->protocol;
  d.port = bpf_ntohs((__u16)ctx->user_port);
  if (family == WARD_AF_INET) {
    __u32 ip = ctx->user_ip4;
    __builtin_memcpy(d.addr, &ip, 4);
  } else {
    __u32 ip6[4];
    ip6[0] = ctx->user_ip6[0];
    ip6[1] = ctx->user_ip6[1];
    ip6[2] = ctx->user_ip6[2];
    ip6[3] = ctx->user_ip6[3];
    __builtin_memcpy(d.addr, ip6, 16);
  }
  bpf_loop(WARD_NET_RULES_MAX, rule_step, &d, 0);
  if (!d.denied_by) return 1;
  report_denial(&d);
  return 0;
}

SEC("cgroup/connect4")
int ward_connect4(struct bpf_sock_addr* ctx) { return decide(ctx, WARD_NET_CONNECT, WARD_AF_INET); }

SEC("cgroup/connect6")
int ward_connect6(struct bpf_sock_addr* ctx) { return decide(ctx, WARD_NET_CONNECT, WARD_AF_INET6); }

SEC("cgroup/bind4")
int ward_bind4(struct bpf_sock_addr* ctx) { return decide(ctx, WARD_NET_BIND, WARD_AF_INET); }

SEC("cgroup/bind6")
int ward_bind6(struct bpf_sock_addr* ctx) { return decide(ctx, WARD_NET_BIND, WARD_AF_INET6); }

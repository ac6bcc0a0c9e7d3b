#include "sensors/bpf/kernel_filter.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "sensors/bpf/activity_decoder.h"
#include "ward_event_wire.h"

namespace ward::sensors::bpf {
namespace {

std::mutex g_instance_mu;
std::weak_ptr<KernelFilter> g_instance;

uint64_t bit_of(std::size_t client) {
  return 1ull << (client < WARD_MUTE_CLIENTS ? client : WARD_MUTE_OVERFLOW_BIT);
}

int create_map(bpf_map_type type, const char* name, uint32_t key_size, uint32_t value_size, uint32_t max,
               uint32_t flags = 0) {
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
  return bpf_map_create(type, name, key_size, value_size, max, &opts);
}

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

ward_mute_key key_of(const std::string& bytes) {
  ward_mute_key k{};
  k.prefixlen = static_cast<uint32_t>(bytes.size() * 8);
  std::memcpy(k.data, bytes.data(), std::min(bytes.size(), sizeof(k.data)));
  return k;
}

}  // namespace

TrieImage build_trie_image(const std::vector<std::vector<FilterClient::Path>>& per_client) {
  TrieImage image;
  std::map<std::string, uint64_t> own;  // entry bytes -> clients listing exactly it
  for (std::size_t c = 0; c < per_client.size(); ++c) {
    for (const auto& p : per_client[c]) {
      std::string bytes = p.literal ? p.path + '\0' : p.path;
      if (bytes.size() > WARD_MUTE_KEY_MAX) {
        image.inexact |= bit_of(c);  // does not fit: this client's list is not in the kernel
        continue;
      }
      own[bytes] |= bit_of(c);
    }
  }
  // The longest match must speak for every shorter entry it extends: a
  // lookup sees only one. (A literal's NUL is never inside another entry.)
  for (const auto& [bytes, clients] : own) {
    uint64_t all = clients;
    for (const auto& [other, other_clients] : own)
      if (other.size() < bytes.size() && bytes.compare(0, other.size(), other) == 0) all |= other_clients;
    image.entries.emplace_back(bytes, all & ~image.inexact);
  }
  return image;
}

std::shared_ptr<KernelFilter> KernelFilter::instance() {
  std::lock_guard lock(g_instance_mu);
  if (auto f = g_instance.lock()) return f;
  std::shared_ptr<KernelFilter> f(new KernelFilter());
  g_instance = f;
  return f;
}

KernelFilter::KernelFilter() {
  subscribed_fd_ = create_map(BPF_MAP_TYPE_ARRAY, "subscribed", 4, 8, WARD_EV_TYPE_SLOTS);
  config_fd_ = create_map(BPF_MAP_TYPE_ARRAY, "mute_config", 4, sizeof(ward_mute_config), 1);
  self_tgid_fd_ = create_map(BPF_MAP_TYPE_HASH, "self_tgid", 4, 1, 1024);
  self_pgid_fd_ = create_map(BPF_MAP_TYPE_HASH, "self_pgid", 4, 1, 1024);
  process_fd_ = create_map(BPF_MAP_TYPE_HASH, "mute_process", 4, sizeof(ward_mute_process), 4096);
  exe_paths_fd_ =
      create_map(BPF_MAP_TYPE_LPM_TRIE, "mute_exe_paths", sizeof(ward_mute_key), 8, 4096, BPF_F_NO_PREALLOC);
  target_paths_fd_ = create_map(BPF_MAP_TYPE_LPM_TRIE, "mute_target_path", sizeof(ward_mute_key), 8, 4096,
                                BPF_F_NO_PREALLOC);
  exe_cache_fd_ = create_map(BPF_MAP_TYPE_LRU_HASH, "exe_cache", 4, sizeof(ward_exe_cache), 8192);
  for (int fd : {subscribed_fd_, config_fd_, self_tgid_fd_, self_pgid_fd_, process_fd_, exe_paths_fd_,
                 target_paths_fd_, exe_cache_fd_})
    if (fd < 0) {
      status_ = Status::error(std::string("kernel filter maps: ") + std::strerror(-fd));
      break;
    }
}

KernelFilter::~KernelFilter() {
  for (int fd : {subscribed_fd_, config_fd_, self_tgid_fd_, self_pgid_fd_, process_fd_, exe_paths_fd_,
                 target_paths_fd_, exe_cache_fd_})
    if (fd >= 0) close(fd);
}

Status KernelFilter::share_maps(bpf_object* object) const {
  if (!status_) return status_;
  const std::pair<const char*, int> maps[] = {
      {"subscribed", subscribed_fd_},
      {"mute_config", config_fd_},
      {"self_tgid", self_tgid_fd_},
      {"self_pgid", self_pgid_fd_},
      {"mute_process", process_fd_},
      {"mute_exe_paths", exe_paths_fd_},
      {"mute_target_paths", target_paths_fd_},
      {"exe_cache", exe_cache_fd_},
  };
  for (const auto& [name, fd] : maps) {
    bpf_map* map = bpf_object__find_map_by_name(object, name);
    if (!map) continue;  // an object that does not filter by it
    if (int err = bpf_map__reuse_fd(map, fd); err)
      return Status::error(std::string("share map ") + name + ": " + std::strerror(-err));
  }
  return Status::ok();
}

Status KernelFilter::mute_self_tgid(pid_t tgid) {
  if (!status_) return status_;
  uint32_t key = static_cast<uint32_t>(tgid);
  uint8_t one = 1;
  if (bpf_map_update_elem(self_tgid_fd_, &key, &one, BPF_ANY) != 0)
    return Status::error(errno_text("self mute"));
  return Status::ok();
}

Status KernelFilter::mute_self_pgid(pid_t pgid) {
  if (!status_) return status_;
  uint32_t key = static_cast<uint32_t>(pgid);
  uint8_t one = 1;
  if (bpf_map_update_elem(self_pgid_fd_, &key, &one, BPF_ANY) != 0)
    return Status::error(errno_text("self mute"));
  return Status::ok();
}

bool KernelFilter::has_process_mute(pid_t tgid) const {
  std::lock_guard lock(mu_);
  return process_keys_.count(static_cast<uint32_t>(tgid)) != 0;
}

Status KernelFilter::write_trie(int fd, const TrieImage& image, std::vector<std::string>& written) {
  for (const auto& bytes : written) {
    ward_mute_key k = key_of(bytes);
    bpf_map_delete_elem(fd, &k);
  }
  written.clear();
  for (const auto& [bytes, clients] : image.entries) {
    ward_mute_key k = key_of(bytes);
    if (bpf_map_update_elem(fd, &k, &clients, BPF_ANY) != 0) return Status::error(errno_text("mute trie"));
    written.push_back(bytes);
  }
  return Status::ok();
}

Status KernelFilter::apply(const FilterSpec& spec) {
  if (!status_) return status_;
  std::lock_guard lock(mu_);
  uint32_t zero = 0;

  // Mute nothing while the maps are half written.
  ward_mute_config cfg{};
  cfg.generation = ++generation_;
  cfg.enabled = 0;
  if (bpf_map_update_elem(config_fd_, &zero, &cfg, BPF_ANY) != 0)
    return Status::error(errno_text("mute config"));

  // Subscriptions per record type.
  std::vector<uint64_t> subscribed(WARD_EV_TYPE_SLOTS, 0);
  for (std::size_t c = 0; c < spec.clients.size(); ++c)
    for (EventType t : spec.clients[c].subscribed)
      if (auto rec = record_type_of_event(t); rec && *rec < WARD_EV_TYPE_SLOTS) subscribed[*rec] |= bit_of(c);
  for (uint32_t i = 0; i < WARD_EV_TYPE_SLOTS; ++i)
    if (bpf_map_update_elem(subscribed_fd_, &i, &subscribed[i], BPF_ANY) != 0)
      return Status::error(errno_text("subscriptions"));

  // Muted processes.
  std::map<uint32_t, ward_mute_process> processes;
  for (std::size_t c = 0; c < spec.clients.size() && c < WARD_MUTE_CLIENTS; ++c)
    for (const auto& p : spec.clients[c].processes) {
      auto& e = processes[p.tgid];
      e.clients |= bit_of(c);
      e.start_boot_ns = p.start_boot_ns;
    }
  for (uint32_t tgid : process_keys_) bpf_map_delete_elem(process_fd_, &tgid);
  process_keys_.clear();
  for (auto& [tgid, e] : processes) {
    if (bpf_map_update_elem(process_fd_, &tgid, &e, BPF_ANY) != 0)
      return Status::error(errno_text("mute process"));
    process_keys_.insert(tgid);
  }

  // Path tries.
  std::vector<std::vector<FilterClient::Path>> exe, target;
  uint64_t represented = 0;
  for (std::size_t c = 0; c < spec.clients.size() && c < WARD_MUTE_CLIENTS; ++c) {
    exe.push_back(spec.clients[c].exe_paths);
    target.push_back(spec.clients[c].target_paths);
    represented |= bit_of(c);
    const auto& cl = spec.clients[c];
    if (cl.invert_process) cfg.invert_process |= bit_of(c);
    if (cl.invert_exe) cfg.invert_exe |= bit_of(c);
    if (cl.invert_target) cfg.invert_target |= bit_of(c);
  }
  TrieImage exe_image = build_trie_image(exe);
  TrieImage target_image = build_trie_image(target);
  if (Status s = write_trie(exe_paths_fd_, exe_image, exe_keys_); !s) return s;
  if (Status s = write_trie(target_paths_fd_, target_image, target_keys_); !s) return s;

  cfg.has_process_mutes = !processes.empty();
  cfg.has_exe_paths = !exe_image.entries.empty();
  cfg.has_target_paths = !target_image.entries.empty();
  cfg.exe_exact = represented & ~exe_image.inexact;
  cfg.target_exact = represented & ~target_image.inexact;
  cfg.enabled = 1;
  if (bpf_map_update_elem(config_fd_, &zero, &cfg, BPF_ANY) != 0)
    return Status::error(errno_text("mute config"));
  return Status::ok();
}

}  // namespace ward::sensors::bpf

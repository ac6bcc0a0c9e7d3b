// The in-kernel filter shared by the activity sensors: which event types are
// wanted, and the clients' ES mutes as BPF maps, so muted events never cross
// the ring buffer. One set of maps per process (every activity skeleton is
// loaded onto the same fds); the hub rewrites them from its clients' mute
// states. See the muting block of bpf/ward_event_wire.h for the semantics.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "ward/event_table.h"
#include "ward/status.h"

struct bpf_object;

namespace ward::sensors::bpf {

// One client as the kernel filter sees it.
struct FilterClient {
  struct Path {
    std::string path;
    bool literal = false;
  };
  struct ProcessInstance {
    uint32_t tgid = 0;
    uint64_t start_boot_ns = 0;
  };
  std::vector<EventType> subscribed;
  std::vector<ProcessInstance> processes;  // muted processes that are alive now
  std::vector<Path> exe_paths;             // mute_path Prefix / Literal
  std::vector<Path> target_paths;          // mute_path TargetPrefix / TargetLiteral
  bool invert_process = false;
  bool invert_exe = false;
  bool invert_target = false;
};

// Every client of the hub, in a stable order: the first 63 get a bit of
// their own; later ones share the overflow bit, which never mutes.
struct FilterSpec {
  std::vector<FilterClient> clients;
};

// What one trie holds for a set of clients: key bytes -> clients listing the
// entry or a prefix of it, and the clients whose lists did not fit.
struct TrieImage {
  std::vector<std::pair<std::string, uint64_t>> entries;  // key bytes (literals end with NUL)
  uint64_t inexact = 0;
};
TrieImage build_trie_image(const std::vector<std::vector<FilterClient::Path>>& per_client);

class KernelFilter {
 public:
  // The process-wide filter, created (its maps too) on first use.
  static std::shared_ptr<KernelFilter> instance();
  ~KernelFilter();
  KernelFilter(const KernelFilter&) = delete;
  KernelFilter& operator=(const KernelFilter&) = delete;

  const Status& status() const { return status_; }
  // Before load: point the object's shared maps at ours.
  Status share_maps(bpf_object* object) const;

  // The agent's own process / process group: never reported.
  Status mute_self_tgid(pid_t tgid);
  Status mute_self_pgid(pid_t pgid);

  // Rewrites subscriptions and mutes. While it runs the kernel mutes nothing
  // (user space still filters exactly), so no moment drops too much.
  Status apply(const FilterSpec& spec);
  // Whether a kernel process mute names tgid (its exec or exit changes it).
  bool has_process_mute(pid_t tgid) const;

 private:
  KernelFilter();
  Status write_trie(int fd, const TrieImage& image, std::vector<std::string>& written);

  Status status_;
  int subscribed_fd_ = -1;
  int config_fd_ = -1;
  int self_tgid_fd_ = -1;
  int self_pgid_fd_ = -1;
  int process_fd_ = -1;
  int exe_paths_fd_ = -1;
  int target_paths_fd_ = -1;
  int exe_cache_fd_ = -1;

  mutable std::mutex mu_;
  uint64_t generation_ = 0;
  std::set<uint32_t> process_keys_;
  std::vector<std::string> exe_keys_, target_keys_;
};

}  // namespace ward::sensors::bpf

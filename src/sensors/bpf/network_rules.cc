#include "sensors/bpf/network_rules.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

// Generated C: exempt from the C++ warnings.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include "net_auth.skel.h"
#pragma GCC diagnostic pop
#include "ward_event_wire.h"

namespace ward::sensors::bpf {
namespace {

uint32_t kernel_dev(uint64_t dev) { return (major(dev) << 20) | minor(dev); }

// sha256 of a file, lowercase hex; "" when it cannot be read.
std::string sha256_of_file(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::array<unsigned char, 1 << 16> buf;
  ssize_t n;
  while ((n = read(fd, buf.data(), buf.size())) > 0)
    EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(n));
  close(fd);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  if (n < 0) return {};
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

}  // namespace

bool parse_cidr(const std::string& text, uint16_t* family, uint8_t addr[16], uint32_t* prefix_len) {
  std::string host = text;
  long bits = -1;
  if (auto slash = text.find('/'); slash != std::string::npos) {
    host = text.substr(0, slash);
    std::string n = text.substr(slash + 1);
    if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos || n.size() > 3) return false;
    bits = std::stol(n);
  }
  std::memset(addr, 0, 16);
  if (inet_pton(AF_INET, host.c_str(), addr) == 1) {
    *family = AF_INET;
    if (bits < 0) bits = 32;
    if (bits > 32) return false;
  } else if (inet_pton(AF_INET6, host.c_str(), addr) == 1) {
    *family = AF_INET6;
    if (bits < 0) bits = 128;
    if (bits > 128) return false;
  } else {
    return false;
  }
  *prefix_len = static_cast<uint32_t>(bits);
  return true;
}

NetworkRules::NetworkRules(std::string cgroup_path)
    : ActivitySensor("bpf:net_auth", {}, ActivitySensorOptions{0, 1 << 20}),
      cgroup_(std::move(cgroup_path)) {}

NetworkRules::~NetworkRules() { stop(); }

bpf_object* NetworkRules::open_skeleton() {
  skel_ = net_auth_bpf__open();
  if (!skel_) return nullptr;
  skel_->rodata->wakeup_bytes = 0;  // a denial is news at once
  return skel_->obj;
}

int NetworkRules::load_skeleton() { return net_auth_bpf__load(skel_); }

int NetworkRules::attach_skeleton() {
  int cg = open(cgroup_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) return -errno;
  for (bpf_program* prog : {skel_->progs.ward_connect4, skel_->progs.ward_connect6, skel_->progs.ward_bind4,
                            skel_->progs.ward_bind6}) {
    bpf_link* link = bpf_program__attach_cgroup(prog, cg);
    if (!link) {
      int err = -errno;
      close(cg);
      return err;
    }
    links_.push_back(link);
  }
  close(cg);
  return 0;
}

void NetworkRules::destroy_skeleton() {
  for (bpf_link* l : links_) bpf_link__destroy(l);
  links_.clear();
  net_auth_bpf__destroy(skel_);
  skel_ = nullptr;
}

Status NetworkRules::set_rules(const std::vector<NetworkRule>& rules) {
  if (!skel_) return Status::error("network rules: not started");
  if (rules.size() > WARD_NET_RULES_MAX)
    return Status::error("network rules: at most " + std::to_string(WARD_NET_RULES_MAX) + " rules");

  // Compile everything before touching the kernel.
  std::vector<ward_net_rule> compiled;
  std::map<std::string, uint64_t> path_bits, sha_bits;
  auto bit_for = [&](std::map<std::string, uint64_t>& m, const std::string& key) -> std::optional<uint64_t> {
    if (auto it = m.find(key); it != m.end()) return it->second;
    std::size_t used = path_bits.size() + sha_bits.size();
    if (used >= 64) return std::nullopt;
    return m[key] = 1ull << used;
  };
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const NetworkRule& r = rules[i];
    std::string where = "network rule " + std::to_string(i + 1) + " (" + r.name + "): ";
    ward_net_rule k{};
    k.id = static_cast<uint32_t>(i + 1);
    k.direction = static_cast<uint32_t>(r.direction);
    k.protocol = static_cast<uint16_t>(r.protocol);
    k.port_lo = r.port_lo;
    k.port_hi = r.port_hi ? r.port_hi : r.port_lo;
    if (k.port_hi < k.port_lo) return Status::error(where + "port_hi below port_lo");
    if (!r.cidr.empty() && !parse_cidr(r.cidr, &k.family, k.addr, &k.prefix_len))
      return Status::error(where + "not a CIDR: " + r.cidr);
    if (r.executable) {
      if (r.executable->empty() || r.executable->front() != '/' || r.executable->size() >= WARD_MUTE_KEY_MAX)
        return Status::error(where + "executable must be an absolute path under 256 bytes");
      auto bit = bit_for(path_bits, *r.executable);
      if (!bit) return Status::error(where + "more than 64 identities");
      k.identity_bit |= *bit;
    }
    if (r.sha256) {
      if (r.sha256->size() != 64 || r.sha256->find_first_not_of("0123456789abcdef") != std::string::npos)
        return Status::error(where + "sha256 must be 64 lowercase hex digits");
      auto bit = bit_for(sha_bits, *r.sha256);
      if (!bit) return Status::error(where + "more than 64 identities");
      k.identity_bit |= *bit;
    }
    if (r.executable && r.sha256)
      return Status::error(where + "name the process by executable or sha256, not both");
    compiled.push_back(k);
  }

  // Off while rewriting, then identities, then the rules.
  int rules_fd = bpf_map__fd(skel_->maps.net_rules);
  int config_fd = bpf_map__fd(skel_->maps.net_config);
  uint32_t k0 = 0, k1 = 1, k2 = 2;
  uint64_t zero = 0;
  bpf_map_update_elem(config_fd, &k0, &zero, BPF_ANY);

  int by_path = bpf_map__fd(skel_->maps.exe_identity_by_path);
  int by_file = bpf_map__fd(skel_->maps.exe_identity_by_file);
  for (int fd : {by_path, by_file}) {
    std::vector<uint8_t> key(fd == by_path ? sizeof(ward_exe_path_key) : sizeof(ward_exe_file_key));
    std::vector<uint8_t> next(key.size());
    while (bpf_map_get_next_key(fd, nullptr, next.data()) == 0) bpf_map_delete_elem(fd, next.data());
  }
  learned_.clear();
  for (const auto& [path, bit] : path_bits) {
    ward_exe_path_key key{};
    std::memcpy(key.path, path.data(), path.size());
    if (bpf_map_update_elem(by_path, &key, &bit, BPF_ANY) != 0)
      return Status::error(std::string("network rules: ") + std::strerror(errno));
  }
  sha_bits_ = sha_bits;
  rule_names_.clear();
  for (uint32_t i = 0; i < WARD_NET_RULES_MAX; ++i) {
    ward_net_rule k = i < compiled.size() ? compiled[i] : ward_net_rule{};
    if (bpf_map_update_elem(rules_fd, &i, &k, BPF_ANY) != 0)
      return Status::error(std::string("network rules: ") + std::strerror(errno));
    if (i < compiled.size()) rule_names_[k.id] = rules[i].name;
  }
  if (!sha_bits_.empty()) scan_running_processes();
  bump_generation();
  uint64_t any_identity = !path_bits.empty() || !sha_bits.empty();
  bpf_map_update_elem(config_fd, &k2, &any_identity, BPF_ANY);
  uint64_t n = compiled.size();
  bpf_map_update_elem(config_fd, &k0, &n, BPF_ANY);
  (void)k1;
  return Status::ok();
}

void NetworkRules::bump_generation() {
  uint32_t k1 = 1;
  ++generation_;
  bpf_map_update_elem(bpf_map__fd(skel_->maps.net_config), &k1, &generation_, BPF_ANY);
}

void NetworkRules::learn_file(const FileStat& st, const std::string& sha256) {
  auto it = sha_bits_.find(sha256);
  if (it == sha_bits_.end()) return;
  if (!learned_.insert({st.dev, st.ino}).second) return;
  ward_exe_file_key key{};
  key.ino = st.ino;
  key.dev = kernel_dev(st.dev);
  key.mtime_sec = st.mtime.sec;
  key.ctime_sec = st.ctime.sec;
  uint64_t bits = it->second;
  bpf_map_update_elem(bpf_map__fd(skel_->maps.exe_identity_by_file), &key, &bits, BPF_ANY);
  bump_generation();  // identities cached before this are stale
}

void NetworkRules::on_exec(const Process& process) {
  if (!skel_ || sha_bits_.empty() || !process.sha256 || !process.executable.stat) return;
  learn_file(*process.executable.stat, *process.sha256);
}

// Processes running before the policy: hash each distinct executable once.
void NetworkRules::scan_running_processes() {
  DIR* proc = opendir("/proc");
  if (!proc) return;
  std::set<std::pair<uint64_t, uint64_t>> seen;
  while (dirent* e = readdir(proc)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    std::string exe = std::string("/proc/") + e->d_name + "/exe";
    struct stat st {};
    if (stat(exe.c_str(), &st) != 0 || !seen.insert({st.st_dev, st.st_ino}).second) continue;
    FileStat fs;
    fs.dev = st.st_dev;
    fs.ino = st.st_ino;
    fs.mtime = {st.st_mtim.tv_sec, static_cast<uint32_t>(st.st_mtim.tv_nsec)};
    fs.ctime = {st.st_ctim.tv_sec, static_cast<uint32_t>(st.st_ctim.tv_nsec)};
    learn_file(fs, sha256_of_file(exe));
  }
  closedir(proc);
}

void NetworkRules::on_event(RawEvent& event) {
  auto* notify = std::get_if<RawNotify>(&event);
  if (!notify) return;
  auto* result = std::get_if<AuthResultEvent>(&notify->payload);
  if (!result || result->rule.size() < 2 || result->rule[0] != '#') return;
  uint32_t id = static_cast<uint32_t>(std::stoul(result->rule.substr(1)));
  if (auto it = rule_names_.find(id); it != rule_names_.end()) result->rule = it->second;
}

}  // namespace ward::sensors::bpf

#include "e2e_util.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace ward::e2e {

std::string bin_path(const std::string& name) { return std::string(WARD_BIN_DIR) + "/" + name; }

WardLog::WardLog(std::vector<std::string> args) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  std::string ward = bin_path("ward");
  std::vector<std::string> argv = {ward, "log"};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_ = fork();
  if (pid_ == 0) {
    setpgid(0, 0);  // its own group: the test's processes must not be muted with it
    dup2(out[1], 1);
    dup2(err[1], 2);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  out_fd_ = out[0];
  err_fd_ = err[0];
  out_thread_ = std::thread([this] { read_stdout(); });
  err_thread_ = std::thread([this] { read_stderr(); });
}

WardLog::~WardLog() {
  stop();
  if (out_thread_.joinable()) out_thread_.join();
  if (err_thread_.joinable()) err_thread_.join();
  close(out_fd_);
  close(err_fd_);
}

void WardLog::read_stdout() {
  std::string partial;
  std::array<char, 1 << 16> buf;
  for (;;) {
    if (paused_) {
      usleep(10'000);
      continue;
    }
    ssize_t n = read(out_fd_, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    partial.append(buf.data(), static_cast<size_t>(n));
    size_t start = 0, nl;
    std::vector<std::string> fresh;
    while ((nl = partial.find('\n', start)) != std::string::npos) {
      fresh.emplace_back(partial, start, nl - start);
      start = nl + 1;
    }
    partial.erase(0, start);
    if (fresh.empty()) continue;
    std::lock_guard lock(mu_);
    for (auto& line : fresh) {
      try {
        events_.push_back(nlohmann::json::parse(line));
      } catch (const nlohmann::json::exception&) {
        bad_.push_back(line);
      }
      lines_.push_back(std::move(line));
    }
    cv_.notify_all();
  }
  std::lock_guard lock(mu_);
  if (!partial.empty()) bad_.push_back(partial);  // a record cut short
  cv_.notify_all();
}

void WardLog::read_stderr() {
  std::array<char, 4096> buf;
  for (;;) {
    ssize_t n = read(err_fd_, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::lock_guard lock(mu_);
    err_.append(buf.data(), static_cast<size_t>(n));
    cv_.notify_all();
  }
}

bool WardLog::wait_ready(std::chrono::seconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    return err_.find("streaming") != std::string::npos || waitpid(pid_, nullptr, WNOHANG) == pid_;
  }) && err_.find("streaming") != std::string::npos;
}

std::optional<nlohmann::json> WardLog::wait_for(const std::function<bool(const nlohmann::json&)>& pred,
                                                std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  std::size_t checked = 0;
  std::optional<nlohmann::json> found;
  cv_.wait_for(lock, timeout, [&] {
    for (; checked < events_.size(); ++checked)
      if (pred(events_[checked])) {
        found = events_[checked];
        return true;
      }
    return false;
  });
  return found;
}

int WardLog::stop(int sig) {
  if (status_) return *status_;
  if (pid_ <= 0) return -1;
  kill(pid_, sig);
  int status = -1;
  for (int i = 0; i < 200; ++i) {  // 10 s
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      status_ = status;
      return status;
    }
    usleep(50'000);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  status_ = status;
  return status;
}

std::vector<nlohmann::json> WardLog::events() const {
  std::lock_guard lock(mu_);
  return events_;
}
std::vector<std::string> WardLog::raw_lines() const {
  std::lock_guard lock(mu_);
  return lines_;
}
std::vector<std::string> WardLog::unparsable() const {
  std::lock_guard lock(mu_);
  return bad_;
}
std::string WardLog::stderr_text() const {
  std::lock_guard lock(mu_);
  return err_;
}

RunResult run(const std::vector<std::string>& argv, const std::string& cwd) {
  RunResult r;
  r.pid = fork();
  if (r.pid == 0) {
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    std::vector<char*> cargv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  waitpid(r.pid, &r.status, 0);
  return r;
}

std::string shell_output(const std::string& command) {
  std::string out;
  FILE* f = popen(command.c_str(), "r");
  if (!f) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), f)) > 0) out.append(buf.data(), n);
  pclose(f);
  return out;
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/ward-e2e-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

TmpfsMount::TmpfsMount() {
  if (mount("ward-e2e", dir_.path().c_str(), "tmpfs", 0, "size=64m,mode=0755") != 0)
    throw std::runtime_error("mount tmpfs: " + std::string(strerror(errno)));
  mounted_ = true;
}

TmpfsMount::~TmpfsMount() {
  if (mounted_) umount2(dir_.path().c_str(), MNT_DETACH);
}

Background::Background(std::vector<std::string> argv) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  pid_ = fork();
  if (pid_ == 0) {
    setpgid(0, 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  out_fd_ = out[0];
  err_fd_ = err[0];
  auto pump = [this](int fd, std::string* into) {
    std::array<char, 8192> buf;
    for (;;) {
      ssize_t n = read(fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      std::lock_guard lock(mu_);
      into->append(buf.data(), static_cast<size_t>(n));
      cv_.notify_all();
    }
  };
  out_thread_ = std::thread(pump, out_fd_, &out_);
  err_thread_ = std::thread(pump, err_fd_, &err_);
}

Background::~Background() {
  kill_now(SIGKILL);
  wait_exit();
  if (out_thread_.joinable()) out_thread_.join();
  if (err_thread_.joinable()) err_thread_.join();
  close(out_fd_);
  close(err_fd_);
}

bool Background::wait_stderr(const std::string& text, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return err_.find(text) != std::string::npos; });
}

std::vector<nlohmann::json> Background::json_lines() const {
  std::lock_guard lock(mu_);
  std::vector<nlohmann::json> out;
  size_t start = 0, nl;
  while ((nl = out_.find('\n', start)) != std::string::npos) {
    try {
      out.push_back(nlohmann::json::parse(out_.substr(start, nl - start)));
    } catch (const nlohmann::json::exception&) {
    }
    start = nl + 1;
  }
  return out;
}

std::string Background::stderr_text() const {
  std::lock_guard lock(mu_);
  return err_;
}

void Background::kill_now(int sig) {
  if (!status_ && pid_ > 0) kill(pid_, sig);
}

int Background::wait_exit() {
  if (status_) return *status_;
  int st = -1;
  waitpid(pid_, &st, 0);
  status_ = st;
  return st;
}

std::set<uint32_t> added_since(const std::set<uint32_t>& before, const std::set<uint32_t>& now) {
  std::set<uint32_t> out;
  for (uint32_t id : now)
    if (!before.count(id)) out.insert(id);
  return out;
}

Listener::Listener() {
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(fd, 16) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("listener");
  port = ntohs(a.sin_port);
}

Listener::~Listener() { close(fd); }

int connect_loopback(uint16_t port, int* err) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int r = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  if (err) *err = errno;
  close(s);
  return r;
}

TestCgroup::TestCgroup() {
  for (const char* root : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
    if (!std::filesystem::exists(std::string(root) + "/cgroup.procs")) continue;
    if (!std::filesystem::exists(std::string(root) + "/cgroup.controllers")) continue;  // v1
    path_ = std::string(root) + "/ward-e2e-" + std::to_string(getpid());
    if (mkdir(path_.c_str(), 0755) == 0) return;
  }
  path_.clear();
}

TestCgroup::~TestCgroup() {
  if (!path_.empty()) rmdir(path_.c_str());
}

bool TestCgroup::enter() const {
  std::ofstream procs(path_ + "/cgroup.procs");
  procs << getpid() << std::flush;
  return procs.good();
}

std::set<uint32_t> programs_left_after(const std::set<uint32_t>& before, const std::string& prefix,
                                       std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = added_since(before, loaded_bpf_programs(prefix));
    if (left.empty() || std::chrono::steady_clock::now() >= until) return left;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::set<uint32_t> loaded_bpf_programs(const std::string& prefix) {
  std::set<uint32_t> ids;
  __u32 id = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) {
    int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) continue;
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
      std::string name(info.name);
      if (name.rfind(prefix, 0) == 0) ids.insert(id);
    }
    close(fd);
  }
  return ids;
}

}  // namespace ward::e2e

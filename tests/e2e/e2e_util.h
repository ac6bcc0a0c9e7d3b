// Helpers for end-to-end tests: run Ward's real binaries as root against the
// real kernel, collect their output, and always clean up.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace ward::e2e {

std::string bin_path(const std::string& name);  // build/bin/NAME

// A running `ward log ...`: started in its own process group, stdout read
// line by line on a thread. The destructor stops it (SIGINT, then SIGKILL).
class WardLog {
 public:
  explicit WardLog(std::vector<std::string> args);
  ~WardLog();
  WardLog(const WardLog&) = delete;
  WardLog& operator=(const WardLog&) = delete;

  // Waits for the "streaming" line on stderr; false on timeout or early exit.
  bool wait_ready(std::chrono::seconds timeout = std::chrono::seconds(30));
  // Waits until `pred` holds for some line parsed so far.
  std::optional<nlohmann::json> wait_for(const std::function<bool(const nlohmann::json&)>& pred,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Stops ward log and returns its exit status (wait-style), once.
  int stop(int sig = SIGINT);

  // While paused, stdout is not read: ward log's writes block, as on a slow
  // consumer.
  void pause_reading(bool paused) { paused_ = paused; }

  std::vector<nlohmann::json> events() const;   // parsed lines so far
  std::vector<std::string> raw_lines() const;   // every stdout line
  std::vector<std::string> unparsable() const;  // lines that were not JSON
  std::string stderr_text() const;
  pid_t pid() const { return pid_; }

 private:
  void read_stdout();
  void read_stderr();

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::optional<int> status_;
  std::atomic<bool> paused_{false};
  std::thread out_thread_, err_thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  std::vector<nlohmann::json> events_;
  std::vector<std::string> bad_;
  std::string err_;
};

// Runs argv (execv, no shell) with cwd; returns {pid, wait status}.
struct RunResult {
  pid_t pid = -1;
  int status = -1;
};
RunResult run(const std::vector<std::string>& argv, const std::string& cwd = "");

// Output of a shell command (for sha256sum and the like).
std::string shell_output(const std::string& command);

// A fresh directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A tmpfs mounted on a fresh directory: AUTH tests mark only this. Unmounted
// (lazily, if something still holds it) on destruction.
class TmpfsMount {
 public:
  TmpfsMount();
  ~TmpfsMount();
  const std::string& path() const { return dir_.path(); }

 private:
  TempDir dir_;
  bool mounted_ = false;
};

// A background process with stdout and stderr captured (e.g. auth_fixture).
class Background {
 public:
  explicit Background(std::vector<std::string> argv);
  ~Background();  // SIGKILL + reap if still running
  bool wait_stderr(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  std::vector<nlohmann::json> json_lines() const;
  std::string stderr_text() const;
  void kill_now(int sig = SIGKILL);
  int wait_exit();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1, err_fd_ = -1;
  std::thread out_thread_, err_thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string out_, err_;
  std::optional<int> status_;
};

// A TCP listener on 127.0.0.1 (an ephemeral port).
struct Listener {
  int fd = -1;
  uint16_t port = 0;
  Listener();
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
};

// connect() to 127.0.0.1:port from the calling process; the result and errno.
int connect_loopback(uint16_t port, int* err = nullptr);

// A cgroup v2 directory of the test's own (empty path() when there is no v2
// hierarchy); removed, after its processes are gone, on destruction.
class TestCgroup {
 public:
  TestCgroup();
  ~TestCgroup();
  TestCgroup(const TestCgroup&) = delete;
  TestCgroup& operator=(const TestCgroup&) = delete;
  const std::string& path() const { return path_; }
  // Moves the calling process in (call it in a child).
  bool enter() const;

 private:
  std::string path_;
};

// Ids of loaded BPF programs whose names start with `prefix`.
std::set<uint32_t> loaded_bpf_programs(const std::string& prefix);
// Ids in `now` that were not in `before`: what a test itself loaded, whatever
// else runs on the machine.
std::set<uint32_t> added_since(const std::set<uint32_t>& before, const std::set<uint32_t>& now);
// The programs (named prefix*) added since `before` that are still loaded
// after up to `timeout`: the kernel frees a dead process's tracing programs
// after an RCU grace period, not at its exit.
std::set<uint32_t> programs_left_after(const std::set<uint32_t>& before, const std::string& prefix,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace ward::e2e

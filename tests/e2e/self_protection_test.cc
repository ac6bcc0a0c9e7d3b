// Self-protection on this kernel (the host: fanotify, no BPF LSM) and the
// same policy/tamper suite the VM runs on the BPF LSM (tests/vm/). Every
// wardd here uses a test-owned tmpfs, bpffs, unlock socket and time limit.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "e2e_util.h"

namespace ward::e2e {
namespace {

using namespace std::chrono_literals;

std::string suite_dir() { return std::string(WARD_SOURCE_DIR) + "/tests/vm/suite"; }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool wait_file_contains(const std::string& path, const std::string& text, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (read_file(path).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// Stops a Background started under timeout(1) with its whole process group
// (timeout and wardd): SIGTERM, then SIGKILL. Without the group, wardd would
// outlive timeout and hold the output pipes open.
void stop_group(Background& b) {
  kill(-b.pid(), SIGTERM);
  for (int i = 0; i < 100 && kill(-b.pid(), 0) == 0; ++i) std::this_thread::sleep_for(100ms);
  kill(-b.pid(), SIGKILL);
  b.wait_exit();
}

std::string pid_of_wardd_under(pid_t parent) {
  std::string pid = shell_output("pgrep -P " + std::to_string(parent) + " -x wardd");
  while (!pid.empty() && pid.back() == '\n') pid.pop_back();
  return pid;
}

// A bpf file system of the test's own, for the tamper history's pins.
class BpfFsMount {
 public:
  BpfFsMount() { mounted_ = mount("bpf", dir_.path().c_str(), "bpf", 0, nullptr) == 0; }
  ~BpfFsMount() {
    if (mounted_) umount2(dir_.path().c_str(), MNT_DETACH);
  }
  bool ok() const { return mounted_; }
  const std::string& path() const { return dir_.path(); }

 private:
  TempDir dir_;
  bool mounted_ = false;
};

class SelfProtectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "end-to-end tests need root";
    work_ = std::make_unique<TmpfsMount>();
    ASSERT_TRUE(pins_.ok()) << "mount -t bpf";
  }
  // wardd with test-owned paths (--no-lsm: the fanotify path even where the
  // host has the BPF LSM).
  std::vector<std::string> wardd_argv(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {"/usr/bin/timeout", "-s", "KILL", "120", bin_path("wardd"), "--format",
                                     "json", "--no-store", "--no-metrics", "--control-socket", "none",
                                     "--unlock-socket", work_->path() + "/unlock.sock", "--bpf-pin-dir",
                                     pins_.path()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  std::unique_ptr<TmpfsMount> work_;
  BpfFsMount pins_;
};

// The suite of tests/vm/suite/policy_and_tamper.sh, here on the fanotify
// path: sha256 blocks, Ward's files, unlock, monitor mode, stop.
TEST_F(SelfProtectionTest, SharedPolicyAndTamperSuitePassesOnTheFanotifyPath) {
  std::string script = suite_dir() + "/policy_and_tamper.sh";
  std::string cmd = "WARD_BIN=" + std::string(WARD_BIN_DIR) + " WORK=" + work_->path() + " PIN_DIR=" + pins_.path() +
                    " WARD_PATH=fanotify WARD_EXTRA_ARGS=--no-lsm WARD_START_TIMEOUT=60 timeout -s KILL 240 sh " +
                    script + " 2>&1";
  std::string out = shell_output(cmd);
  int pass = 0;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("WARD-VM-RESULT ", 0) != 0) continue;
    if (line.find(" PASS ") != std::string::npos)
      ++pass;
    else
      ADD_FAILURE() << line;
  }
  EXPECT_GE(pass, 20) << out;
  // Nothing outlives the suite.
  // ([s]: the pattern does not match the shell that runs pgrep.)
  EXPECT_EQ(shell_output("pgrep -f -- 'unlock-[s]ocket " + work_->path() + "' || true"), "");
}

TEST_F(SelfProtectionTest, SaysWhySignalProtectionIsUnavailableAndRecordsPtrace) {
  Background wardd(wardd_argv());
  struct Stop {
    Background& b;
    ~Stop() { stop_group(b); }
  } stop{wardd};
  ASSERT_TRUE(wardd.wait_stderr("self-protection: unlock", 60s)) << wardd.stderr_text();
  std::string err = wardd.stderr_text();
  if (err.find("self-protection: files: bpf-lsm") != std::string::npos) GTEST_SKIP() << "this host has the BPF LSM";
  EXPECT_NE(err.find("wardd: unavailable: bpf:lsm: "), std::string::npos) << err;
  EXPECT_NE(err.find("self-protection: signals and ptrace aimed at the agent: NOT denied on this kernel"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("tamper recorder: on"), std::string::npos) << err;

  std::string pid = pid_of_wardd_under(wardd.pid());  // timeout's child
  ASSERT_FALSE(pid.empty());
  std::string attach = shell_output(std::string(WARD_BIN_DIR) + "/ward_probe ptrace " + pid);
  EXPECT_EQ(attach, "OK\n") << "nothing denies it here";
  EXPECT_TRUE(wardd.wait_stderr("tamper: ptrace/memory access to the agent (pid " + pid + ") by pid", 10s))
      << wardd.stderr_text();
  EXPECT_NE(wardd.stderr_text().find("NOT denied"), std::string::npos);
}

// kill -9 cannot be denied here: the kernel records it in the pinned history
// before the agent dies, and the next agent (the supervisor restarts it, as
// systemd's Restart=always does) reports it.
TEST_F(SelfProtectionTest, KillNineIsRecordedAndTheSupervisorBringsWarddBack) {
  const std::string dir = work_->path();
  std::string wardd;
  for (const auto& a : wardd_argv({"--no-lsm"})) wardd += "'" + a + "' ";
  // A supervisor stub: restarts wardd after it dies, twice at most.
  std::string supervisor =
      "n=0\n"
      "while [ $n -lt 2 ] && [ ! -e " + dir + "/stop ]; do\n"
      "  " + wardd + " >" + dir + "/out.$n 2>" + dir + "/err.$n &\n"
      "  echo $! >" + dir + "/pid.$n\n"
      "  wait $!\n"
      "  n=$((n + 1))\n"
      "done\n";
  std::ofstream(dir + "/supervise.sh") << supervisor;
  Background sup({"/usr/bin/timeout", "-s", "KILL", "200", "/bin/sh", dir + "/supervise.sh"});
  struct Stop {
    Background& b;
    std::string dir;
    ~Stop() {
      std::ofstream(dir + "/stop") << "";
      stop_group(b);
    }
  } stop{sup, dir};

  ASSERT_TRUE(wait_file_contains(dir + "/err.0", "self-protection: unlock", 60s)) << read_file(dir + "/err.0");
  std::string first = pid_of_wardd_under(std::stoi(read_file(dir + "/pid.0")));
  ASSERT_FALSE(first.empty());
  ASSERT_EQ(shell_output("kill -9 " + first + " && echo sent"), "sent\n") << "no LSM: root's kill -9 works";

  ASSERT_TRUE(wait_file_contains(dir + "/err.1", "self-protection: unlock", 60s)) << read_file(dir + "/err.1");
  std::string expected = "tamper: SIGKILL to the agent (pid " + first + ") by pid";
  EXPECT_TRUE(wait_file_contains(dir + "/err.1", expected, 10s)) << read_file(dir + "/err.1");
  std::string err1 = read_file(dir + "/err.1");
  EXPECT_NE(err1.find("[recorded while the previous agent, pid " + first + ", ran]"), std::string::npos) << err1;
  // …and as an auth_result event of the new agent.
  EXPECT_TRUE(wait_file_contains(dir + "/out.1", "\"rule\":\"ward-self-protection:SIGKILL\"", 10s))
      << read_file(dir + "/out.1");

  std::ofstream(dir + "/stop") << "";
  std::string second = pid_of_wardd_under(std::stoi(read_file(dir + "/pid.1")));
  ASSERT_FALSE(second.empty());
  kill(std::stoi(second), SIGTERM);  // no LSM here, and on a kernel with it: --no-lsm
  EXPECT_EQ(sup.wait_exit(), 0);
  // A clean stop leaves no pinned history behind.
  EXPECT_FALSE(std::filesystem::exists(pins_.path() + "/tamper_history"));
}

}  // namespace
}  // namespace ward::e2e

// The policy engine end to end: wardd enforcing a YAML policy through AUTH on
// test-owned mounts, seen from real processes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "e2e_util.h"

namespace ward::e2e {
namespace {

using nlohmann::json;

std::string sha256_of(const std::string& path) {
  return shell_output("sha256sum '" + path + "'").substr(0, 64);
}

// Runs argv in a child; returns its errno from execve (0 if it ran and exited 0).
int exec_errno(const std::vector<std::string>& argv) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> cargv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    execv(cargv[0], cargv.data());
    _exit(errno);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

class PolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "end-to-end tests need root";
    mnt_ = std::make_unique<TmpfsMount>();
    policy_ = conf_.path() + "/policy.yaml";
  }
  void TearDown() override {
    wardd_.reset();
    mnt_.reset();
  }
  std::string copy_of(const std::string& src, const std::string& name) {
    std::string dst = mnt_->path() + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(dst).parent_path());
    std::filesystem::copy_file(src, dst, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::permissions(dst, std::filesystem::perms::owner_all);
    return dst;
  }
  void write_policy(const std::string& yaml) { std::ofstream(policy_) << yaml; }
  void start_wardd(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {
        bin_path("wardd"), "--format",           "json", "--policy",           policy_, "--auth-scope",
        mnt_->path(),      "--exec-deadline-ms", "3000", "--open-deadline-ms", "3000"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    wardd_ = std::make_unique<Background>(argv);
    ASSERT_TRUE(wardd_->wait_stderr("wardd: running")) << wardd_->stderr_text();
  }
  // The auth_result events wardd logged for `target`.
  std::vector<json> results_for(const std::string& target) {
    std::vector<json> out;
    for (int tries = 0; tries < 50; ++tries) {
      out.clear();
      for (const auto& j : wardd_->json_lines())
        if (j.contains("event") && j["event"].contains("auth_result") &&
            j["event"]["auth_result"]["target"] == target)
          out.push_back(j["event"]["auth_result"]);
      if (!out.empty()) break;
      usleep(20'000);
    }
    return out;
  }

  TempDir conf_;
  std::string policy_;
  std::unique_ptr<TmpfsMount> mnt_;
  std::unique_ptr<Background> wardd_;
};

TEST_F(PolicyTest, BlockedBySha256FailsWithEpermAndSoDoesACopy) {
  std::string blocked = copy_of("/usr/bin/true", "blocked");
  std::string again = copy_of("/usr/bin/true", "elsewhere/renamed");
  std::string allowed = copy_of("/usr/bin/echo", "echo");
  write_policy("mode: lockdown\nbinary_rules:\n  - id: block-true\n    sha256: " + sha256_of(blocked) +
               "\n    policy: block\n  - id: allow-echo\n    path: " + allowed + "\n    policy: allow\n");
  start_wardd();
  EXPECT_EQ(exec_errno({blocked}), EPERM);
  EXPECT_EQ(exec_errno({again}), EPERM) << "a copy has the same hash";
  EXPECT_EQ(exec_errno({allowed, "hi"}), 0);
  auto r = results_for(blocked);
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r[0]["result"], "deny");
  EXPECT_EQ(r[0]["rule"], "block-true");
}

TEST_F(PolicyTest, MonitorModeRunsItAndLogsWouldDeny) {
  std::string blocked = copy_of("/usr/bin/true", "blocked");
  write_policy("mode: monitor\nbinary_rules:\n  - id: block-true\n    sha256: " + sha256_of(blocked) +
               "\n    policy: block\n");
  start_wardd();
  EXPECT_EQ(exec_errno({blocked}), 0);
  auto r = results_for(blocked);
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r[0]["result"], "allow");
  EXPECT_EQ(r[0]["would_deny"], true);
  EXPECT_EQ(r[0]["rule"], "block-true");
}

TEST_F(PolicyTest, LockdownDeniesUnknownAndRunsPlatformBinaries) {
  // In a private mount namespace /usr is bind-mounted onto itself, so AUTH
  // covers platform binaries at their real paths without touching the host's
  // mounts; the namespace (and its marks) die with the script.
  std::string unknown = copy_of("/usr/bin/true", "unknown");
  write_policy(
      "mode: lockdown\nbinary_rules:\n  - id: platform\n    platform_binary: true\n    policy: allow\n");
  std::string err = conf_.path() + "/wardd.err";
  std::string script =
      "set -u\n"
      "mount --make-rprivate /\n"
      "mount --bind /usr /usr\n"
      // A hard time limit: nothing here may outlive the test.
      "timeout 60 " +
      bin_path("wardd") + " --format none --policy " + policy_ + " --auth-scope /usr --auth-scope " +
      mnt_->path() + " --exec-deadline-ms 3000 >/dev/null 2>" + err +
      " &\n"
      "WARDD=$!\n"
      "for i in $(seq 100); do grep -q \"wardd: running\" " +
      err +
      " && break; sleep 0.1; done\n"
      "/usr/bin/true; echo \"platform=$?\"\n" +
      unknown +
      "; echo \"unknown=$?\"\n"
      "kill $WARDD; wait $WARDD\n";
  std::string script_file = conf_.path() + "/lockdown.sh";
  std::ofstream(script_file) << script;
  std::string out = shell_output("unshare -m bash " + script_file + " 2>&1");
  EXPECT_NE(out.find("platform=0"), std::string::npos) << out;
  EXPECT_NE(out.find("unknown=126"), std::string::npos) << "bash reports a denied exec as 126: " << out;
}

TEST_F(PolicyTest, DlpOnlyCatMayReadTheSecret) {
  std::string dir = mnt_->path() + "/vault";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/secret") << "the secret\n";
  write_policy(
      "mode: monitor\nfile_access_rules:\n  - id: only-cat\n    shape: paths_with_allowed_processes\n"
      "    paths: [\"" +
      dir + "/secret\"]\n    processes: [{path: /usr/bin/cat}]\n    access: read\n");
  start_wardd();
  EXPECT_EQ(shell_output("/usr/bin/cat " + dir + "/secret"), "the secret\n");
  TempDir out;
  RunResult cp = run({"/usr/bin/cp", dir + "/secret", out.path() + "/copy"});
  EXPECT_TRUE(WIFEXITED(cp.status) && WEXITSTATUS(cp.status) != 0) << "cp must get EPERM";
  EXPECT_FALSE(std::filesystem::exists(out.path() + "/copy") &&
               std::filesystem::file_size(out.path() + "/copy") > 0);
}

TEST_F(PolicyTest, WritesToAProtectedPathOnlyByTheAllowedProcess) {
  std::string file = mnt_->path() + "/protected.log";
  std::ofstream(file) << "start\n";
  write_policy(
      "mode: monitor\nfile_access_rules:\n  - id: only-tee-writes\n    shape: paths_with_allowed_processes\n"
      "    paths: [{literal: \"" +
      file + "\"}]\n    processes: [{path: /usr/bin/tee}]\n    access: write\n");
  start_wardd();
  RunResult sh = run({"/bin/sh", "-c", "echo by-sh >> " + file});
  EXPECT_NE(WEXITSTATUS(sh.status), 0) << "sh's redirect must be denied";
  RunResult tee = run({"/bin/sh", "-c", "echo by-tee | /usr/bin/tee -a " + file + " >/dev/null"});
  EXPECT_EQ(WEXITSTATUS(tee.status), 0);
  EXPECT_EQ(shell_output("/usr/bin/cat " + file), "start\nby-tee\n") << "reading stays allowed";
}

TEST_F(PolicyTest, MalformedPolicyIsRejectedWithItsLine) {
  struct Case {
    std::string yaml;
    std::string line;
  } cases[] = {
      {"mode: monitor\nbinary_rules:\n  - id: x\n    sha256: abc\n    policy: block\n", ":4"},
      {"mode: monitor\nbinary_rules:\n  - id: x\n    path: /a\n    polcy: block\n", ":5"},
      {"mode: monitor\nfile_access_rules:\n  - id: g\n    shape: paths_with_allowed_processes\n"
       "    paths: [\"/a/[b\"]\n    processes: [{uid: 0}]\n    access: read\n",
       ":5"},
      {"mode: monitor\nbinary_rules: [\n", ":"},
  };
  for (const auto& c : cases) {
    write_policy(c.yaml);
    Background bad({bin_path("wardd"), "--policy", policy_, "--auth-scope", mnt_->path()});
    int st = bad.wait_exit();
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2) << c.yaml;
    bad.wait_stderr("policy.yaml", std::chrono::seconds(2));
    EXPECT_NE(bad.stderr_text().find("policy.yaml" + c.line), std::string::npos) << bad.stderr_text();
  }
}

TEST_F(PolicyTest, BadReloadKeepsThePolicyInForce) {
  std::string blocked = copy_of("/usr/bin/true", "blocked");
  write_policy("mode: lockdown\nbinary_rules:\n  - id: block-true\n    sha256: " + sha256_of(blocked) +
               "\n    policy: block\n");
  // The test edits the policy file in place, which self-protection forbids
  // (self_protection_test.cc tests that).
  start_wardd({"--no-self-protection"});
  ASSERT_EQ(exec_errno({blocked}), EPERM);
  write_policy("mode: monitor\nbinary_rules:\n  - id: x\n    sha256: nothex\n    policy: allow\n");
  kill(wardd_->pid(), SIGHUP);
  ASSERT_TRUE(wardd_->wait_stderr("NOT reloaded")) << wardd_->stderr_text();
  EXPECT_NE(wardd_->stderr_text().find("policy.yaml:4"), std::string::npos) << wardd_->stderr_text();
  EXPECT_EQ(exec_errno({blocked}), EPERM) << "the previous policy must still be enforced";
  // A good reload takes effect (and forgets decisions cached under the old one).
  write_policy("mode: monitor\n");
  kill(wardd_->pid(), SIGHUP);
  ASSERT_TRUE(wardd_->wait_stderr("policy reloaded")) << wardd_->stderr_text();
  EXPECT_EQ(exec_errno({blocked}), 0);
}

// The policy's network rules go to the kernel's cgroup sock programs: a
// connect they deny fails with EPERM in the cgroup and is an auth_result;
// the same connect outside the cgroup, and other ports inside, work; a
// reload without the rules lifts them.
TEST_F(PolicyTest, NetworkRulesDenyConnectsInTheKernelAndAreLogged) {
  TestCgroup cg;
  ASSERT_FALSE(cg.path().empty()) << "no cgroup v2 hierarchy to make a test cgroup in";
  Listener denied, allowed;
  const std::string port = std::to_string(denied.port);
  write_policy("mode: monitor\nnetwork_cgroup: " + cg.path() +
               "\nnetwork_rules:\n  - {id: no-test-port, protocol: tcp, cidr: 127.0.0.1/32, port: " + port + "}\n");
  start_wardd({"--no-self-protection"});  // the test rewrites the policy below
  // Each probe: a child in the cgroup connects to `p`; its errno (0 = connected).
  auto connect_in_cgroup = [&](uint16_t p) {
    pid_t pid = fork();
    if (pid == 0) {
      if (!cg.enter()) _exit(100);
      int err = 0;
      _exit(connect_loopback(p, &err) == 0 ? 0 : err);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  };
  EXPECT_EQ(connect_in_cgroup(denied.port), EPERM);
  EXPECT_EQ(connect_in_cgroup(allowed.port), 0);
  EXPECT_EQ(connect_loopback(denied.port), 0) << "outside the cgroup nothing is denied";

  std::vector<json> r;
  for (int tries = 0; tries < 250 && r.empty(); ++tries) r = results_for("tcp://127.0.0.1:" + port);
  ASSERT_FALSE(r.empty()) << wardd_->stderr_text();
  EXPECT_EQ(r[0]["result"], "deny");
  EXPECT_EQ(r[0]["decided_by"], "kernel");
  EXPECT_EQ(r[0]["rule"], "no-test-port");

  write_policy("mode: monitor\n");
  kill(wardd_->pid(), SIGHUP);
  ASSERT_TRUE(wardd_->wait_stderr("policy reloaded")) << wardd_->stderr_text();
  EXPECT_EQ(connect_in_cgroup(denied.port), 0) << "the reloaded policy has no network rules";
}

// A network rule the kernel cannot take (no such cgroup) is refused at start
// with the policy file named, and nothing is left running.
TEST_F(PolicyTest, NetworkRulesForAMissingCgroupAreAClearError) {
  write_policy("mode: monitor\nnetwork_cgroup: /sys/fs/cgroup/ward-no-such-cgroup\nnetwork_rules:\n"
               "  - {id: no-smtp, port: 25}\n");
  Background bad({"/usr/bin/timeout", "-s", "KILL", "60", bin_path("wardd"), "--policy", policy_, "--no-store",
                  "--no-metrics", "--control-socket", "none", "--no-self-protection"});
  int st = bad.wait_exit();
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) != 0) << st;
  bad.wait_stderr("network rules", std::chrono::seconds(2));
  EXPECT_NE(bad.stderr_text().find(policy_ + ": network rules: "), std::string::npos) << bad.stderr_text();
}

}  // namespace
}  // namespace ward::e2e

// AUTH end to end: fanotify permission events on a test-owned tmpfs, answered
// by real Ward clients (tests/e2e/fixtures/auth_fixture.cc), seen from real
// processes as success or EPERM.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "e2e_util.h"

namespace ward::e2e {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "end-to-end tests need root";
    mnt_ = std::make_unique<TmpfsMount>();
    file_ = mnt_->path() + "/data.txt";
    std::ofstream(file_) << "hello\n";
  }
  void TearDown() override {
    fixture_.reset();  // before the mount goes: its marks hold the mount
    mnt_.reset();
  }

  void start(std::vector<std::string> args) {
    std::vector<std::string> argv = {bin_path("auth_fixture"), "--scope", mnt_->path()};
    argv.insert(argv.end(), args.begin(), args.end());
    fixture_ = std::make_unique<Background>(argv);
    ASSERT_TRUE(fixture_->wait_stderr("ready")) << fixture_->stderr_text();
  }

  // open(2) from a child process (the test process must not be the one
  // blocked if something goes wrong): its errno, 0 on success.
  static int open_in_child(const std::string& path, int flags = O_RDONLY) {
    pid_t pid = fork();
    if (pid == 0) {
      int fd = open(path.c_str(), flags);
      _exit(fd >= 0 ? 0 : errno);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }

  int count_auth(const std::string& event, const std::string& path) {
    int n = 0;
    for (const auto& j : fixture_->json_lines())
      if (j.value("event", "") == event && j.value("path", "") == path && j.value("client", -1) == 0) ++n;
    return n;
  }

  std::unique_ptr<TmpfsMount> mnt_;
  std::unique_ptr<Background> fixture_;
  std::string file_;
};

TEST_F(AuthTest, DeniedOpenFailsWithEperm) {
  start({"--clients", "deny"});
  EXPECT_EQ(open_in_child(file_), EPERM);
  start({"--clients", "allow"});
  EXPECT_EQ(open_in_child(file_), 0);
}

TEST_F(AuthTest, OpenCarriesTheAccessRequested) {
  start({"--clients", "allow"});
  ASSERT_EQ(open_in_child(file_, O_RDONLY), 0);
  ASSERT_EQ(open_in_child(file_, O_WRONLY), 0);
  ASSERT_EQ(open_in_child(file_, O_RDWR), 0);
  std::vector<int> flags;
  for (const auto& j : fixture_->json_lines())
    if (j.value("event", "") == "auth_open" && j.value("path", "") == file_) flags.push_back(j["fflag"]);
  EXPECT_EQ(flags, (std::vector<int>{1, 2, 3}));
}

TEST_F(AuthTest, DeniedExecFailsWithEpermAndCarriesArgsAndHash) {
  std::string copy = mnt_->path() + "/true";
  std::filesystem::copy_file("/usr/bin/true", copy);
  std::filesystem::permissions(copy, std::filesystem::perms::owner_all);
  start({"--event", "exec", "--clients", "deny"});
  pid_t pid = fork();
  if (pid == 0) {
    execl(copy.c_str(), copy.c_str(), "--an-arg", "two words", nullptr);
    _exit(errno);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), EPERM);
  json seen;
  for (int tries = 0; tries < 100 && seen.is_null(); ++tries) {
    for (const auto& j : fixture_->json_lines())
      if (j.value("event", "") == "auth_exec" && j.value("path", "") == copy) seen = j;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(seen.is_null()) << "no auth_exec seen";
  EXPECT_EQ(seen["args"], json::array({copy, "--an-arg", "two words"}));
  std::string sha = shell_output("sha256sum /usr/bin/true");
  EXPECT_EQ(seen["sha256"], sha.substr(0, 64));
  EXPECT_EQ(seen["pid"], pid);
}

TEST_F(AuthTest, ChainedClientsCombineLikeKauth) {
  start({"--clients", "allow,deny"});
  EXPECT_EQ(open_in_child(file_), EPERM) << "any DENY denies";
  start({"--clients", "defer,allow"});
  EXPECT_EQ(open_in_child(file_), 0) << "DEFER passes to the next";
  start({"--clients", "defer,defer"});
  EXPECT_EQ(open_in_child(file_), 0) << "all DEFER falls to the default (allow)";
}

TEST_F(AuthTest, WatchdogAnswersFailOpenBeforeTheDeadline) {
  start({"--clients", "none", "--mode", "fail-open", "--deadline-ms", "800", "--margin-ms", "200"});
  auto t0 = Clock::now();
  EXPECT_EQ(open_in_child(file_), 0);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  EXPECT_GE(ms, 500) << "answered before the watchdog could have";
  EXPECT_LE(ms, 800 + 200) << "deadline + margin";
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  bool by_watchdog = false;
  for (const auto& j : fixture_->json_lines())
    if (j.contains("auth_result") && j["auth_result"]["target"] == file_)
      by_watchdog = j["auth_result"]["decided_by"] == "watchdog" && j["auth_result"]["cached"] == false;
  EXPECT_TRUE(by_watchdog);
}

TEST_F(AuthTest, WatchdogAnswersFailClosed) {
  start({"--clients", "none", "--mode", "fail-closed", "--deadline-ms", "800", "--margin-ms", "200"});
  auto t0 = Clock::now();
  EXPECT_EQ(open_in_child(file_), EPERM);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  EXPECT_GE(ms, 500);
  EXPECT_LE(ms, 1000);
}

TEST_F(AuthTest, KillingTheAgentReleasesEveryWaiter) {
  start({"--clients", "none", "--deadline-ms", "60000"});
  // Each waiter reports when its open returned (CLOCK_MONOTONIC ns, one
  // 8-byte write: atomic on a pipe), so the bound measures the release, not
  // how fast a loaded machine reaps 50 processes.
  int times[2];
  ASSERT_EQ(pipe(times), 0);
  std::vector<pid_t> waiters;
  for (int i = 0; i < 50; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      close(times[0]);
      int fd = open(file_.c_str(), O_RDONLY);
      timespec t{};
      clock_gettime(CLOCK_MONOTONIC, &t);
      uint64_t ns = static_cast<uint64_t>(t.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(t.tv_nsec);
      (void)!write(times[1], &ns, sizeof(ns));
      _exit(fd >= 0 ? 0 : 1);
    }
    waiters.push_back(pid);
  }
  close(times[1]);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  int still_blocked = 0;
  for (pid_t p : waiters) still_blocked += waitpid(p, nullptr, WNOHANG) == 0;
  EXPECT_GT(still_blocked, 0) << "the waiters should be held by the silent client";
  timespec k{};
  clock_gettime(CLOCK_MONOTONIC, &k);
  uint64_t killed_ns = static_cast<uint64_t>(k.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(k.tv_nsec);
  fixture_->kill_now(SIGKILL);
  fixture_->wait_exit();
  auto t0 = Clock::now();
  for (pid_t p : waiters) {
    int st = 0;
    while (waitpid(p, &st, WNOHANG) == 0) {
      ASSERT_LT(Clock::now() - t0, std::chrono::seconds(20)) << "a process stayed blocked";
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  uint64_t latest = 0, ns = 0;
  int reported = 0;
  while (read(times[0], &ns, sizeof(ns)) == sizeof(ns)) {
    latest = std::max(latest, ns);
    ++reported;
  }
  close(times[0]);
  EXPECT_EQ(reported, 50);
  EXPECT_LT(latest - std::min(latest, killed_ns), 1'000'000'000u) << "every waiter must continue within 1 s";
}

TEST_F(AuthTest, CachedAllowSkipsUserSpaceUntilTheFileChanges) {
  start({"--clients", "allow", "--cache"});
  for (int i = 0; i < 10; ++i) ASSERT_EQ(open_in_child(file_), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(count_auth("auth_open", file_), 1) << "repeated opens must not reach user space";
  { std::ofstream(file_, std::ios::app) << "more\n"; }  // the write clears the kernel's mark
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  int before = count_auth("auth_open", file_);
  ASSERT_EQ(open_in_child(file_), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(count_auth("auth_open", file_), before + 1) << "a modified file comes back to user space";
}

TEST_F(AuthTest, DenialsAreNeverCached) {
  start({"--clients", "deny", "--cache"});
  EXPECT_EQ(open_in_child(file_), EPERM);
  EXPECT_EQ(open_in_child(file_), EPERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(count_auth("auth_open", file_), 2);
}

static std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(AuthTest, DenyVimTxtExampleBlocksVimOnTxtOnly) {
  std::string txt = mnt_->path() + "/notes.txt", md = mnt_->path() + "/notes.md";
  std::ofstream(txt) << "secret words\n";
  std::ofstream(md) << "markdown words\n";
  Background example({bin_path("deny_vim_txt"), mnt_->path()});
  ASSERT_TRUE(example.wait_stderr("ready")) << example.stderr_text();
  TempDir out;
  // vim writes its buffer elsewhere: the file's content if it could open it.
  auto vim_copy = [&](const std::string& file) {
    std::string copy = out.path() + "/copy";
    std::filesystem::remove(copy);
    run({"/usr/bin/vim", "-u", "NONE", "-N", "-es", "-c", "w! " + copy, "-c", "q!", file});
    return read_file(copy);
  };
  EXPECT_EQ(vim_copy(md), "markdown words\n") << "vim may open a .md file";
  EXPECT_EQ(vim_copy(txt).find("secret"), std::string::npos) << "vim must not open a .txt file";
  std::string cat = shell_output("/bin/cat " + txt);
  EXPECT_EQ(cat, "secret words\n") << "other programs may open .txt files";
}

}  // namespace
}  // namespace ward::e2e

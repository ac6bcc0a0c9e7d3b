// `ward log exec fork exit` end to end: real kernel, real binaries, as root.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "e2e_util.h"

namespace ward::e2e {
namespace {

using nlohmann::json;
using std::chrono::seconds;

class LogProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "end-to-end tests need root";
  }
};

bool is_exec_of(const json& e, pid_t pid) {
  return e.contains("event") && e["event"].contains("exec") &&
         e["event"]["exec"]["target"]["audit_token"]["pid"] == pid;
}

bool is_exit_of(const json& e, pid_t pid) {
  return e.contains("event") && e["event"].contains("exit") && e["process"]["audit_token"]["pid"] == pid;
}

std::string sha256_of(const std::string& path) {
  std::string out = shell_output("sha256sum '" + path + "'");
  return out.substr(0, out.find(' '));
}

TEST_F(LogProcessTest, EchoUnderBashWithArgsAncestryIdentityAndExit) {
  TempDir dir;
  WardLog log({"exec", "fork", "exit"});
  ASSERT_TRUE(log.wait_ready()) << log.stderr_text();

  // script(1) gives the command a terminal, so tty is something to check.
  std::string tty_file = dir.path() + "/tty";
  std::string cmd = "bash -c 'tty > " + tty_file + "; sleep 0.1; /bin/echo \"a b\" c'";
  RunResult r = run({"/usr/bin/script", "-qec", cmd, "/dev/null"}, dir.path());
  ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);

  auto exec = log.wait_for([&](const json& e) {
    return e.contains("event") && e["event"].contains("exec") &&
           e["event"]["exec"]["args"] == json::array({"/bin/echo", "a b", "c"}) &&
           e["event"]["exec"]["cwd"]["path"] == dir.path();
  });
  ASSERT_TRUE(exec.has_value()) << "no exec of /bin/echo seen";
  const json& ev = (*exec)["event"]["exec"];
  const json& target = ev["target"];
  pid_t echo_pid = target["audit_token"]["pid"];

  EXPECT_EQ((*exec)["event_type"], 9);
  EXPECT_EQ((*exec)["action_type"], 1);
  EXPECT_EQ(target["executable"]["path"], "/usr/bin/echo");
  EXPECT_EQ(target["audit_token"]["ruid"], getuid());
  EXPECT_EQ(target["audit_token"]["euid"], geteuid());
  std::string tty;
  std::ifstream(tty_file) >> tty;
  ASSERT_FALSE(tty.empty());
  EXPECT_EQ(target["tty"], tty);
  EXPECT_EQ(target["sha256"], sha256_of("/usr/bin/echo"));
  EXPECT_EQ(target["package"], "coreutils");
  EXPECT_EQ(target["is_platform_binary"], true);

  // bash runs the last command of -c in place: the image that called execve
  // is bash, in the same pid, with an older pidversion.
  const json& instigator = (*exec)["process"];
  EXPECT_EQ(instigator["audit_token"]["pid"], echo_pid);
  EXPECT_EQ(instigator["executable"]["path"], "/usr/bin/bash");
  EXPECT_LT(instigator["audit_token"]["pidversion"], target["audit_token"]["pidversion"]);

  // Ancestry: nearest parent first, up to pid 1.
  const json& ancestors = target["ancestors"];
  ASSERT_GE(ancestors.size(), 2u);
  EXPECT_EQ(ancestors[0]["audit_token"]["pid"], target["ppid"]);
  EXPECT_EQ(ancestors.back()["audit_token"]["pid"], 1);
  bool bash_above = false;
  for (const auto& a : ancestors) bash_above = bash_above || a["path"] == "/usr/bin/bash";
  EXPECT_TRUE(bash_above) << "script's shell (bash) should be an ancestor: " << ancestors.dump();

  // The fork that made the process, and its exit with status 0.
  auto fork = log.wait_for([&](const json& e) {
    return e.contains("event") && e["event"].contains("fork") &&
           e["event"]["fork"]["child"]["audit_token"]["pid"] == echo_pid;
  });
  ASSERT_TRUE(fork.has_value());
  EXPECT_EQ((*fork)["event"]["fork"]["child"]["original_ppid"], target["ppid"]);
  auto exit = log.wait_for([&](const json& e) { return is_exit_of(e, echo_pid); });
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ((*exit)["event"]["exit"]["stat"], 0);
  EXPECT_EQ((*exit)["process"]["executable"]["path"], "/usr/bin/echo");

  // bash forked sleep: a fork whose parent is bash in our cwd.
  auto sleep_exec = log.wait_for([&](const json& e) {
    return e.contains("event") && e["event"].contains("exec") &&
           e["event"]["exec"]["target"]["executable"]["path"] == "/usr/bin/sleep" &&
           e["event"]["exec"]["target"]["ppid"] == echo_pid;
  });
  EXPECT_TRUE(sleep_exec.has_value()) << "sleep's parent should be the bash that became echo";
  EXPECT_TRUE(log.unparsable().empty());
}

TEST_F(LogProcessTest, CopyOfPlatformBinaryHasNoPackage) {
  TempDir dir;
  std::string copy = dir.path() + "/echo";
  std::filesystem::copy_file("/usr/bin/echo", copy);
  std::filesystem::permissions(copy, std::filesystem::perms::owner_all);
  WardLog log({"exec"});
  ASSERT_TRUE(log.wait_ready()) << log.stderr_text();
  RunResult r = run({copy, "copied"});
  auto exec = log.wait_for([&](const json& e) { return is_exec_of(e, r.pid); });
  ASSERT_TRUE(exec.has_value());
  const json& target = (*exec)["event"]["exec"]["target"];
  EXPECT_EQ(target["executable"]["path"], copy);
  EXPECT_TRUE(target["package"].is_null());
  EXPECT_EQ(target["is_platform_binary"], false);
  EXPECT_EQ(target["sha256"], sha256_of("/usr/bin/echo")) << "same bytes, same hash";
}

TEST_F(LogProcessTest, ExitStatusIsWaitStyle) {
  WardLog log({"exit"});
  ASSERT_TRUE(log.wait_ready()) << log.stderr_text();
  RunResult three = run({"/bin/bash", "-c", "exit 3"});
  pid_t sleeper = fork();
  if (sleeper == 0) {
    execl("/bin/sleep", "sleep", "30", nullptr);
    _exit(127);
  }
  usleep(200'000);
  kill(sleeper, SIGKILL);
  int st = 0;
  waitpid(sleeper, &st, 0);

  auto e3 = log.wait_for([&](const json& e) { return is_exit_of(e, three.pid); });
  ASSERT_TRUE(e3.has_value());
  EXPECT_EQ((*e3)["event"]["exit"]["stat"], three.status);
  EXPECT_EQ((*e3)["event"]["exit"]["stat"], 3 << 8);
  auto ek = log.wait_for([&](const json& e) { return is_exit_of(e, sleeper); });
  ASSERT_TRUE(ek.has_value());
  EXPECT_EQ((*ek)["event"]["exit"]["stat"], SIGKILL);
}

TEST_F(LogProcessTest, HostileArgumentsStayValidJson) {
  WardLog log({"exec"});
  ASSERT_TRUE(log.wait_ready()) << log.stderr_text();

  RunResult odd = run({"/bin/true", "line1\nline2", "quote\"s'", "tab\there", "bad\xff\xfeutf8", "\\"});
  std::vector<std::string> many = {"/bin/true"};
  for (int i = 0; i < 1000; ++i) many.push_back("arg" + std::to_string(i));
  RunResult thousand = run(many);
  RunResult huge = run({"/bin/true", std::string(100 * 1024, 'x'), "after"});

  auto e_odd = log.wait_for([&](const json& e) { return is_exec_of(e, odd.pid); });
  auto e_many = log.wait_for([&](const json& e) { return is_exec_of(e, thousand.pid); });
  auto e_huge = log.wait_for([&](const json& e) { return is_exec_of(e, huge.pid); });
  ASSERT_TRUE(e_odd && e_many && e_huge);

  const json& a = (*e_odd)["event"]["exec"]["args"];
  ASSERT_EQ(a.size(), 6u);
  EXPECT_EQ(a[1], "line1\nline2");
  EXPECT_EQ(a[2], "quote\"s'");
  EXPECT_EQ(a[3], "tab\there");
  EXPECT_EQ(a[4], "bad\xEF\xBF\xBD\xEF\xBF\xBDutf8") << "invalid bytes become U+FFFD";
  EXPECT_EQ(a[5], "\\");
  EXPECT_EQ((*e_odd)["event"]["exec"]["args_truncated"], false);

  EXPECT_EQ((*e_many)["event"]["exec"]["args"].size(), 1001u);
  EXPECT_EQ((*e_many)["event"]["exec"]["args"][1000], "arg999");
  EXPECT_EQ((*e_many)["event"]["exec"]["args_truncated"], false);

  const json& h = (*e_huge)["event"]["exec"];
  EXPECT_EQ(h["args_truncated"], true);
  ASSERT_GE(h["args"].size(), 2u);
  std::string big = h["args"][1];
  EXPECT_GT(big.size(), 1000u);
  EXPECT_EQ(big, std::string(big.size(), 'x'));

  log.stop();
  EXPECT_TRUE(log.unparsable().empty()) << log.unparsable().size() << " lines did not parse";
}

// Exec accounting over a log: every exec of /usr/bin/true under `ancestor`
// counted once, and what the drop records and seq_num gaps say.
struct ExecAccounting {
  std::set<std::pair<int64_t, int64_t>> execs;  // unique (pid, pidversion)
  int exec_events = 0;
  uint64_t exec_drops = 0;  // from drop records
  uint64_t seq_gaps = 0;    // from seq_num
};

ExecAccounting account_execs(const std::vector<json>& events, pid_t ancestor) {
  ExecAccounting acc;
  std::optional<uint64_t> last_seq;
  for (const auto& e : events) {
    if (e.contains("drop")) {
      if (e["drop"]["event_type"].is_null() || e["drop"]["event_type"] == 9)
        acc.exec_drops += e["drop"]["count"].get<uint64_t>();
      continue;
    }
    if (!e["event"].contains("exec")) continue;
    uint64_t seq = e["seq_num"];
    if (last_seq) {
      EXPECT_GT(seq, *last_seq) << "exec seq_num must increase";
      if (seq > *last_seq) acc.seq_gaps += seq - *last_seq - 1;
    }
    last_seq = seq;
    const json& t = e["event"]["exec"]["target"];
    if (t["executable"]["path"] != "/usr/bin/true") continue;
    bool below = false;
    for (const auto& a : t["ancestors"]) below = below || a["audit_token"]["pid"] == ancestor;
    if (!below) continue;
    ++acc.exec_events;
    acc.execs.insert({t["audit_token"]["pid"].get<int64_t>(), t["audit_token"]["pidversion"].get<int64_t>()});
  }
  return acc;
}

TEST_F(LogProcessTest, SlowConsumerDropsAreReportedAndShowAsGaps) {
  constexpr int kSpawns = 3000;
  WardLog log({"--queue-size", "64", "exec"});
  ASSERT_TRUE(log.wait_ready()) << log.stderr_text();
  log.pause_reading(true);  // ward log's stdout fills; its queue overflows
  RunResult storm = run({bin_path("spawn_storm"), "--count", std::to_string(kSpawns)});
  ASSERT_TRUE(WIFEXITED(storm.status) && WEXITSTATUS(storm.status) == 0);
  log.pause_reading(false);
  sleep(2);  // let the backlog drain, so the marker itself finds room
  RunResult marker = run({"/bin/true", "marker"});
  ASSERT_TRUE(
      log.wait_for([&](const json& e) { return is_exec_of(e, marker.pid); }, seconds(60)).has_value());
  log.stop();
  ExecAccounting acc = account_execs(log.events(), storm.pid);
  EXPECT_GT(acc.exec_drops, 0u) << "the test should have forced drops";
  EXPECT_EQ(acc.seq_gaps, acc.exec_drops) << "every gap reported, nothing reported that was not a gap";
  EXPECT_EQ(static_cast<size_t>(acc.exec_events), acc.execs.size());
  EXPECT_GE(acc.execs.size() + acc.exec_drops, static_cast<size_t>(kSpawns));
}

TEST_F(LogProcessTest, SpawnStormLosesNothingSilently) {
  constexpr int kSpawns = 20000;
  WardLog log({"exec", "fork", "exit"});
  ASSERT_TRUE(log.wait_ready()) << log.stderr_text();
  RunResult storm = run({bin_path("spawn_storm"), "--count", std::to_string(kSpawns), "--parallel", "2"});
  ASSERT_TRUE(WIFEXITED(storm.status) && WEXITSTATUS(storm.status) == 0);
  // The storm's own exit comes after its children's events.
  ASSERT_TRUE(
      log.wait_for([&](const json& e) { return is_exit_of(e, storm.pid); }, seconds(120)).has_value());
  sleep(1);
  log.stop();
  ASSERT_TRUE(log.unparsable().empty());

  ExecAccounting acc = account_execs(log.events(), storm.pid);
  EXPECT_EQ(static_cast<size_t>(acc.exec_events), acc.execs.size()) << "an exec appeared twice";
  EXPECT_EQ(acc.seq_gaps, acc.exec_drops) << "seq_num gaps must be exactly the reported drops";
  EXPECT_GE(acc.execs.size() + acc.exec_drops, static_cast<size_t>(kSpawns)) << "lost without a drop record";
  EXPECT_LE(acc.execs.size(), static_cast<size_t>(kSpawns));
  std::printf("storm: %zu of %d execs seen, %llu reported dropped\n", acc.execs.size(), kSpawns,
              static_cast<unsigned long long>(acc.exec_drops));
}

TEST_F(LogProcessTest, ProcConnectorFallbackSeesExecAndExit) {
  auto before = loaded_bpf_programs("ward_");
  WardLog log({"--sensor", "proc-connector", "exec", "fork", "exit"});
  ASSERT_TRUE(log.wait_ready()) << log.stderr_text();
  EXPECT_NE(log.stderr_text().find("proc_connector"), std::string::npos) << log.stderr_text();
  EXPECT_TRUE(added_since(before, loaded_bpf_programs("ward_")).empty()) << "the fallback must not load BPF";
  RunResult r = run({"/bin/sleep", "0.3"});
  auto exec = log.wait_for([&](const json& e) { return is_exec_of(e, r.pid); });
  ASSERT_TRUE(exec.has_value());
  EXPECT_EQ((*exec)["event"]["exec"]["target"]["executable"]["path"], "/usr/bin/sleep");
  EXPECT_EQ((*exec)["event"]["exec"]["args"], json::array({"/bin/sleep", "0.3"}));
  auto exit = log.wait_for([&](const json& e) { return is_exit_of(e, r.pid); });
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ((*exit)["event"]["exit"]["stat"], 0);
  auto fork = log.wait_for([&](const json& e) {
    return e.contains("event") && e["event"].contains("fork") &&
           e["event"]["fork"]["child"]["audit_token"]["pid"] == r.pid;
  });
  EXPECT_TRUE(fork.has_value());
}

TEST_F(LogProcessTest, StopsCleanlyAndLeavesNoBpfBehind) {
  auto before = loaded_bpf_programs("ward_");
  {
    WardLog log({"exec"});
    ASSERT_TRUE(log.wait_ready()) << log.stderr_text();
    EXPECT_EQ(added_since(before, loaded_bpf_programs("ward_")).size(), 3u)
        << "ward log should have loaded its exec, fork and exit programs";
    RunResult r = run({"/bin/true"});
    ASSERT_TRUE(log.wait_for([&](const json& e) { return is_exec_of(e, r.pid); }).has_value());
    for (const auto& e : log.events())
      EXPECT_NE(e["process"]["audit_token"]["pid"], log.pid()) << "ward log must mute itself";
    int status = log.stop(SIGINT);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  EXPECT_TRUE(programs_left_after(before, "ward_").empty());
  WardLog term({"exit"});
  ASSERT_TRUE(term.wait_ready());
  int status = term.stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(programs_left_after(before, "ward_").empty());
}

TEST_F(LogProcessTest, RejectsUnknownEventNames) {
  RunResult r = run({bin_path("ward"), "log", "exec", "nonsense"});
  EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 2);
}

}  // namespace
}  // namespace ward::e2e

// The agent end to end: wardd from a config file, with a test-owned control
// socket, store and metrics port, driven by the real `ward` CLI. Every wardd
// runs under `timeout` in its own process group and is stopped in TearDown,
// whatever the test did; AUTH only ever marks a tmpfs the test mounted.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "e2e_util.h"
#include "store/event_store.h"

namespace ward::e2e {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

struct Captured {
  int status = -1;
  std::string out, err;
  int exit_code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs argv to completion (killed after `limit`), stdout and stderr captured.
Captured capture(const std::vector<std::string>& argv, seconds limit = seconds(30)) {
  TempDir dir;
  const std::string out = dir.path() + "/out", err = dir.path() + "/err";
  Captured c;
  const pid_t pid = fork();
  if (pid == 0) {
    const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(o, 1);
    dup2(e, 2);
    alarm(static_cast<unsigned>(limit.count()));  // survives exec: a hang dies
    std::vector<char*> cargv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  waitpid(pid, &c.status, 0);
  c.out = read_file(out);
  c.err = read_file(err);
  return c;
}

// One HTTP/1.0 GET on loopback: the Prometheus scrape.
std::string http_get(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    (void)!write(fd, request.data(), request.size());
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) response.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return response;
}

// The value of one sample line `name{labels} value` (labels as written).
std::optional<double> metric(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return std::nullopt;
}

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

// errno of open(path, O_RDONLY), 0 when it opened.
int open_errno(const std::string& path) {
  pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(path.c_str(), O_RDONLY);
    _exit(fd < 0 ? errno : 0);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// Polls `pred` until it holds or `limit` passes.
bool eventually(const std::function<bool()>& pred, milliseconds limit = seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return pred();
}

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "end-to-end tests need root";
    socket_ = dir_.path() + "/control.sock";
    store_ = dir_.path() + "/events.db";
    config_ = dir_.path() + "/wardd.yaml";
  }
  void TearDown() override { stop_wardd(); }

  // A config with this test's socket, store and a free metrics port.
  std::string base_config(const std::string& extra = "") const {
    return "events: [process, auth_result]\n"
           "outputs:\n"
           "  - {type: stdout, format: eslogger}\n"
           "  - {type: store, path: " +
           store_ +
           "}\n"
           "metrics: {listen: \"127.0.0.1:0\"}\n"
           "control: {socket: " +
           socket_ + "}\n" + extra;
  }
  void write_config(const std::string& yaml) { std::ofstream(config_) << yaml; }

  void start_wardd() {
    // timeout: even if this test process dies, wardd does not outlive it long.
    wardd_ = std::make_unique<Background>(std::vector<std::string>{"/usr/bin/timeout", "-s", "KILL", "300",
                                                                   bin_path("wardd"), "--config", config_});
    ASSERT_TRUE(wardd_->wait_stderr("wardd: running", seconds(60))) << wardd_->stderr_text();
    ASSERT_TRUE(wardd_->wait_stderr("wardd: metrics on", seconds(5))) << wardd_->stderr_text();
    std::smatch m;
    const std::string err = wardd_->stderr_text();
    ASSERT_TRUE(std::regex_search(err, m, std::regex("metrics on http://127\\.0\\.0\\.1:([0-9]+)/metrics")));
    metrics_port_ = std::stoi(m[1]);
  }

  // SIGTERM to wardd's process group (timeout and wardd), SIGKILL if it has
  // not stopped within 15 s.
  void stop_wardd() {
    if (!wardd_) return;
    const pid_t pgid = wardd_->pid();
    kill(-pgid, SIGTERM);
    siginfo_t info{};
    bool exited = false;
    for (int i = 0; i < 300 && !exited; ++i) {
      info.si_pid = 0;
      exited =
          waitid(P_PID, static_cast<id_t>(pgid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0;
      if (!exited) std::this_thread::sleep_for(milliseconds(50));
    }
    kill(-pgid, SIGKILL);
    wardd_.reset();
  }

  Captured ward(std::vector<std::string> args) {
    std::vector<std::string> argv = {bin_path("ward"), "--socket", socket_};
    argv.insert(argv.end(), args.begin(), args.end());
    return capture(argv);
  }

  std::string scrape() { return http_get(metrics_port_, "/metrics"); }

  std::string copy_to(const std::string& dir, const std::string& src, const std::string& name) {
    const std::string dst = dir + "/" + name;
    std::filesystem::copy_file(src, dst, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::permissions(dst, std::filesystem::perms::owner_all);
    return dst;
  }

  TempDir dir_;
  std::string socket_, store_, config_;
  std::unique_ptr<TmpfsMount> mnt_;
  std::unique_ptr<Background> wardd_;
  int metrics_port_ = 0;
};

TEST_F(AgentTest, ABadConfigNamesTheKeyAndTheLineAndStartsNothing) {
  write_config("outputs:\n  - {type: stdout}\n  - {type: file, path: /tmp/x.json, format: xml}\n");
  Captured c = capture({bin_path("wardd"), "--config", config_});
  EXPECT_EQ(c.exit_code(), 2);
  EXPECT_NE(
      c.err.find(config_ + ":3: outputs[1].format: bad value 'xml' (expected one of: eslogger, ecs, ocsf)"),
      std::string::npos)
      << c.err;

  write_config(base_config("auth:\n  exec_deadline_ms: 1\n"));
  c = capture({bin_path("wardd"), "--config", config_, "--check-config"});
  EXPECT_EQ(c.exit_code(), 2);
  EXPECT_NE(c.err.find(":8: auth.exec_deadline_ms: bad value '1'"), std::string::npos) << c.err;

  // A config that parses but cannot start (an output that cannot be
  // opened): an error, and no control socket or BPF program left behind.
  const auto before = loaded_bpf_programs("");
  write_config(
      "events: [process]\noutputs:\n  - {type: file, path: /proc/ward-cannot/x.json}\n"
      "metrics: {listen: \"127.0.0.1:0\"}\ncontrol: {socket: " +
      socket_ + "}\n");
  c = capture({bin_path("wardd"), "--config", config_});
  EXPECT_EQ(c.exit_code(), 1);
  EXPECT_NE(c.err.find("outputs: file: /proc/ward-cannot"), std::string::npos) << c.err;
  EXPECT_FALSE(std::filesystem::exists(socket_)) << "the control socket outlived a failed start";
  EXPECT_TRUE(programs_left_after(before, "").empty()) << "a failed start left BPF programs";

  // A bad policy file: exit 2 with the policy's FILE:LINE.
  const std::string policy = dir_.path() + "/policy.yaml";
  std::ofstream(policy) << "mode: lockdown\nbinary_rules:\n  - {id: x, sha256: nothex, policy: block}\n";
  write_config(base_config("policy_file: " + policy + "\n"));
  c = capture({bin_path("wardd"), "--config", config_});
  EXPECT_EQ(c.exit_code(), 2);
  EXPECT_NE(c.err.find(policy + ":3: bad sha256 'nothex'"), std::string::npos) << c.err;
  EXPECT_FALSE(std::filesystem::exists(socket_));
}

TEST_F(AgentTest, BadCliArgumentsGiveSpecificErrors) {
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"status"}, "wardd is not running (no socket at " + socket_ + ")"},
      {{"rules", "add", "binary", "--id", "x", "--sha256", "zz", "--policy", "block"}, "bad sha256 'zz'"},
      {{"rules", "add", "binary", "--id", "x", "--path", "rel/x", "--policy", "block"},
       "'rel/x' is not an absolute path"},
      {{"rules", "add", "binary", "--id", "a b", "--path", "/x", "--policy", "block"}, "bad rule id 'a b'"},
      {{"rules", "add", "binary", "--id", "x", "--path", "/x", "--policy", "deny"},
       "--policy: deny not in {allow,block,silent_block}"},
      {{"rules", "add", "binary", "--id", "x", "--path", "/x", "--package", "vim", "--policy", "block"},
       "excludes"},
      {{"rules", "add", "binary", "--id", "x", "--policy", "block"}, "say what the rule matches"},
      {{"rules", "add", "file", "--id", "x", "--shape", "paths_with_denied_processes", "--path", "/s/*",
        "--process", "user=root", "--access", "read"},
       "bad process 'user=root'"},
      {{"rules", "add", "file", "--id", "x", "--shape", "sideways", "--path", "/s", "--process", "uid=0",
        "--access", "read"},
       "--shape: sideways not in"},
      {{"mute", "--pid", "0"}, "--pid"},
      {{"mute", "--pid", "12", "--path", "/usr"}, "excludes"},
      {{"mute", "--literal"}, "--literal requires --path"},
      {{"tail", "exce"}, "unknown event 'exce'"},
      {{"tail", "auth_exec"}, "'auth_exec' is an AUTH event"},
      {{"tail", "--format", "xml"}, "--format: xml not in"},
      {{"query", "--db", dir_.path() + "/none.db", "SELECT 1"}, "File does not exist"},
      {{"frobnicate"}, "frobnicate"},
  };
  for (const auto& c : cases) {
    const Captured r = ward(c.args);
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    EXPECT_NE(r.exit_code(), 0) << joined;
    EXPECT_NE((r.err + r.out).find(c.expected), std::string::npos)
        << joined << "\n  stderr: " << r.err << "\n  expected: " << c.expected;
  }
}

TEST_F(AgentTest, MetricsAreScrapedAndCountersMoveAsEventsFlow) {
  write_config(base_config());
  start_wardd();
  std::string text = scrape();
  ASSERT_NE(text.find("200 OK"), std::string::npos) << text;
  for (const char* name :
       {"ward_events_total", "ward_drops_total", "ward_auth_latency_seconds",
        "ward_auth_watchdog_answers_total", "ward_auth_cache_hits_total", "ward_sink_errors_total",
        "ward_sink_written_total", "ward_store_bytes", "ward_start_time_seconds"})
    EXPECT_NE(text.find(std::string("# TYPE ") + name), std::string::npos) << name << " missing:\n" << text;
  const double exec_before = metric(text, "ward_events_total{event=\"exec\"}").value_or(-1);
  ASSERT_GE(exec_before, 0) << text;
  for (int i = 0; i < 5; ++i) ASSERT_EQ(exec_errno({"/usr/bin/true"}), 0);
  double exec_after = 0, written = 0;
  EXPECT_TRUE(eventually([&] {
    text = scrape();
    exec_after = metric(text, "ward_events_total{event=\"exec\"}").value_or(0);
    written = metric(text, "ward_sink_written_total{sink=\"store\",target=\"" + store_ + "\"}").value_or(0);
    return exec_after >= exec_before + 5 && written > 0;
  })) << "exec "
      << exec_before << " -> " << exec_after << ", store written " << written << "\n"
      << text;
  EXPECT_EQ(metric(text, "ward_sink_errors_total{sink=\"store\",target=\"" + store_ + "\"}"), 0.0);
}

// kill -9 of wardd while processes and files churn: the store opens
// cleanly afterwards and holds at least every event wardd had committed
// (its store sink's written counter, scraped just before the kill).
TEST_F(AgentTest, KillNineDuringHeavyWritesKeepsEveryCommittedEvent) {
  write_config("events: [process, file]\noutputs:\n  - {type: store, path: " + store_ +
               "}\nmetrics: {listen: \"127.0.0.1:0\"}\ncontrol: {socket: " + socket_ + "}\n");
  start_wardd();
  const std::string series = "ward_sink_written_total{sink=\"store\",target=\"" + store_ + "\"}";
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    const std::string f = dir_.path() + "/churn";
    for (int i = 0; !stop; ++i) {
      exec_errno({"/usr/bin/true"});
      std::ofstream(f + std::to_string(i % 50)) << i;
    }
  });
  struct Join {
    std::atomic<bool>& stop;
    std::thread& t;
    ~Join() {
      stop = true;
      if (t.joinable()) t.join();
    }
  } join{stop, churn};
  double committed = 0;
  EXPECT_TRUE(eventually([&] {
    committed = metric(scrape(), series).value_or(0);
    return committed >= 5000;
  }, seconds(60))) << "the store committed only " << committed;
  committed = metric(scrape(), series).value_or(0);
  const std::string pid = shell_output("pgrep -P " + std::to_string(wardd_->pid()) + " -x wardd");
  ASSERT_FALSE(pid.empty());
  ASSERT_EQ(kill(std::stoi(pid), SIGKILL), 0);
  stop = true;
  churn.join();
  wardd_->wait_exit();
  wardd_.reset();

  store::StoreOptions o;
  o.path = store_;
  auto reopened = store::EventStore::open(o);
  ASSERT_TRUE(reopened.is_ok()) << reopened.status().message();
  EXPECT_TRUE(reopened.value()->check_integrity()) << reopened.value()->check_integrity().message();
  auto rows = reopened.value()->count({});
  ASSERT_TRUE(rows.is_ok()) << rows.status().message();
  EXPECT_GE(static_cast<double>(rows.value()), committed) << "events committed before the kill are missing";
}

TEST_F(AgentTest, StatusShowsTheSensorsAndWhatTheKernelDidNotAllow) {
  write_config(base_config());
  start_wardd();
  const Captured text = ward({"status"});
  ASSERT_EQ(text.exit_code(), 0) << text.err;
  EXPECT_NE(text.out.find("wardd is running"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("mode:     monitor"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("sensors:  bpf:process"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("not allowed by the kernel:"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("store   eslogger  " + store_), std::string::npos) << text.out;

  const Captured raw = ward({"status", "--json"});
  ASSERT_EQ(raw.exit_code(), 0) << raw.err;
  const json s = json::parse(raw.out);
  EXPECT_EQ(s["sensors"]["active"].get<std::string>().rfind("bpf:process", 0), 0u);
  ASSERT_TRUE(s["sensors"]["missing"].is_array());
  // What wardd logged as unavailable is what status reports.
  for (const auto& m : s["sensors"]["missing"]) {
    EXPECT_NE(wardd_->stderr_text().find("wardd: unavailable: " + m.get<std::string>()), std::string::npos)
        << m;
    EXPECT_NE(text.out.find("  - " + m.get<std::string>()), std::string::npos) << text.out;
  }
  if (s["sensors"]["missing"].empty()) {
    EXPECT_NE(text.out.find("not allowed by the kernel: nothing"), std::string::npos);
  }
  EXPECT_EQ(s["store"], store_);
  EXPECT_EQ(s["control_socket"], socket_);
  // Self-protection: what guards Ward here, and on a kernel without the BPF
  // LSM, that signals to wardd cannot be denied and why.
  ASSERT_TRUE(s["self_protection"].is_array());
  ASSERT_FALSE(s["self_protection"].empty());
  EXPECT_NE(text.out.find("self-protection:\n"), std::string::npos) << text.out;
  const bool lsm = wardd_->stderr_text().find("self-protection: files: bpf-lsm") != std::string::npos;
  if (!lsm) {
    EXPECT_NE(text.out.find("signals and ptrace aimed at the agent: NOT denied on this kernel (no BPF LSM"),
              std::string::npos)
        << text.out;
    EXPECT_NE(text.out.find("no BPF LSM (bpf:lsm: "), std::string::npos) << text.out;
  }
  EXPECT_EQ(s["pid"].get<pid_t>() > 0, true);
}

TEST_F(AgentTest, TailStreamsLiveEventsAndQueryReadsTheStore) {
  write_config(base_config());
  start_wardd();
  TempDir bin;
  const std::string marker = copy_to(bin.path(), "/usr/bin/true", "ward-tail-marker");
  Background tail({bin_path("ward"), "--socket", socket_, "tail", "exec", "exit"});
  ASSERT_TRUE(tail.wait_stderr("ward tail: streaming", seconds(10))) << tail.stderr_text();
  Background ocsf({bin_path("ward"), "--socket", socket_, "tail", "--format", "ocsf", "exec"});
  ASSERT_TRUE(ocsf.wait_stderr("ward tail: streaming", seconds(10))) << ocsf.stderr_text();

  std::optional<json> seen, seen_ocsf;
  EXPECT_TRUE(eventually([&] {
    exec_errno({marker});
    for (const auto& j : tail.json_lines())
      if (j.contains("event") && j["event"].contains("exec") &&
          j["event"]["exec"]["target"]["executable"]["path"] == marker)
        seen = j;
    for (const auto& j : ocsf.json_lines())
      if (j.dump().find(marker) != std::string::npos) seen_ocsf = j;
    return seen && seen_ocsf;
  })) << "tail: "
      << tail.stderr_text() << " ocsf: " << ocsf.stderr_text();
  if (seen) {
    EXPECT_EQ((*seen)["event_type"], 9);
  }
  if (seen_ocsf) {
    EXPECT_TRUE(seen_ocsf->contains("class_uid")) << seen_ocsf->dump();
  }

  const Captured status = ward({"status", "--json"});
  EXPECT_EQ(json::parse(status.out)["tail_sessions"], 2);

  // The same exec, committed to the store, through read-only SQL.
  const std::string sql =
      "SELECT event_name, pid, path FROM events WHERE event_name = 'exec' AND path = '" + marker + "'";
  Captured q;
  EXPECT_TRUE(eventually([&] {
    q = ward({"query", "--json", sql});
    return q.exit_code() == 0 && q.out.find(marker) != std::string::npos;
  })) << q.err
      << q.out;
  const json row = json::parse(q.out.substr(0, q.out.find('\n')));
  EXPECT_EQ(row["event_name"], "exec");
  EXPECT_GT(row["pid"].get<int>(), 0);
  const Captured table = ward({"query", "SELECT count(*) AS n FROM events WHERE path = '" + marker + "'"});
  EXPECT_EQ(table.exit_code(), 0) << table.err;
  EXPECT_NE(table.out.find("(1 row)"), std::string::npos) << table.out;
  const Captured write = ward({"query", "DELETE FROM events"});
  EXPECT_NE(write.exit_code(), 0) << "a write went through ward query";
}

TEST_F(AgentTest, RulesAddOfABlockingRuleTakesEffectAndRemoveUndoesIt) {
  mnt_ = std::make_unique<TmpfsMount>();  // a member: unmounted only after wardd stopped
  const TmpfsMount& mnt = *mnt_;
  const std::string runnable = copy_to(mnt.path(), "/usr/bin/true", "runnable");
  const std::string secret = mnt.path() + "/secret.txt";
  std::ofstream(secret) << "s3cret\n";
  const std::string policy = dir_.path() + "/policy.yaml";
  std::ofstream(policy)
      << "mode: lockdown\nbinary_rules:\n  - {id: allow-rest, path_prefix: /, policy: allow}\n";
  write_config(base_config("policy_file: " + policy + "\nauth:\n  scopes: [" + mnt.path() +
                           "]\n  exec_deadline_ms: 3000\n  open_deadline_ms: 3000\n"));
  start_wardd();
  EXPECT_EQ(exec_errno({runnable}), 0);

  const std::string hash = shell_output("sha256sum '" + runnable + "'").substr(0, 64);
  Captured add =
      ward({"rules", "add", "binary", "--id", "block-runnable", "--sha256", hash, "--policy", "block"});
  ASSERT_EQ(add.exit_code(), 0) << add.err;
  EXPECT_EQ(exec_errno({runnable}), EPERM) << "the new rule does not block (a stale cache?)";
  const Captured list = ward({"rules", "list", "--json"});
  ASSERT_EQ(list.exit_code(), 0) << list.err;
  const json rules = json::parse(list.out);
  ASSERT_EQ(rules["binary_rules"].size(), 2u) << list.out;
  EXPECT_EQ(rules["binary_rules"][1]["id"], "block-runnable");
  EXPECT_EQ(rules["binary_rules"][1]["sha256"], hash);

  // A bad rule: a clear error, and the file and the policy stay as they are.
  const std::string file_before = read_file(policy);
  Captured dup = ward({"rules", "add", "binary", "--id", "allow-rest", "--path", "/x", "--policy", "allow"});
  EXPECT_NE(dup.exit_code(), 0);
  EXPECT_NE(dup.err.find("a rule with id 'allow-rest' already exists"), std::string::npos) << dup.err;
  Captured glob =
      ward({"rules", "add", "binary", "--id", "g", "--path-glob", "/srv/[z-a]", "--policy", "allow"});
  EXPECT_NE(glob.exit_code(), 0);
  EXPECT_NE(glob.err.find("new rule:"), std::string::npos) << glob.err;
  EXPECT_EQ(read_file(policy), file_before);
  EXPECT_EQ(exec_errno({runnable}), EPERM);

  // A file access rule: reads of the secret denied to root, then allowed again.
  EXPECT_EQ(open_errno(secret), 0);
  Captured deny_read =
      ward({"rules", "add", "file", "--id", "no-secret", "--shape", "paths_with_denied_processes", "--path",
            "literal:" + secret, "--process", "uid=0", "--access", "read"});
  ASSERT_EQ(deny_read.exit_code(), 0) << deny_read.err;
  EXPECT_EQ(open_errno(secret), EPERM) << "the file access rule does not deny";
  Captured remove_file = ward({"rules", "remove", "no-secret"});
  ASSERT_EQ(remove_file.exit_code(), 0) << remove_file.err;
  EXPECT_EQ(open_errno(secret), 0);

  Captured remove = ward({"rules", "remove", "block-runnable"});
  ASSERT_EQ(remove.exit_code(), 0) << remove.err;
  EXPECT_EQ(exec_errno({runnable}), 0) << "remove did not undo the block";
  Captured again = ward({"rules", "remove", "block-runnable"});
  EXPECT_NE(again.exit_code(), 0);
  EXPECT_NE(again.err.find("no rule with id 'block-runnable'"), std::string::npos) << again.err;
  EXPECT_TRUE(std::filesystem::exists(policy + ".bak"));

  // The deny was an event, and an AUTH metric.
  const std::string text = scrape();
  EXPECT_GT(metric(text, "ward_auth_denied_total").value_or(0), 0) << text;
  EXPECT_NE(text.find("ward_auth_latency_seconds_count{event=\"exec\"}"), std::string::npos);
}

TEST_F(AgentTest, MuteSilencesATargetPath) {
  write_config(base_config());
  start_wardd();
  TempDir bin;
  const std::string quiet = copy_to(bin.path(), "/usr/bin/true", "quiet");
  const std::string loud = copy_to(bin.path(), "/usr/bin/true", "loud");
  Captured mute = ward({"mute", "--path", quiet, "--literal", "--target"});
  ASSERT_EQ(mute.exit_code(), 0) << mute.err;
  Background tail({bin_path("ward"), "--socket", socket_, "tail", "exec"});
  ASSERT_TRUE(tail.wait_stderr("ward tail: streaming", seconds(10)));
  auto seen = [&](const std::string& path) {
    for (const auto& j : tail.json_lines())
      if (j.contains("event") && j["event"].contains("exec") &&
          j["event"]["exec"]["target"]["executable"]["path"] == path)
        return true;
    return false;
  };
  EXPECT_TRUE(eventually([&] {
    exec_errno({quiet});
    exec_errno({loud});
    return seen(loud);
  }));
  // An exec's target is the new image: muted by its path.
  EXPECT_FALSE(seen(quiet));
  const json s = json::parse(ward({"status", "--json"}).out);
  ASSERT_EQ(s["mutes"].size(), 1u);
  EXPECT_EQ(s["mutes"][0]["path"], quiet);
  EXPECT_EQ(ward({"unmute", "--path", quiet, "--literal", "--target"}).exit_code(), 0);
  EXPECT_NE(ward({"unmute", "--path", quiet, "--literal", "--target"}).exit_code(), 0);
}

}  // namespace
}  // namespace ward::e2e

#include "tamper/self_protection.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "client/hub.h"
#include "policy/policy_client.h"
#include "sensors/bpf/lsm_policy.h"
#include "sensors/bpf/lsm_records.h"
#include "sensors/bpf/lsm_sensor.h"
#include "tamper/file_guard.h"
#include "tamper/guard_feed.h"
#include "tamper/signal_recorder.h"
#include "tamper/unlock.h"
#include "ward_guard_wire.h"

namespace ward::tamper {
namespace {

namespace fs = std::filesystem;
using sensors::bpf::DecodedGuard;
using sensors::bpf::GuardNames;
using sensors::bpf::LsmSensor;

// The hub owns its sensors; the guards keep using theirs after handing them
// over, so the hub gets this forwarding handle.
class SharedSensor final : public sensors::Sensor {
 public:
  explicit SharedSensor(std::shared_ptr<sensors::Sensor> s) : s_(std::move(s)) {}
  std::string_view name() const override { return s_->name(); }
  Status start(const sensors::SensorConfig& c, sensors::RawSink sink) override {
    return s_->start(c, std::move(sink));
  }
  void stop() override { s_->stop(); }
  int poll(int timeout_ms) override { return s_->poll(timeout_ms); }
  sensors::SensorCounters counters() const override { return s_->counters(); }
  int poll_fd() const override { return s_->poll_fd(); }
  Status mute_pgid(pid_t pgid) override { return s_->mute_pgid(pgid); }
  Status mute_tgid(pid_t tgid) override { return s_->mute_tgid(tgid); }

 private:
  std::shared_ptr<sensors::Sensor> s_;
};

std::string self_exe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

std::string absolute(const std::string& path) {
  std::error_code ec;
  auto p = fs::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

void log_line(const std::string& line) { std::fprintf(stderr, "wardd: %s\n", line.c_str()); }

}  // namespace

// One protected path, resolved.
struct Protected {
  std::string path;
  bool is_dir = false;
  bool immutable_ok = false;  // the agent never writes it
};

struct SelfProtection::State {
  SelfProtectionOptions options;
  pid_t agent = 0;
  std::shared_ptr<detail::Hub> hub;
  std::shared_ptr<GuardNames> names = std::make_shared<GuardNames>();
  std::shared_ptr<LsmSensor> lsm;
  std::string lsm_error;
  std::shared_ptr<SignalRecorder> recorder;
  std::string recorder_error;
  std::shared_ptr<GuardFeed> feed;
  std::unique_ptr<FileGuard> file_guard;
  std::string file_guard_error;
  std::unique_ptr<UnlockServer> unlock_server;
  std::string unlock_error;
  std::vector<Protected> paths;
  std::mutex mu;  // paths, exec note
  std::string exec_note;
};

SelfProtection::SelfProtection() : state_(std::make_unique<State>()) {}

Result<std::unique_ptr<SelfProtection>> SelfProtection::start(SelfProtectionOptions options,
                                                              const ClientOptions& hub_options) {
  std::unique_ptr<SelfProtection> self(new SelfProtection());
  State& st = *self->state_;
  st.options = std::move(options);
  st.agent = getpid();
  std::string exe = self_exe();
  st.names->set_agent(st.agent, exe);
  if (!st.options.enabled) return self;

  // What to protect: the agent's binaries (wardd and the ward CLI beside
  // it), then what the caller named.
  auto add = [&](const std::string& raw, bool agent_writes, bool edited) {
    if (raw.empty()) return;
    std::string p = absolute(raw);
    std::error_code ec;
    bool dir = fs::is_directory(p, ec);
    if (agent_writes && !dir) {
      p = fs::path(p).parent_path().string();  // a store file: its directory's entries
      dir = true;
    }
    for (const auto& have : st.paths)
      if (have.path == p) return;
    st.paths.push_back({p, dir, !agent_writes && !edited && !dir});
  };
  if (!exe.empty()) {
    add(exe, false, false);
    auto cli = fs::path(exe).parent_path() / "ward";
    if (fs::exists(cli)) add(cli.string(), false, false);
  }
  for (const auto& f : st.options.files) add(f, false, false);
  for (const auto& f : st.options.agent_edited) add(f, false, true);
  for (const auto& f : st.options.agent_written) add(f, true, false);

  auto hub = detail::Hub::acquire(hub_options);
  if (!hub) return hub.status();
  st.hub = hub.value();

  auto tap = [names = st.names](const DecodedGuard& d) {
    std::string line = d.description;
    if (d.target_tgid != 0 && static_cast<pid_t>(d.target_tgid) != names->agent_tgid())
      line += " [recorded while the previous agent, pid " + std::to_string(d.target_tgid) + ", ran]";
    log_line(line);
  };

  // The BPF LSM: where it loads, the kernel decides everything.
  if (st.options.use_lsm) {
    auto lsm = std::make_shared<LsmSensor>(st.names);
    lsm->set_tap(tap);
    if (Status s = st.hub->add_sensor(std::make_unique<SharedSensor>(lsm)); s) {
      st.lsm = lsm;
      st.lsm->set_agent(st.agent);
    } else {
      st.lsm_error = s.message();
    }
  } else {
    st.lsm_error = "bpf:lsm: not used (--no-lsm)";
  }

  // The recorder, on every kernel with tp_btf.
  auto recorder = std::make_shared<SignalRecorder>(st.names, st.options.bpf_pin_dir);
  recorder->set_tap(tap);
  if (Status s = st.hub->add_sensor(std::make_unique<SharedSensor>(recorder)); s) {
    st.recorder = recorder;
    st.recorder->set_agent(st.agent, true);
  } else {
    st.recorder_error = s.message();
  }

  // Events of the user-space guards.
  st.feed = std::make_shared<GuardFeed>();
  (void)st.hub->add_sensor(std::make_unique<SharedSensor>(st.feed));

  if (!st.lsm) {
    st.file_guard = std::make_unique<FileGuard>([names = st.names, feed = st.feed](FileGuardEvent&& ev) {
      auto decoded = sensors::bpf::decode_guard_record(
          std::span(reinterpret_cast<const uint8_t*>(&ev.rec), sizeof(ev.rec)), *names, "fanotify");
      if (!decoded) return;
      decoded->notify.proc.start_from_ticks = ev.start_from_ticks;
      log_line(ev.description.empty() ? decoded->description : ev.description);
      feed->push(std::move(decoded->notify));
    });
    std::vector<GuardTarget> targets;
    for (const auto& p : st.paths) targets.push_back({p.path, p.is_dir, st.options.immutable && p.immutable_ok});
    if (Status s = st.file_guard->start(targets); !s) {
      st.file_guard_error = s.message();
      st.file_guard.reset();
    }
  }
  self->protect_paths();
  if (st.lsm) {
    std::vector<uint32_t> maps, progs;
    if (st.recorder) {
      auto ids = st.recorder->object_ids();
      maps = ids.maps;
      progs = ids.progs;
    }
    st.lsm->protect_bpf_objects(maps, progs);
    st.lsm->set_guards(true, true);
  }

  if (!st.options.unlock_sha256.empty()) {
    if (st.options.unlock_sha256.size() != 64)
      return Status::error("self-protection: the unlock token's sha256 must be 64 hex digits");
    st.unlock_server = std::make_unique<UnlockServer>();
    SelfProtection* raw = self.get();
    Status s = st.unlock_server->start(st.options.unlock_socket, [raw](std::string_view token, const UnlockPeer& peer) {
      return static_cast<bool>(
          raw->unlock(token, "pid " + std::to_string(peer.pid) + " (uid " + std::to_string(peer.uid) + ")"));
    });
    if (!s) {
      st.unlock_error = s.message();
      st.unlock_server.reset();
    }
  }

  // The policy's sha256 rules follow the policy in force.
  SelfProtection* raw = self.get();
  policy::PolicyClient::observe_policies([raw](const policy::Policy& p) { raw->apply_policy(p); });
  return self;
}

SelfProtection::~SelfProtection() {
  State& st = *state_;
  policy::PolicyClient::observe_policies(nullptr);
  if (st.unlock_server) st.unlock_server->stop();
  if (st.file_guard) st.file_guard->stop();
  // The agent is stopping: nothing left to guard, nothing to hand over.
  if (st.lsm) st.lsm->set_guards(false, false);
  if (st.recorder) {
    st.recorder->set_agent(0, false);
    st.recorder->unpin();
  }
}

void SelfProtection::protect_paths() {
  State& st = *state_;
  std::lock_guard lock(st.mu);
  for (const auto& p : st.paths) {
    struct stat sb {};
    if (stat(p.path.c_str(), &sb) != 0) continue;
    uint64_t kdev = sensors::bpf::kernel_dev_of(sb.st_dev);
    st.names->add_inode(kdev, sb.st_ino, p.path);
    if (!st.lsm) continue;
    st.lsm->protect_inode(kdev, sb.st_ino,
                          p.is_dir ? WARD_PROTECT_NAME | WARD_PROTECT_CHILDREN : WARD_PROTECT_CONTENT | WARD_PROTECT_NAME);
    // Its directory may not be renamed away either (a new one with the same
    // name would take its place).
    auto parent = fs::path(p.path).parent_path();
    struct stat pb {};
    if (parent != "/" && stat(parent.c_str(), &pb) == 0) {
      uint64_t pdev = sensors::bpf::kernel_dev_of(pb.st_dev);
      bool listed = false;
      for (const auto& q : st.paths) listed = listed || (q.path == parent.string() && q.is_dir);
      if (!listed) st.lsm->protect_inode(pdev, pb.st_ino, WARD_PROTECT_NAME);
      st.names->add_inode(pdev, pb.st_ino, parent.string());
    }
  }
  if (st.file_guard) {
    std::vector<GuardTarget> targets;
    for (const auto& p : st.paths) targets.push_back({p.path, p.is_dir, false});
    st.file_guard->refresh(targets);
  }
}

void SelfProtection::refresh() { protect_paths(); }

void SelfProtection::apply_policy(const policy::Policy& policy) {
  State& st = *state_;
  protect_paths();  // the agent may have replaced the policy file
  if (!st.lsm) return;
  auto plan = sensors::bpf::lsm_exec_plan(policy);
  st.names->set_rules(plan.rule_ids);
  Status s = st.lsm->set_exec_rules(plan.rules, plan.mode);
  std::lock_guard lock(st.mu);
  st.exec_note = s ? std::to_string(plan.rules.size()) + " sha256 rule(s) in the kernel" : s.message();
}

bool SelfProtection::lsm_active() const { return state_->lsm != nullptr; }

void SelfProtection::release_history() {
  if (state_->recorder) state_->recorder->release_history();
}

Status SelfProtection::unlock(std::string_view token, std::string_view who) {
  State& st = *state_;
  if (st.options.unlock_sha256.empty()) return Status::error("no unlock token is configured");
  if (!unlock_token_matches(token, st.options.unlock_sha256)) {
    log_line("tamper: unlock with a wrong token by " + std::string(who) + ": refused");
    return Status::error("wrong token");
  }
  unlocked_ = true;
  if (st.lsm) st.lsm->set_unlocked(true);
  if (st.recorder) st.recorder->set_unlocked(true);
  if (st.file_guard) st.file_guard->set_unlocked(true);
  log_line("unlocked by " + std::string(who) + ": self-protection is lifted until the agent restarts");
  return Status::ok();
}

std::vector<std::string> SelfProtection::status_lines() const {
  const State& st = *state_;
  std::vector<std::string> out;
  auto line = [&](const std::string& s) { out.push_back("self-protection: " + s); };
  if (!st.options.enabled) {
    line("OFF (--no-self-protection): Ward's files, signals and ptrace are not guarded");
    return out;
  }
  if (st.lsm) {
    line("files: bpf-lsm (write, truncate, chmod/chown, unlink, rename, hard link denied) for " +
         std::to_string(st.paths.size()) + " path(s)");
    line("signals and ptrace aimed at the agent: denied (bpf-lsm); Ward's BPF maps/programs: no fd for others");
    std::string exec = st.lsm->exec_enforcement() ? "in the kernel (bpf-lsm, sha256 computed by the kernel)"
                                                  : "NOT in the kernel: " + st.lsm->exec_unavailable();
    line("exec sha256 rules: " + exec);
  } else {
    line("no BPF LSM (" + st.lsm_error + "): the fanotify path is active");
    if (st.file_guard) {
      for (const auto& d : st.file_guard->describe()) line("files: " + d);
    } else {
      line("files: NOT protected: " + st.file_guard_error);
    }
    line("signals and ptrace aimed at the agent: NOT denied on this kernel (no BPF LSM task_kill/ptrace hook); "
         "recorded" +
         std::string(st.recorder ? "" : " — NOT even recorded: " + st.recorder_error));
  }
  if (st.recorder) {
    line("tamper recorder: on (tp_btf/signal_generate)" +
         (st.recorder->pin_path().empty() ? std::string("; ") + st.recorder->pin_error()
                                          : "; history pinned at " + st.recorder->pin_path()));
  }
  if (st.unlock_server)
    line("unlock: `ward unlock <token>` via " + st.options.unlock_socket);
  else if (!st.unlock_error.empty())
    line("unlock: NOT available: " + st.unlock_error);
  else
    line("unlock: no token configured (--unlock-sha256): nothing can lift self-protection until a restart");
  return out;
}

}  // namespace ward::tamper

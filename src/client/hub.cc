#include "client/hub.h"

#include <time.h>
#include <unistd.h>

#include <cstdio>

#include "process/exe_identifier.h"
#include "process/package_db.h"
#include "sensors/bpf/bpf_process_sensor.h"
#include "sensors/proc_connector/proc_connector_sensor.h"

namespace ward::detail {
namespace {

std::mutex g_hub_mu;
std::weak_ptr<Hub> g_hub;

int64_t boot_to_realtime_offset() {
  timespec rt{}, bt{};
  clock_gettime(CLOCK_REALTIME, &rt);
  clock_gettime(CLOCK_BOOTTIME, &bt);
  auto ns = [](const timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; };
  return ns(rt) - ns(bt);
}

std::optional<EventType> event_type_of(sensors::RawKind kind) {
  switch (kind) {
    case sensors::RawKind::Exec:
      return EventType::NotifyExec;
    case sensors::RawKind::Fork:
      return EventType::NotifyFork;
    case sensors::RawKind::Exit:
      return EventType::NotifyExit;
    case sensors::RawKind::Unknown:
      return std::nullopt;
  }
  return std::nullopt;
}

// "/a/b/../c" relative to cwd, without touching the file system (the file
// may be gone, and the kernel already resolved the executable itself).
std::string absolute_of(const std::string& path, const std::string& cwd) {
  if (path.empty()) return path;
  std::string joined = path[0] == '/' ? path : (cwd == "/" ? "" : cwd) + "/" + path;
  std::vector<std::string_view> parts;
  std::string_view rest(joined);
  while (!rest.empty()) {
    auto slash = rest.find('/');
    auto part = rest.substr(0, slash);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  std::string out;
  for (auto p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? "/" : out;
}

}  // namespace

Result<std::shared_ptr<Hub>> Hub::acquire(const ClientOptions& options) {
  std::lock_guard lock(g_hub_mu);
  if (auto hub = g_hub.lock()) {
    if (options.backend != SensorBackend::Auto && options.backend != hub->options_.backend)
      return Status::error("a hub with another sensor backend is already running in this process");
    return hub;
  }
  std::shared_ptr<Hub> hub(new Hub());
  if (Status s = hub->start(options); !s) return s;
  g_hub = hub;
  return hub;
}

Status Hub::start(const ClientOptions& options) {
  if (geteuid() != 0) return Status::error("ward needs root (CAP_BPF/CAP_SYS_ADMIN and CAP_NET_ADMIN)");
  options_ = options;
  auto packages = std::make_shared<process::PackageDb>();
  identifier_ = process::make_exe_identifier(packages);
  tree_ = std::make_unique<process::ProcessTree>(identifier_.get(), boot_to_realtime_offset());

  sensors::SensorConfig config;
  config.capture_env = options.capture_env;
  config.env_max_bytes = options.env_max_bytes;
  auto sink = [this](sensors::RawEvent&& e) { on_raw(std::move(e)); };

  std::vector<std::string> failures;
  if (options.backend != SensorBackend::ProcConnector) {
    auto bpf = sensors::bpf::make_bpf_process_sensor();
    Status s = bpf->start(config, sink);
    if (s) {
      sensor_ = std::move(bpf);
    } else {
      failures.push_back(s.message());
      if (options.backend == SensorBackend::Bpf) return s;
    }
  }
  if (!sensor_) {
    auto pc = sensors::make_proc_connector_sensor(process::make_linux_procfs());
    Status s = pc->start(config, sink);
    if (!s) {
      failures.push_back(s.message());
      std::string all;
      for (const auto& f : failures) all += (all.empty() ? "" : "; ") + f;
      return Status::error("no process sensor could start: " + all);
    }
    sensor_ = std::move(pc);
  }
  report_.active = std::string(sensor_->name());
  report_.missing = failures;

  // Seed after the sensor is attached so no process falls between the two.
  auto procfs = process::make_linux_procfs();
  tree_->seed(*procfs);
  thread_ = std::thread([this] { loop(); });
  return Status::ok();
}

Hub::~Hub() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(sensor_mu_);
  if (sensor_) sensor_->stop();
}

void Hub::loop() {
  while (!stop_.load(std::memory_order_relaxed)) {
    int n;
    {
      std::lock_guard lock(sensor_mu_);
      n = sensor_->poll(10);
    }
    if (n < 0) {
      std::fprintf(stderr, "ward: sensor %s failed; no more events\n", report_.active.c_str());
      return;
    }
  }
}

void Hub::attach(const std::shared_ptr<Client::Impl>& client) {
  std::lock_guard lock(clients_mu_);
  clients_.push_back(client);
}

void Hub::detach(const Client::Impl* client) {
  std::lock_guard lock(clients_mu_);
  std::erase_if(clients_, [&](const auto& c) { return c.get() == client; });
}

Status Hub::mute_pgid(pid_t pgid) {
  std::lock_guard lock(sensor_mu_);
  return sensor_->mute_pgid(pgid);
}

Status Hub::mute_tgid(pid_t tgid) {
  std::lock_guard lock(sensor_mu_);
  return sensor_->mute_tgid(tgid);
}

SensorReport Hub::report() const { return report_; }

Message Hub::make_message(EventType type, uint64_t boot_ns, pid_t tid, ProcessPtr process,
                          Event&& payload) const {
  Message m;
  m.time_ns = tree_->boot_to_realtime(boot_ns);
  m.mono_time_ns = boot_ns;
  m.process = std::move(process);
  m.action_type = ActionType::Notify;
  m.event_type = type;
  m.thread_id = tid;
  m.event = std::make_shared<const Event>(std::move(payload));
  return m;
}

void Hub::dispatch(const Message& message, const std::vector<std::string_view>& targets) {
  std::lock_guard lock(clients_mu_);
  for (const auto& c : clients_) c->offer(message, targets);
}

void Hub::on_raw(sensors::RawEvent&& raw) {
  if (auto* exec = std::get_if<sensors::RawExec>(&raw)) {
    auto change = tree_->on_exec(*exec);
    ExecEvent e;
    e.target = change.after;
    e.args = std::move(exec->args);
    e.args_truncated = exec->args_truncated;
    e.env = std::move(exec->env);
    e.env_truncated = exec->env_truncated;
    e.cwd = File{exec->cwd, exec->cwd_truncated, std::nullopt};
    // For #! the kernel runs the interpreter; filename is the script.
    if (!exec->interp.empty() && exec->interp != exec->filename)
      e.script = File{absolute_of(exec->filename, exec->cwd), false, std::nullopt};
    std::string_view target_path = change.after->executable.path;
    Message m = make_message(EventType::NotifyExec, exec->boot_ns, exec->tid, change.before, std::move(e));
    dispatch(m, {target_path});
  } else if (auto* fork = std::get_if<sensors::RawFork>(&raw)) {
    auto change = tree_->on_fork(*fork);
    Message m =
        make_message(EventType::NotifyFork, fork->boot_ns, fork->tid, change.parent, ForkEvent{change.child});
    dispatch(m, {});
  } else if (auto* exit = std::get_if<sensors::RawExit>(&raw)) {
    ProcessPtr gone = tree_->on_exit(*exit);
    Message m = make_message(EventType::NotifyExit, exit->boot_ns, exit->tid, gone, ExitEvent{exit->status});
    dispatch(m, {});
  } else if (auto* lost = std::get_if<sensors::RawLost>(&raw)) {
    DropReport d{lost->source, event_type_of(lost->kind), lost->count};
    std::lock_guard lock(clients_mu_);
    for (const auto& c : clients_) c->lost(d);
  }
}

}  // namespace ward::detail

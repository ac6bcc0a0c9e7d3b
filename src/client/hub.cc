#include "client/hub.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "process/exe_identifier.h"
#include "process/package_db.h"
#include "client/kernel_filter_spec.h"
#include "sensors/bpf/activity_sensor.h"
#include "sensors/bpf/bpf_process_sensor.h"
#include "sensors/proc_connector/proc_connector_sensor.h"

namespace ward::detail {
namespace {

std::mutex g_hub_mu;
std::weak_ptr<Hub> g_hub;
AuthOptions g_auth_options;

FileStat file_stat_of(const struct stat& st) {
  FileStat f;
  f.dev = st.st_dev;
  f.ino = st.st_ino;
  f.mode = st.st_mode;
  f.uid = st.st_uid;
  f.gid = st.st_gid;
  f.size = st.st_size;
  f.mtime = {st.st_mtim.tv_sec, static_cast<uint32_t>(st.st_mtim.tv_nsec)};
  f.ctime = {st.st_ctim.tv_sec, static_cast<uint32_t>(st.st_ctim.tv_nsec)};
  return f;
}

// The path of an fd we hold. readlink of /proc/self/fd: procfs is never an
// AUTH scope, so this cannot wait on ourselves.
std::string path_of_fd(int fd) {
  char buf[4096];
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = readlink(link.c_str(), buf, sizeof(buf));
  if (n <= 0) return {};
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string cwd_of(pid_t pid) {
  char buf[4096];
  std::string link = "/proc/" + std::to_string(pid) + "/cwd";
  ssize_t n = readlink(link.c_str(), buf, sizeof(buf));
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

int32_t fflag_of(int32_t open_flags) {
  int32_t f = 0;
  switch (open_flags & O_ACCMODE) {
    case O_RDONLY:
      f = kFflagRead;
      break;
    case O_WRONLY:
      f = kFflagWrite;
      break;
    default:
      f = kFflagRead | kFflagWrite;
  }
  if (open_flags & O_TRUNC) f |= kFflagWrite;
  return f;
}

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

// The sensors a hub can start on demand. Each is probed for the event types it
// provides; add a line here for a new sensor.
void register_on_demand_sensors(std::vector<Hub::OnDemand>& out);

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
  sensor_config_ = config;
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

  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  if (int fd = sensor_->poll_fd(); fd >= 0) epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  register_on_demand_sensors(on_demand_);
  kernel_filter_ = sensors::bpf::KernelFilter::instance();  // shared by the activity sensors
  // Seed after the sensor is attached so no process falls between the two.
  auto procfs = process::make_linux_procfs();
  tree_->seed(*procfs);
  thread_ = std::thread([this] { loop(); });
  return Status::ok();
}

Hub::~Hub() {
  stop_ = true;
  wake();
  if (thread_.joinable()) thread_.join();
  // The kernel group goes first: closing it releases every waiting process;
  // then the broker answers (harmlessly) what it still held.
  if (fanotify_) fanotify_->stop();
  broker_.reset();
  fanotify_.reset();
  std::lock_guard lock(sensor_mu_);
  for (auto& od : on_demand_)
    if (od.sensor) od.sensor->stop();
  network_rules_.reset();
  if (sensor_) sensor_->stop();
  if (wake_fd_ >= 0) close(wake_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

void Hub::set_auth_options(const AuthOptions& options) {
  std::lock_guard lock(g_hub_mu);
  g_auth_options = options;
}

void Hub::wake() {
  if (wake_fd_ < 0) return;
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
}

void Hub::loop() {
  // One thread: the sensors' records and the AUTH requests, so the tree is
  // always brought up to date before an AUTH message is built from it.
  bool sensor_has_fd = sensor_->poll_fd() >= 0;
  while (!stop_.load(std::memory_order_relaxed)) {
    epoll_event ready[8];
    // Without a descriptor the process sensor is polled every millisecond;
    // with one, the timeout still collects records below the ring's wakeup
    // mark.
    epoll_wait(epoll_fd_, ready, 8, sensor_has_fd ? 10 : 1);
    uint64_t drained;
    (void)!read(wake_fd_, &drained, sizeof(drained));
    {
      std::lock_guard lock(sensor_mu_);
      batching_ = true;
      if (sensor_->poll(0) < 0) {
        std::fprintf(stderr, "ward: sensor %s failed; no more events\n", report_.active.c_str());
        break;
      }
      if (network_rules_ && network_rules_->poll(0) < 0) {
        std::fprintf(stderr, "ward: network rules sensor failed; policy stays in the kernel, unreported\n");
        network_rules_.reset();
      }
      for (auto& od : on_demand_)
        if (od.sensor && od.sensor->poll(0) < 0) {
          std::fprintf(stderr, "ward: sensor %.*s failed\n", static_cast<int>(od.sensor->name().size()),
                       od.sensor->name().data());
          od.sensor->stop();
          od.sensor.reset();
          od.failed = true;
        }
      batching_ = false;
      dispatch_batch();
    }
    std::deque<auth::Request> requests;
    std::deque<std::pair<auth::Request, AuthResultEvent>> decisions;
    {
      std::lock_guard lock(auth_queue_mu_);
      requests.swap(auth_requests_);
      decisions.swap(auth_decisions_);
    }
    for (auto& r : requests) handle_auth(std::move(r));
    for (auto& [r, e] : decisions) publish_decision(r, std::move(e));
    uint64_t requested;
    {
      std::lock_guard lock(filter_mu_);
      requested = filter_requested_;
    }
    if (requested != filter_applied_) {
      sync_kernel_filter();
      {
        std::lock_guard lock(filter_mu_);
        filter_applied_ = requested;
      }
      filter_cv_.notify_all();
    }
  }
}

Status Hub::start_on_demand_sensors() {
  std::vector<EventType> wanted;
  {
    std::lock_guard lock(clients_mu_);
    for (const auto& info : kEventTypes)
      for (const auto& c : clients_)
        if (c->is_subscribed(info.type)) {
          wanted.push_back(info.type);
          break;
        }
  }
  std::lock_guard lock(sensor_mu_);
  for (auto& od : on_demand_) {
    if (od.sensor || od.failed) continue;
    auto probe = od.make();
    bool needed = false;
    for (EventType t : wanted) needed = needed || probe->provides(t);
    if (!needed) continue;
    Status s = probe->start(sensor_config_, [this](sensors::RawEvent&& e) { on_raw(std::move(e)); });
    if (!s) {
      od.failed = true;
      report_.missing.push_back(s.message());
      continue;
    }
    if (int fd = probe->poll_fd(); fd >= 0) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    }
    report_.active += ", " + std::string(probe->name());
    od.sensor = std::move(probe);
  }
  return Status::ok();
}

void Hub::attach(const std::shared_ptr<Client::Impl>& client) {
  std::lock_guard lock(clients_mu_);
  clients_.push_back(client);
}

void Hub::detach(const Client::Impl* client) {
  {
    std::lock_guard lock(clients_mu_);
    std::erase_if(clients_, [&](const auto& c) { return c.get() == client; });
  }
  // Its subscriptions and mutes leave the kernel filter (no need to wait).
  std::lock_guard lock(filter_mu_);
  ++filter_requested_;
  wake();
}

Status Hub::mute_pgid(pid_t pgid) {
  std::lock_guard lock(sensor_mu_);
  if (kernel_filter_ && kernel_filter_->status()) (void)kernel_filter_->mute_self_pgid(pgid);
  return sensor_->mute_pgid(pgid);
}

Status Hub::mute_tgid(pid_t tgid) {
  std::lock_guard lock(sensor_mu_);
  if (kernel_filter_ && kernel_filter_->status()) (void)kernel_filter_->mute_self_tgid(tgid);
  return sensor_->mute_tgid(tgid);
}

Status Hub::mutes_changed() {
  if (!kernel_filter_ || !kernel_filter_->status()) return Status::ok();  // user space filters alone
  std::unique_lock lock(filter_mu_);
  uint64_t wanted = ++filter_requested_;
  lock.unlock();
  wake();
  lock.lock();
  if (!filter_cv_.wait_for(lock, std::chrono::seconds(2), [&] { return filter_applied_ >= wanted || stop_; }))
    return Status::error("the kernel filter was not updated in time (user space still filters)");
  return Status::ok();
}

void Hub::sync_kernel_filter() {
  if (!kernel_filter_ || !kernel_filter_->status()) return;
  sensors::bpf::FilterSpec spec;
  {
    std::lock_guard lock(clients_mu_);
    spec = make_filter_spec(clients_, *tree_);
  }
  if (Status s = kernel_filter_->apply(spec); !s)
    std::fprintf(stderr, "ward: kernel filter: %s (user space still filters)\n", s.message().c_str());
}

uint64_t Hub::kernel_filtered() {
  std::lock_guard lock(sensor_mu_);
  uint64_t n = 0;
  for (const auto& od : on_demand_)
    if (od.sensor) n += od.sensor->counters().muted;
  return n;
}

Status Hub::set_network_policy(const NetworkPolicy* policy) {
  std::lock_guard lock(sensor_mu_);
  auto detach_current = [this] {
    if (!network_rules_) return;
    if (int fd = network_rules_->poll_fd(); fd >= 0) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    network_rules_->stop();  // detaches from the cgroup
    network_rules_.reset();
  };
  if (!policy) {
    detach_current();
    return Status::ok();
  }
  if (policy->cgroup.empty()) return Status::error("network policy: name a cgroup v2 directory");
  if (network_rules_ && network_rules_->cgroup() == policy->cgroup) return network_rules_->set_rules(policy->rules);
  // Another cgroup: the new programs are attached and filled before the old
  // ones go, so a policy that cannot be applied leaves the one in force.
  auto rules = std::make_unique<sensors::bpf::NetworkRules>(policy->cgroup);
  if (Status s = rules->start(sensor_config_, [this](sensors::RawEvent&& e) { on_raw(std::move(e)); }); !s) return s;
  if (Status s = rules->set_rules(policy->rules); !s) {
    rules->stop();
    return s;
  }
  detach_current();
  if (int fd = rules->poll_fd(); fd >= 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
  network_rules_ = std::move(rules);
  return Status::ok();
}

uint64_t Hub::activity_records() {
  std::lock_guard lock(sensor_mu_);
  uint64_t n = 0;
  for (const auto& od : on_demand_)
    if (od.sensor) n += od.sensor->counters().received;
  return n;
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

namespace {
// Kernel time of a raw event; drop reports (none) sort last.
uint64_t boot_ns_of(const sensors::RawEvent& e) {
  return std::visit(
      [](const auto& r) -> uint64_t {
        if constexpr (requires { r.boot_ns; })
          return r.boot_ns;
        else
          return UINT64_MAX;
      },
      e);
}
}  // namespace

void Hub::on_raw(sensors::RawEvent&& raw) {
  if (batching_) {
    batch_.push_back(std::move(raw));
    return;
  }
  process_raw(std::move(raw));
}

void Hub::dispatch_batch() {
  // Each ring is in order; across rings the kernel's clock decides. The
  // process ring is read first, so whatever another ring holds from before
  // an exit is in this batch too.
  // The keys are sorted, not the records: a record is large, and moving
  // each one through a merge sort cost more than everything else here.
  // (time, index) pairs are unique, so std::sort keeps each ring's order.
  std::vector<sensors::RawEvent> batch;
  batch.swap(batch_);
  batch_order_.clear();
  batch_order_.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) batch_order_.emplace_back(boot_ns_of(batch[i]), i);
  std::sort(batch_order_.begin(), batch_order_.end());
  for (const auto& [ns, i] : batch_order_) process_raw(std::move(batch[i]));
  batch.clear();
  if (batch_.empty()) batch_.swap(batch);  // keeps the capacity for the next batch
}

void Hub::process_raw(sensors::RawEvent&& raw) {
  if (auto* exec = std::get_if<sensors::RawExec>(&raw)) {
    auto change = tree_->on_exec(*exec);
    if (network_rules_) network_rules_->on_exec(*change.after);  // sha256 identities
    // A muted image is gone: the kernel's process mute must follow.
    if (kernel_filter_ && kernel_filter_->has_process_mute(exec->proc.tgid)) sync_kernel_filter();
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
    if (kernel_filter_ && kernel_filter_->has_process_mute(exit->proc.tgid)) sync_kernel_filter();
    Message m = make_message(EventType::NotifyExit, exit->boot_ns, exit->tid, gone, ExitEvent{exit->status});
    dispatch(m, {});
  } else if (auto* notify = std::get_if<sensors::RawNotify>(&raw)) {
    ProcessPtr instigator = tree_->instigator(notify->proc);
    if (notify->target_process) {
      // signal / trace / proc_check: the target from the tree, and its
      // executable is the event's target path.
      ProcessPtr target = notify->target_process->start_boot_ns != 0 ? tree_->instigator(*notify->target_process)
                                                                      : tree_->find(notify->target_process->tgid);
      std::visit(
          [&](auto& payload) {
            if constexpr (requires { payload.target = target; }) payload.target = target;
          },
          notify->payload);
      if (target) notify->targets.push_back(target->executable.path);
    }
    std::vector<std::string_view> targets(notify->targets.begin(), notify->targets.end());
    Message m = make_message(notify->type, notify->boot_ns, notify->tid, std::move(instigator),
                             std::move(notify->payload));
    dispatch(m, targets);
  } else if (auto* lost = std::get_if<sensors::RawLost>(&raw)) {
    DropReport d{lost->source, lost->type ? lost->type : event_type_of(lost->kind), lost->count};
    std::lock_guard lock(clients_mu_);
    for (const auto& c : clients_) c->lost(d);
  }
}

DeadlineMissMode Hub::strictest_miss_mode() {
  std::lock_guard lock(clients_mu_);
  for (const auto& c : clients_)
    if ((c->is_subscribed(EventType::AuthExec) || c->is_subscribed(EventType::AuthOpen)) &&
        c->miss_mode.load() == DeadlineMissMode::FailClosed)
      return DeadlineMissMode::FailClosed;
  return DeadlineMissMode::FailOpen;
}

Status Hub::ensure_auth_locked() {
  if (fanotify_) return Status::ok();
  AuthOptions options;
  {
    std::lock_guard lock(g_hub_mu);
    options = g_auth_options;
  }
  auto fan = std::make_unique<sensors::fanotify::FanotifyAuth>();
  auto broker =
      std::make_unique<auth::AuthBroker>(*fan, options, [this](const auth::Request& r, AuthResultEvent&& e) {
        {
          std::lock_guard lock(auth_queue_mu_);
          auth_decisions_.emplace_back(r, std::move(e));
        }
        wake();
      });
  Status s = fan->start(
      broker.get(),
      [this](auth::Request&& r) {
        {
          std::lock_guard lock(auth_queue_mu_);
          auth_requests_.push_back(std::move(r));
        }
        wake();
      },
      [this] { return strictest_miss_mode(); });
  if (!s) return s;
  broker_ = std::move(broker);
  fanotify_ = std::move(fan);
  report_.active += ", fanotify:auth";
  if (!fanotify_->context_error().empty()) report_.missing.push_back(fanotify_->context_error());
  return Status::ok();
}

Status Hub::subscriptions_changed() {
  if (Status s = start_on_demand_sensors(); !s) return s;
  if (Status s = mutes_changed(); !s) return s;  // the kernel's subscription masks too
  bool exec = false, open = false;
  {
    std::lock_guard lock(clients_mu_);
    for (const auto& c : clients_) {
      exec = exec || c->is_subscribed(EventType::AuthExec);
      open = open || c->is_subscribed(EventType::AuthOpen);
    }
  }
  std::lock_guard lock(auth_setup_mu_);
  if (!exec && !open && !fanotify_) return Status::ok();
  if (Status s = ensure_auth_locked(); !s) return s;
  return fanotify_->set_events(exec, open);
}

Status Hub::add_auth_scope(const std::string& path, AuthScope scope) {
  std::lock_guard lock(auth_setup_mu_);
  if (Status s = ensure_auth_locked(); !s) return s;
  return fanotify_->add_scope(path, scope);
}

Status Hub::remove_auth_scope(const std::string& path, AuthScope scope) {
  std::lock_guard lock(auth_setup_mu_);
  if (!fanotify_) return Status::error("AUTH is not running");
  return fanotify_->remove_scope(path, scope);
}

void Hub::handle_auth(auth::Request&& r) {
  ProcessPtr instigator = tree_->find(r.tgid);
  if (!instigator) {
    // Not yet in the tree (or the fork was lost): name it from what we know.
    auto p = std::make_shared<Process>();
    p->audit_token.pid = r.tgid;
    instigator = p;
  }
  struct stat st {};
  std::optional<FileStat> stat;
  if (fstat(r.fd, &st) == 0) stat = file_stat_of(st);
  std::string path = path_of_fd(r.fd);

  Message m;
  m.time_ns = tree_->boot_to_realtime(r.received_boot_ns);
  m.mono_time_ns = r.received_boot_ns;
  m.deadline_ns = r.deadline_boot_ns;
  m.process = instigator;
  m.action_type = ActionType::Auth;
  m.event_type = r.type;
  m.thread_id = r.tid;
  m.auth_id = r.id;
  if (r.type == EventType::AuthExec) {
    auto target = std::make_shared<Process>(*instigator);
    target->executable = File{path, false, stat};
    target->sha256.reset();
    target->package.reset();
    target->is_platform_binary = false;
    target->ancestors = tree_->ancestry(instigator->ppid);
    if (identifier_) {
      auto id = identifier_->identify(path, stat);
      target->sha256 = std::move(id.sha256);
      target->package = std::move(id.package);
      target->is_platform_binary = id.is_platform_binary;
    }
    ExecEvent e;
    e.target = target;
    if (auto args = fanotify_->exec_args(r.tid)) {
      e.args = std::move(args->args);
      e.args_truncated = args->truncated;
    }
    e.cwd.path = cwd_of(r.tgid);
    m.event = std::make_shared<const Event>(std::move(e));
  } else {
    OpenEvent o;
    o.file = File{path, false, stat};
    auto flags = fanotify_->open_flags(r.tid);
    o.fflag = flags ? fflag_of(*flags) : kFflagRead;
    r.fflag = o.fflag;
    m.event = std::make_shared<const Event>(std::move(o));
  }
  auth_instigators_[r.id] = instigator;

  std::vector<auth::Answer> expected;
  {
    std::lock_guard lock(clients_mu_);
    std::vector<std::string_view> targets{path};
    for (const auto& c : clients_)
      if (c->offer_auth(m, targets)) {
        auth::Answer a;
        a.client = c.get();
        a.miss_mode = c->miss_mode.load();
        a.missed_counter = &c->auth_missed;
        expected.push_back(std::move(a));
      }
  }
  broker_->expect(r.id, path, std::move(expected));
}

void Hub::publish_decision(const auth::Request& r, AuthResultEvent&& e) {
  ProcessPtr instigator;
  if (auto it = auth_instigators_.find(r.id); it != auth_instigators_.end()) {
    instigator = it->second;
    auth_instigators_.erase(it);
  }
  if (!instigator) instigator = tree_->find(r.tgid);
  if (!instigator) {
    auto p = std::make_shared<Process>();
    p->audit_token.pid = r.tgid;
    instigator = p;
  }
  Message m =
      make_message(EventType::NotifyAuthResult, broker_->now(), r.tid, instigator, Event(std::move(e)));
  std::vector<std::string_view> targets{m.as<AuthResultEvent>()->target};
  dispatch(m, targets);
}

Status Hub::add_sensor(std::unique_ptr<sensors::Sensor> sensor) {
  std::lock_guard lock(sensor_mu_);
  if (Status s = sensor->start(sensor_config_, [this](sensors::RawEvent&& e) { on_raw(std::move(e)); }); !s) {
    report_.missing.push_back(s.message());
    return s;
  }
  if (int fd = sensor->poll_fd(); fd >= 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
  report_.active += ", " + std::string(sensor->name());
  // Polled and stopped with the on-demand sensors; never restarted (no factory).
  on_demand_.push_back({nullptr, std::move(sensor), false});
  return Status::ok();
}

void register_on_demand_sensors(std::vector<Hub::OnDemand>& out) {
  out.push_back({[] { return sensors::bpf::make_bpf_file_sensor(); }, nullptr, false});
  out.push_back({[] { return sensors::bpf::make_bpf_sys_sensor(); }, nullptr, false});
  out.push_back({[] { return sensors::bpf::make_bpf_net_sensor(); }, nullptr, false});
}

}  // namespace ward::detail

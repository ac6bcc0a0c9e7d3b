#include "daemon/daemon.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "daemon/event_records.h"
#include "daemon/policy_edit.h"

namespace ward::daemon {
namespace {

using nlohmann::json;

json error_json(const std::string& message) { return {{"ok", false}, {"error", message}}; }

std::string_view scope_name(AuthScope scope) {
  switch (scope) {
    case AuthScope::Mount:
      return "mount";
    case AuthScope::Filesystem:
      return "filesystem";
    case AuthScope::Directory:
      return "directory";
  }
  return "?";
}

std::string_view backend_name(SensorBackend b) {
  switch (b) {
    case SensorBackend::Auto:
      return "auto";
    case SensorBackend::Bpf:
      return "bpf";
    case SensorBackend::ProcConnector:
      return "proc-connector";
  }
  return "?";
}

json client_stats_json(const ClientStats& s) {
  return {{"delivered", s.delivered},       {"queue_drops", s.queue_drops},
          {"kernel_drops", s.kernel_drops}, {"auth_answered", s.auth_answered},
          {"auth_missed", s.auth_missed},   {"kernel_filtered", s.kernel_filtered}};
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::unique_ptr<output::Serializer> serializer_for(RecordFormat format, const output::HostInfo& host) {
  switch (format) {
    case RecordFormat::Summary:
      return nullptr;
    case RecordFormat::Eslogger:
      return output::make_eslogger_json_serializer();
    case RecordFormat::Ecs:
      return output::make_ecs_serializer(host);
    case RecordFormat::Ocsf:
      return output::make_ocsf_serializer(host);
  }
  return nullptr;
}

// "exec"/"open" in auth_result's auth_event_type (the AUTH event's ES number).
std::string auth_event_name(uint32_t es_number) {
  return es_number == static_cast<uint32_t>(EventType::AuthExec) ? "exec" : "open";
}

}  // namespace

// One `ward tail`: a Client of its own, so a slow reader loses only its own
// events (counted, and reported in order as drop records), never the outputs'.
struct Daemon::TailSession {
  TailSession(int socket_fd, RecordFormat record_format, std::unique_ptr<output::Serializer> s)
      : fd(socket_fd), format(record_format), serializer(std::move(s)) {}

  // Client thread.
  void on_message(const Message& m) {
    if (broken) return;
    if (format == RecordFormat::Summary)
      pending += summary_line(m);
    else
      serializer->serialize(m, pending);
    pending.push_back('\n');
    if (pending.size() >= (256u << 10)) send_pending();
  }
  void on_drop(const DropReport& d) {
    if (broken) return;
    if (format == RecordFormat::Summary)
      pending += summary_line(d);
    else
      serializer->serialize_drop(d, pending);
    pending.push_back('\n');
  }
  void send_pending() {
    // Until the stream's header is out, records wait (bounded: a reader that
    // never gets its header loses them, as a full queue would).
    if (!header_sent) {
      if (pending.size() > (4u << 20)) pending.clear();
      return;
    }
    std::size_t off = 0;
    while (off < pending.size() && !broken) {
      const ssize_t n = ::send(fd, pending.data() + off, pending.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        broken = true;
        break;
      }
      off += static_cast<std::size_t>(n);
    }
    pending.clear();
  }

  int fd;
  RecordFormat format;
  std::unique_ptr<output::Serializer> serializer;
  std::string pending;
  std::atomic<bool> header_sent{false};
  std::atomic<bool> broken{false};
  std::unique_ptr<Client> client;
};

Daemon::Daemon(DaemonConfig config) : config_(std::move(config)) {}

Result<std::unique_ptr<Daemon>> Daemon::start(DaemonConfig config, int& exit_code) {
  std::unique_ptr<Daemon> daemon(new Daemon(std::move(config)));
  exit_code = 1;
  if (Status s = daemon->start_components(exit_code); !s) return s;  // ~Daemon stops what did start
  return daemon;
}

ClientOptions Daemon::client_options() const {
  ClientOptions options;
  options.backend = config_.backend;
  options.capture_env = config_.capture_env;
  options.queue_capacity = config_.queue_capacity;
  options.deadline_miss_mode = config_.fail_mode;
  return options;
}

Result<policy::Policy> Daemon::load_policy_locked() {
  auto loaded = policy::load_policy_file(config_.policy_file);
  if (!loaded) return loaded.status();
  file_mode_ = loaded.value().mode;
  if (config_.mode) loaded.value().mode = *config_.mode;  // the config's mode wins over the file's
  return loaded;
}

Status Daemon::start_components(int& exit_code) {
  start_time_ = now_seconds();
  host_ = output::local_host_info();

  // 1. The policy: a bad file is exit 2, before anything else exists.
  std::optional<policy::Policy> policy;
  if (!config_.policy_file.empty()) {
    std::lock_guard lock(policy_mu_);
    auto loaded = load_policy_locked();
    if (!loaded) {
      exit_code = 2;
      return loaded.status();
    }
    policy = std::move(loaded.value());
  } else if (config_.mode) {
    policy = policy::Policy{};
    policy->mode = *config_.mode;
    file_mode_ = *config_.mode;
  }
  if (!policy && !config_.auth_scopes.empty())
    std::fprintf(stderr,
                 "wardd: warning: auth scopes without a policy (policy_file or mode) decide nothing\n");
  if (policy && config_.auth_scopes.empty())
    std::fprintf(stderr, "wardd: warning: a policy without auth scopes decides nothing\n");

  // 2. What can fail because of the machine, not the config: the control
  // socket (another wardd?), the metrics port, the outputs' files.
  if (config_.control_enabled) {
    auto control = ControlServer::bind(config_.control_socket);
    if (!control) return Status::error("control.socket: " + control.status().message());
    control_ = std::move(control.value());
  }
  if (config_.metrics_enabled) {
    auto metrics = Metrics::start(config_.metrics_listen, [this] { return stats(); });
    if (!metrics) return metrics.status();
    metrics_ = std::move(metrics.value());
  }
  auto outputs = OutputSet::open(config_, host_);
  if (!outputs) return outputs.status();
  outputs_ = std::move(outputs.value());

  // 3. The sensors, through the outputs' client.
  AuthOptions auth;
  auth.exec_deadline_ms = config_.exec_deadline_ms;
  auth.open_deadline_ms = config_.open_deadline_ms;
  Client::set_auth_options(auth);
  auto observer = Client::create([this](const Message& m) { on_message(m); }, client_options());
  if (!observer) return observer.status();
  observer_ = std::move(observer.value());
  (void)observer_->mute_process_id_in_kernel(getpid());
  observer_->set_drained_handler([this] { outputs_->drained(); });
  observer_->set_drop_handler([this](const DropReport& d) { on_drop(d); });
  // exec, fork and exit always: they keep the pid -> audit token map that
  // `ward mute --pid` needs, whatever the outputs take.
  std::vector<EventType> types = outputs_->wanted();
  for (EventType t : {EventType::NotifyExec, EventType::NotifyFork, EventType::NotifyExit})
    if (std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
  if (policy && std::find(types.begin(), types.end(), EventType::NotifyAuthResult) == types.end())
    types.push_back(EventType::NotifyAuthResult);  // for the AUTH metrics
  if (Status s = observer_->subscribe(types); !s) return s;

  // 4. The policy client and its scopes.
  if (policy) {
    std::lock_guard lock(policy_mu_);
    auto created = policy::PolicyClient::create(std::move(*policy), client_options());
    if (!created) return created.status();
    enforcer_ = std::move(created.value());
    for (const auto& scope : config_.auth_scopes)
      if (Status s = enforcer_->client().add_auth_scope(scope.path, scope.type); !s)
        return Status::error("auth.scopes: " + scope.path + ": " + s.message());
  }
  sensors_ = observer_->sensors();

  // 5. Open for business.
  flusher_ = std::thread([this] { flush_loop(); });
  if (control_) control_->start([this](const json& r, Connection& c) { return handle(r, c); });
  return Status::ok();
}

Daemon::~Daemon() {
  if (control_) control_->stop();          // ends every tail and its client
  if (metrics_) metrics_->stop_serving();  // no scrape reads what is stopped below
  {
    std::lock_guard lock(flush_mu_);
    stopping_ = true;
  }
  flush_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  {
    std::lock_guard lock(policy_mu_);
    enforcer_.reset();  // AUTH released first: nothing waits on a stopping agent
  }
  observer_.reset();
  metrics_.reset();  // the outputs' client observed into it until just now
  outputs_.reset();  // flushes and closes
  control_.reset();  // removes the socket file
}

void Daemon::flush_loop() {
  std::unique_lock lock(flush_mu_);
  while (!stopping_) {
    flush_cv_.wait_for(lock, std::chrono::seconds(1));
    lock.unlock();
    outputs_->flush_all();
    lock.lock();
  }
}

void Daemon::on_message(const Message& m) {
  const std::size_t index = event_index(m.event_type);
  if (index < events_.size()) events_[index].fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(tokens_mu_);
    if (tokens_.size() > (1u << 18)) tokens_.clear();  // exits lost in drops: start over rather than grow
    if (m.process) tokens_[m.process->audit_token.pid] = m.process->audit_token;
    if (const auto* e = m.as<ExecEvent>(); e && e->target)
      tokens_[e->target->audit_token.pid] = e->target->audit_token;
    if (const auto* f = m.as<ForkEvent>(); f && f->child)
      tokens_[f->child->audit_token.pid] = f->child->audit_token;
    if (m.as<ExitEvent>() && m.process) tokens_.erase(m.process->audit_token.pid);
  }
  if (const auto* r = m.as<AuthResultEvent>()) {
    const std::string event = auth_event_name(r->auth_event_type);
    if (metrics_) metrics_->observe_auth_latency(event, static_cast<double>(r->latency_ns) / 1e9);
    std::lock_guard lock(counters_mu_);
    ++decisions_[{event, r->result, r->decided_by}];
  }
  outputs_->write(m);
}

void Daemon::on_drop(const DropReport& d) {
  {
    std::lock_guard lock(counters_mu_);
    drops_[d.source] += d.count;
  }
  outputs_->write_drop(d);
}

std::string Daemon::mode_name() const {
  if (!enforcer_) return "monitor";
  return std::string(policy::to_string(enforcer_->policy()->mode));
}

std::string Daemon::description() const {
  std::lock_guard lock(policy_mu_);
  std::string text = mode_name();
  if (!enforcer_)
    text += ", no policy";
  else if (!config_.policy_file.empty())
    text += ", policy " + config_.policy_file;
  text += "; sensors: " + sensors_.active;
  return text;
}

std::string Daemon::metrics_url() const { return metrics_ ? metrics_->url() : ""; }

DaemonStats Daemon::stats() const {
  DaemonStats s;
  for (std::size_t i = 0; i < events_.size(); ++i)
    s.events_by_type[i] = events_[i].load(std::memory_order_relaxed);
  {
    std::lock_guard lock(counters_mu_);
    s.drops_by_source = drops_;
    s.auth_decisions = decisions_;
  }
  if (observer_) {
    s.observer = observer_->stats();
    s.auth = observer_->auth_stats();
  }
  {
    std::lock_guard lock(policy_mu_);
    if (enforcer_) s.enforcer = enforcer_->client().stats();
  }
  if (outputs_) s.sinks = outputs_->status();
  {
    std::lock_guard lock(mutes_mu_);
    s.tail_sessions = tails_.size();
  }
  s.policy_reloads = reloads_.load();
  s.policy_reload_failures = reload_failures_.load();
  s.control_requests = control_ ? control_->requests() : 0;
  s.start_time_seconds = start_time_;
  return s;
}

Status Daemon::reload_policy() {
  std::lock_guard lock(policy_mu_);
  if (config_.policy_file.empty() || !enforcer_) return Status::error("no policy file to reload");
  auto loaded = load_policy_locked();
  Status s = loaded ? enforcer_->set_policy(std::move(loaded.value())) : loaded.status();
  (s ? reloads_ : reload_failures_).fetch_add(1);
  return s;
}

// ---- control requests ---------------------------------------------------------

std::optional<json> Daemon::handle(const json& request, Connection& connection) {
  if (!request.is_object() || !request.contains("cmd") || !request["cmd"].is_string())
    return error_json("bad request: expected {\"cmd\": \"…\", …}");
  const std::string cmd = request["cmd"];
  if (cmd == "status") return status_json();
  if (cmd == "rules.list") return rules_json();
  if (cmd == "rules.add" || cmd == "rules.remove") return change_rules(request);
  if (cmd == "reload") {
    Status s = reload_policy();
    if (!s) return error_json("policy NOT reloaded, the previous one stays in force: " + s.message());
    return json{{"ok", true}};
  }
  if (cmd == "mute") return change_mute(request, true);
  if (cmd == "unmute") return change_mute(request, false);
  if (cmd == "tail") return tail(request, connection);
  return error_json("unknown command '" + cmd +
                    "' (status, rules.list, rules.add, rules.remove, reload, mute, "
                    "unmute, tail)");
}

void Daemon::set_self_protection_status(std::vector<std::string> lines) {
  std::lock_guard lock(protection_mu_);
  protection_lines_ = std::move(lines);
}

json Daemon::status_json() const {
  const DaemonStats s = stats();
  json out = {{"ok", true}};
  out["pid"] = getpid();
  out["uptime_seconds"] = static_cast<uint64_t>(now_seconds() - start_time_);
  out["config"] = config_.source;
  {
    std::lock_guard lock(policy_mu_);
    out["mode"] = mode_name();
    if (enforcer_) {
      const auto p = enforcer_->policy();
      out["policy"] = {{"file", config_.policy_file.empty() ? json(nullptr) : json(config_.policy_file)},
                       {"mode_from", config_.mode ? "config" : "policy file"},
                       {"binary_rules", p->binary_rules.size()},
                       {"file_access_rules", p->file_rules.size()},
                       {"network_rules", p->network_rules.size()}};
    } else {
      out["policy"] = nullptr;
    }
  }
  out["sensors"] = {
      {"backend", backend_name(config_.backend)}, {"active", sensors_.active}, {"missing", sensors_.missing}};
  json scopes = json::array();
  for (const auto& scope : config_.auth_scopes)
    scopes.push_back({{"path", scope.path}, {"type", scope_name(scope.type)}});
  out["auth"] = {{"scopes", scopes},
                 {"exec_deadline_ms", config_.exec_deadline_ms},
                 {"open_deadline_ms", config_.open_deadline_ms},
                 {"fail_mode", config_.fail_mode == DeadlineMissMode::FailClosed ? "closed" : "open"},
                 {"requests", s.auth.requests},
                 {"allowed", s.auth.allowed},
                 {"denied", s.auth.denied},
                 {"cache_hits", s.auth.cache_hits},
                 {"watchdog_answers", s.auth.watchdog_answers},
                 {"late_responses", s.auth.late_responses},
                 {"pending", s.auth.pending}};
  json events = json::object();
  uint64_t total = 0;
  for (const auto& info : kEventTypes) {
    const uint64_t n = s.events_by_type[event_index(info.type)];
    total += n;
    if (n > 0) events[std::string(info.name)] = n;
  }
  out["events"] = events;
  out["events_total"] = total;
  out["drops"] = s.drops_by_source;
  out["clients"] = {{"outputs", client_stats_json(s.observer)}};
  if (s.enforcer) out["clients"]["policy"] = client_stats_json(*s.enforcer);
  json outputs = json::array();
  std::optional<std::string> store_path;
  for (const SinkStatus& sink : s.sinks) {
    json o = {{"type", sink.type},
              {"target", sink.target},
              {"format", sink.format},
              {"written", sink.counters.written},
              {"errors", sink.counters.errors},
              {"dropped", sink.counters.dropped}};
    if (sink.spool_bytes) o["spool_bytes"] = *sink.spool_bytes;
    if (sink.spool_records) o["spool_records"] = *sink.spool_records;
    if (sink.connected) o["connected"] = *sink.connected;
    if (sink.store_bytes) o["store_bytes"] = *sink.store_bytes;
    if (!sink.last_error.empty()) o["last_error"] = sink.last_error;
    if (sink.type == "store" && !store_path) store_path = sink.target;
    outputs.push_back(std::move(o));
  }
  out["outputs"] = outputs;
  out["store"] = store_path ? json(*store_path) : json(nullptr);
  {
    std::lock_guard lock(mutes_mu_);
    json mutes = json::array();
    for (const auto& m : mutes_) mutes.push_back(m.describe);
    out["mutes"] = mutes;
  }
  {
    std::lock_guard lock(protection_mu_);
    out["self_protection"] = protection_lines_;
  }
  out["tail_sessions"] = s.tail_sessions;
  out["metrics"] = metrics_ ? json(metrics_->url()) : json(nullptr);
  out["control_socket"] = config_.control_socket;
  out["policy_reloads"] = {{"ok", s.policy_reloads}, {"failed", s.policy_reload_failures}};
  return out;
}

json Daemon::rules_json() const {
  std::lock_guard lock(policy_mu_);
  if (!enforcer_) return error_json("no policy in force (wardd runs in monitor mode without a policy file)");
  const auto p = enforcer_->policy();
  json binary = json::array(), file = json::array();
  // ordered_json -> json keeps the values; the CLI prints the keys it knows in order.
  for (const auto& r : p->binary_rules) binary.push_back(json::parse(rule_json(r, true).dump()));
  for (const auto& r : p->file_rules) file.push_back(json::parse(rule_json(r, true).dump()));
  json network = json::array();
  for (const auto& r : p->network_rules) network.push_back(json::parse(rule_json(r).dump()));
  return {{"ok", true},
          {"network_rules", network},
          {"network_cgroup", p->network_cgroup},
          {"file", config_.policy_file.empty() ? json(nullptr) : json(config_.policy_file)},
          {"mode", std::string(policy::to_string(p->mode))},
          {"binary_rules", binary},
          {"file_access_rules", file}};
}

json Daemon::change_rules(const json& request) {
  std::lock_guard lock(policy_mu_);
  if (!enforcer_ || config_.policy_file.empty())
    return error_json(
        "no policy file: rules are edited in the policy file (set policy_file in the config, or "
        "start wardd with --policy FILE)");
  const auto current = enforcer_->policy();
  Result<policy::Policy> next = Status::error("");
  std::string id;
  if (request.value("cmd", "") == "rules.add") {
    if (!request.contains("rule")) return error_json("bad request: rules.add needs \"rule\"");
    next = with_rule_added(*current, request.value("section", "binary_rules"), request["rule"]);
    if (next) {
      const auto& p = next.value();
      id = request.value("section", "binary_rules") == "file_access_rules" ? p.file_rules.back().id
                                                                           : p.binary_rules.back().id;
    }
  } else {
    if (!request.contains("id") || !request["id"].is_string())
      return error_json("bad request: rules.remove needs \"id\"");
    id = request["id"];
    next = with_rule_removed(*current, id);
  }
  if (!next) return error_json(next.status().message());
  const std::string text = render_policy(next.value(), file_mode_);
  // The loader is the judge: what it cannot read back is never written.
  if (auto check = policy::parse_policy(text, config_.policy_file); !check)
    return error_json("the new policy does not validate, nothing changed: " + check.status().message());
  if (Status s = replace_policy_file(config_.policy_file, text); !s)
    return error_json("nothing changed: " + s.message());
  auto loaded = load_policy_locked();
  Status s = loaded ? enforcer_->set_policy(std::move(loaded.value())) : loaded.status();
  (s ? reloads_ : reload_failures_).fetch_add(1);
  if (!s) return error_json("the policy file was written but not loaded: " + s.message());
  const auto now = enforcer_->policy();
  return {{"ok", true},
          {"id", id},
          {"file", config_.policy_file},
          {"binary_rules", now->binary_rules.size()},
          {"file_access_rules", now->file_rules.size()}};
}

Status Daemon::apply_mute(Client& client, const MuteRecord& mute, bool mute_it) {
  if (mute.process)
    return mute_it ? client.mute_process(*mute.process) : client.unmute_process(*mute.process);
  return mute_it ? client.mute_path(mute.path, mute.path_type)
                 : client.unmute_path(mute.path, mute.path_type);
}

json Daemon::change_mute(const json& request, bool mute_it) {
  MuteRecord mute;
  if (request.contains("pid")) {
    if (!request["pid"].is_number_integer() || request["pid"].get<int64_t>() <= 0 ||
        request["pid"].get<int64_t>() > 4194304)
      return error_json("bad pid: expected a process id from 1 to 4194304");
    const pid_t pid = request["pid"].get<pid_t>();
    {
      std::lock_guard lock(tokens_mu_);
      if (auto it = tokens_.find(pid); it != tokens_.end()) mute.process = it->second;
    }
    if (!mute.process) {
      if (!std::filesystem::exists("/proc/" + std::to_string(pid)))
        return error_json("no process with pid " + std::to_string(pid));
      return error_json(
          "pid " + std::to_string(pid) +
          ": wardd has seen no event from it since it started, so it cannot name the process image "
          "(mutes follow ES: a pid and its pidversion); mute its executable with --path instead");
    }
    mute.describe = {{"pid", pid}, {"pidversion", mute.process->pidversion}};
  } else if (request.contains("path") && request["path"].is_string()) {
    mute.path = request["path"];
    if (mute.path.empty() || mute.path[0] != '/')
      return error_json("bad path '" + mute.path + "': must be absolute");
    const std::string type = request.value("type", "prefix");
    const bool target = request.value("target", false);
    if (type == "prefix")
      mute.path_type = target ? MutePathType::TargetPrefix : MutePathType::Prefix;
    else if (type == "literal")
      mute.path_type = target ? MutePathType::TargetLiteral : MutePathType::Literal;
    else
      return error_json("bad path type '" + type + "' (prefix or literal)");
    mute.describe = {{"path", mute.path}, {"type", type}, {"of", target ? "target" : "executable"}};
  } else {
    return error_json("bad request: mute needs \"pid\" or \"path\"");
  }
  std::lock_guard lock(mutes_mu_);
  auto same = [&](const MuteRecord& m) { return m.describe == mute.describe; };
  const bool known = std::find_if(mutes_.begin(), mutes_.end(), same) != mutes_.end();
  if (!mute_it && !known) return error_json("not muted: " + mute.describe.dump());
  if (Status s = apply_mute(*observer_, mute, mute_it); !s) return error_json(s.message());
  for (TailSession* t : tails_) (void)apply_mute(*t->client, mute, mute_it);
  if (mute_it && !known) mutes_.push_back(mute);
  if (!mute_it) std::erase_if(mutes_, same);
  return {{"ok", true}, {"muted", mute_it}, {"what", mute.describe}};
}

std::optional<json> Daemon::tail(const json& request, Connection& connection) {
  const std::string format_name = request.value("format", "eslogger");
  const auto format = record_format_from_name(format_name);
  if (!format) return error_json("bad format '" + format_name + "' (summary, eslogger, ecs, ocsf)");
  std::vector<EventType> types;
  if (request.contains("events") && request["events"].is_array() && !request["events"].empty()) {
    for (const auto& item : request["events"]) {
      const std::string name = item.is_string() ? item.get<std::string>() : item.dump();
      if (const auto group = event_group(name); !group.empty()) {
        types.insert(types.end(), group.begin(), group.end());
        continue;
      }
      auto t = event_type_from_name(name);
      if (!t) return error_json("unknown event '" + name + "' (`ward log --list` shows the names)");
      if (event_info(*t)->action == ActionType::Auth)
        return error_json("'" + name + "' is an AUTH event; a tail only observes (tail auth_result instead)");
      types.push_back(*t);
    }
  } else {
    types = config_.events;
  }

  auto session = std::make_unique<TailSession>(connection.fd(), *format, serializer_for(*format, host_));
  TailSession* raw = session.get();
  ClientOptions options = client_options();
  options.queue_capacity = 1 << 14;
  auto client = Client::create([raw](const Message& m) { raw->on_message(m); }, options);
  if (!client) return error_json(client.status().message());
  session->client = std::move(client.value());
  session->client->set_drop_handler([raw](const DropReport& d) { raw->on_drop(d); });
  session->client->set_drained_handler([raw] { raw->send_pending(); });
  {
    std::lock_guard lock(mutes_mu_);
    for (const auto& m : mutes_) (void)apply_mute(*session->client, m, true);
    tails_.push_back(raw);
  }
  // The reader's own process would otherwise see its own reads and writes.
  {
    std::optional<AuditToken> peer;
    {
      std::lock_guard lock(tokens_mu_);
      if (auto it = tokens_.find(connection.peer().pid); it != tokens_.end()) peer = it->second;
    }
    if (peer) (void)session->client->mute_process(*peer);
  }
  auto finish = [&] {
    {
      std::lock_guard lock(mutes_mu_);
      tails_.remove(raw);
    }
    raw->broken = true;
    ::shutdown(connection.fd(), SHUT_RDWR);  // a send blocked on a reader that stopped reading returns
    session->client.reset();
  };
  if (Status s = session->client->subscribe(types); !s) {
    finish();
    connection.send_line(error_json(s.message()).dump());
    return std::nullopt;
  }
  json names = json::array();
  for (EventType t : types) names.push_back(std::string(event_name(t)));
  if (!connection.send_line(
          json{{"ok", true}, {"streaming", true}, {"format", to_string(*format)}, {"events", names}}
              .dump())) {
    finish();
    return std::nullopt;
  }
  raw->header_sent = true;
  // Until the reader hangs up or wardd stops.
  for (;;) {
    pollfd fds[2] = {{connection.fd(), POLLIN | POLLRDHUP, 0}, {connection.stop_fd(), POLLIN, 0}};
    const int n = ::poll(fds, 2, 500);
    if (n < 0 && errno != EINTR) break;
    if (raw->broken || (fds[1].revents & POLLIN)) break;
    if (fds[0].revents & (POLLRDHUP | POLLHUP | POLLERR)) break;
    if (fds[0].revents & POLLIN) {
      char ignored[256];
      if (::recv(connection.fd(), ignored, sizeof(ignored), MSG_DONTWAIT) <= 0) break;
    }
  }
  finish();
  return std::nullopt;
}

}  // namespace ward::daemon

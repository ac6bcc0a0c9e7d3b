// wardd: the agent. On its built-in defaults it observes (monitor mode: it
// never blocks) and prints one line per event. With --policy it enforces a
// policy file through AUTH on the scopes given.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <mutex>
#include <string>

#include "output/serializer.h"
#include "policy/policy_client.h"
#include "ward/ward.h"

namespace {

std::string summary_of(const ward::Message& m) {
  const auto& p = *m.process;
  char line[512];
  if (const auto* e = m.as<ward::ExecEvent>()) {
    std::string args;
    for (const auto& a : e->args) args += (args.empty() ? "" : " ") + a;
    if (args.size() > 200) args = args.substr(0, 200) + "…";
    std::snprintf(line, sizeof(line), "%s pid=%d ppid=%d uid=%u %s [%s]%s%s",
                  m.action_type == ward::ActionType::Auth ? "auth_exec" : "exec", e->target->audit_token.pid,
                  e->target->ppid, e->target->audit_token.euid, e->target->executable.path.c_str(),
                  args.c_str(), e->target->package ? " pkg=" : "",
                  e->target->package ? e->target->package->c_str() : "");
  } else if (const auto* f = m.as<ward::ForkEvent>()) {
    std::snprintf(line, sizeof(line), "fork pid=%d child=%d %s", p.audit_token.pid, f->child->audit_token.pid,
                  p.executable.path.c_str());
  } else if (const auto* x = m.as<ward::ExitEvent>()) {
    std::snprintf(line, sizeof(line), "exit pid=%d status=%d %s", p.audit_token.pid, x->stat,
                  p.executable.path.c_str());
  } else if (const auto* r = m.as<ward::AuthResultEvent>()) {
    std::snprintf(line, sizeof(line), "%s %s pid=%d %s by=%s%s%s%s",
                  r->auth_event_type == 0 ? "exec" : "open", r->would_deny ? "would-deny" : r->result.c_str(),
                  p.audit_token.pid, r->target.c_str(), r->decided_by.c_str(),
                  r->rule.empty() ? "" : " rule=", r->rule.c_str(), r->cached ? " cached" : "");
  } else {
    std::snprintf(line, sizeof(line), "%.*s pid=%d %s",
                  static_cast<int>(ward::event_name(m.event_type).size()),
                  ward::event_name(m.event_type).data(), p.audit_token.pid, p.executable.path.c_str());
  }
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"wardd: the Ward endpoint security agent"};
  std::string sensor = "auto", format = "summary", policy_path;
  std::vector<std::string> scopes;
  uint32_t exec_deadline_ms = 5000, open_deadline_ms = 5000;
  bool fail_closed = false;
  app.add_option("--sensor", sensor, "Process sensor: auto, bpf or proc-connector")
      ->check(CLI::IsMember({"auto", "bpf", "proc-connector"}));
  app.add_option("--format", format, "Terminal output: summary (one line per event), json (eslogger), none")
      ->check(CLI::IsMember({"summary", "json", "none"}));
  app.add_option("--policy", policy_path, "Policy file (YAML) to enforce; SIGHUP reloads it");
  app.add_option("--auth-scope", scopes, "Mount(s) whose exec/open the policy decides")->type_name("PATH");
  app.add_option("--exec-deadline-ms", exec_deadline_ms, "AUTH exec deadline")
      ->check(CLI::Range(10u, 600000u));
  app.add_option("--open-deadline-ms", open_deadline_ms, "AUTH open deadline")
      ->check(CLI::Range(10u, 600000u));
  app.add_flag("--fail-closed", fail_closed, "Deny when the policy misses a deadline (default: allow)");
  CLI11_PARSE(app, argc, argv);
  if (geteuid() != 0) {
    std::fprintf(stderr, "wardd: must run as root\n");
    return 1;
  }

  // Validate everything before anything starts: a bad file leaves nothing half-started.
  std::optional<ward::policy::Policy> policy;
  if (!policy_path.empty()) {
    auto loaded = ward::policy::load_policy_file(policy_path);
    if (!loaded) {
      std::fprintf(stderr, "wardd: %s\n", loaded.status().message().c_str());
      return 2;
    }
    policy = std::move(loaded.value());
    if (scopes.empty())
      std::fprintf(stderr, "wardd: warning: --policy without --auth-scope decides nothing\n");
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ward::ClientOptions options;
  options.backend = sensor == "bpf"              ? ward::SensorBackend::Bpf
                    : sensor == "proc-connector" ? ward::SensorBackend::ProcConnector
                                                 : ward::SensorBackend::Auto;
  options.deadline_miss_mode =
      fail_closed ? ward::DeadlineMissMode::FailClosed : ward::DeadlineMissMode::FailOpen;
  ward::AuthOptions auth;
  auth.exec_deadline_ms = exec_deadline_ms;
  auth.open_deadline_ms = open_deadline_ms;
  ward::Client::set_auth_options(auth);

  auto serializer = ward::output::make_eslogger_json_serializer();
  std::mutex out_mu;
  std::string line;
  auto observer = ward::Client::create(
      [&](const ward::Message& m) {
        if (format == "none") return;
        std::lock_guard lock(out_mu);
        line.clear();
        if (format == "json")
          serializer->serialize(m, line);
        else
          line = summary_of(m);
        line.push_back('\n');
        std::fwrite(line.data(), 1, line.size(), stdout);
      },
      options);
  if (!observer) {
    std::fprintf(stderr, "wardd: %s\n", observer.status().message().c_str());
    return 1;
  }
  observer.value()->mute_process_id_in_kernel(getpid());
  observer.value()->set_drained_handler([] { std::fflush(stdout); });
  observer.value()->set_drop_handler([&](const ward::DropReport& d) {
    std::lock_guard lock(out_mu);
    line.clear();
    serializer->serialize_drop(d, line);
    std::fprintf(stdout, "%s\n", line.c_str());
  });
  std::vector<ward::EventType> notify;
  for (const auto& info : ward::kEventTypes)
    if (info.action == ward::ActionType::Notify) notify.push_back(info.type);
  if (auto s = observer.value()->subscribe(notify); !s) {
    std::fprintf(stderr, "wardd: %s\n", s.message().c_str());
    return 1;
  }

  std::unique_ptr<ward::policy::PolicyClient> enforcer;
  if (policy) {
    auto created = ward::policy::PolicyClient::create(std::move(*policy), options);
    if (!created) {
      std::fprintf(stderr, "wardd: %s\n", created.status().message().c_str());
      return 1;
    }
    enforcer = std::move(created.value());
    for (const auto& s : scopes)
      if (auto st = enforcer->client().add_auth_scope(s, ward::AuthScope::Mount); !st) {
        std::fprintf(stderr, "wardd: %s\n", st.message().c_str());
        return 1;
      }
  }

  auto report = observer.value()->sensors();
  std::fprintf(stderr, "wardd: running (%s; sensors: %s)\n",
               enforcer ? (enforcer->policy()->mode == ward::policy::Mode::Lockdown ? "lockdown" : "monitor")
                        : "monitor, no policy",
               report.active.c_str());
  for (const auto& m : report.missing) std::fprintf(stderr, "wardd: unavailable: %s\n", m.c_str());

  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig != SIGHUP) break;
    if (!enforcer) {
      std::fprintf(stderr, "wardd: SIGHUP: no policy file to reload\n");
      continue;
    }
    ward::Status s = enforcer->reload(policy_path);
    if (s)
      std::fprintf(stderr, "wardd: policy reloaded from %s\n", policy_path.c_str());
    else
      std::fprintf(stderr, "wardd: policy NOT reloaded, the previous one stays in force: %s\n",
                   s.message().c_str());
  }
  std::fprintf(stderr, "wardd: stopping\n");
  return 0;
}

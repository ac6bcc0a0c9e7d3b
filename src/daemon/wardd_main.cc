// wardd: the agent. With no config file it runs on the built-in defaults
// (daemon/config.h): monitor mode, every process and file event into the
// embedded store and a one-line summary per event on stdout. A config file
// (--config, see packaging/wardd.yaml) changes that; command-line flags
// override the file. SIGHUP reloads the policy file; SIGINT/SIGTERM stop.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <string>

#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/sd_notify.h"
#include "tamper/wardd_protection.h"

namespace {

using ward::daemon::DaemonConfig;
using ward::daemon::RecordFormat;
using ward::daemon::StdoutOutput;

// --format: the terminal output ("none" removes it).
void set_stdout_format(DaemonConfig& config, const std::string& format) {
  auto is_stdout = [](const ward::daemon::Output& o) { return std::holds_alternative<StdoutOutput>(o.sink); };
  if (format == "none") {
    std::erase_if(config.outputs, is_stdout);
    return;
  }
  const RecordFormat f = *ward::daemon::record_format_from_name(format);
  for (auto& o : config.outputs)
    if (is_stdout(o)) {
      std::get<StdoutOutput>(o.sink).format = f;
      return;
    }
  config.outputs.insert(config.outputs.begin(), ward::daemon::Output{StdoutOutput{f}, {}, 0});
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"wardd: the Ward endpoint security agent"};
  std::string config_path, sensor, format, policy_path, mode, control_socket, metrics_listen;
  std::vector<std::string> scopes;
  uint32_t exec_deadline_ms = 0, open_deadline_ms = 0;
  bool fail_closed = false, check_only = false, no_store = false, no_metrics = false;
  app.add_option("-c,--config", config_path, "Config file (YAML); without one, the built-in defaults")
      ->check(CLI::ExistingFile);
  app.add_flag("--check-config", check_only, "Validate the config (and the policy file it names), then exit");
  auto* sensor_opt = app.add_option("--sensor", sensor, "Process sensor: auto, bpf or proc-connector")
                         ->check(CLI::IsMember({"auto", "bpf", "proc-connector"}));
  auto* format_opt = app.add_option("--format", format,
                                    "Terminal output: summary, json (eslogger), eslogger, ecs, ocsf or none")
                         ->check(CLI::IsMember({"summary", "json", "eslogger", "ecs", "ocsf", "none"}));
  auto* policy_opt =
      app.add_option("--policy", policy_path, "Policy file (YAML) to enforce; SIGHUP reloads it");
  auto* mode_opt = app.add_option("--mode", mode, "monitor or lockdown: overrides the policy file's mode")
                       ->check(CLI::IsMember({"monitor", "lockdown"}));
  auto* scope_opt = app.add_option("--auth-scope", scopes,
                                   "Mount(s) whose exec/open the policy decides (replaces auth.scopes)")
                        ->type_name("PATH");
  auto* exec_opt = app.add_option("--exec-deadline-ms", exec_deadline_ms, "AUTH exec deadline")
                       ->check(CLI::Range(10u, 600000u));
  auto* open_opt = app.add_option("--open-deadline-ms", open_deadline_ms, "AUTH open deadline")
                       ->check(CLI::Range(10u, 600000u));
  app.add_flag("--fail-closed", fail_closed, "Deny when the policy misses a deadline (default: allow)");
  auto* socket_opt =
      app.add_option("--control-socket", control_socket, "Control socket path for `ward`")->type_name("PATH");
  auto* metrics_opt = app.add_option("--metrics-listen", metrics_listen, "Prometheus endpoint HOST:PORT")
                          ->type_name("HOST:PORT");
  app.add_flag("--no-metrics", no_metrics, "No Prometheus endpoint");
  app.add_flag("--no-store", no_store, "No embedded event store output");
  ward::tamper::WarddProtectionFlags protection_flags;
  ward::tamper::add_self_protection_options(app, protection_flags);
  CLI11_PARSE(app, argc, argv);

  // The config: the file (or the defaults), then the flags on top.
  DaemonConfig config = ward::daemon::default_config();
  if (!config_path.empty()) {
    auto loaded = ward::daemon::load_config_file(config_path);
    if (!loaded) {
      std::fprintf(stderr, "wardd: %s\n", loaded.status().message().c_str());
      return 2;
    }
    config = std::move(loaded.value());
  }
  if (sensor_opt->count())
    config.backend = sensor == "bpf"              ? ward::SensorBackend::Bpf
                     : sensor == "proc-connector" ? ward::SensorBackend::ProcConnector
                                                  : ward::SensorBackend::Auto;
  if (format_opt->count()) set_stdout_format(config, format);
  if (policy_opt->count()) config.policy_file = std::filesystem::absolute(policy_path).string();
  if (mode_opt->count())
    config.mode = mode == "lockdown" ? ward::policy::Mode::Lockdown : ward::policy::Mode::Monitor;
  if (scope_opt->count()) {
    config.auth_scopes.clear();
    for (const auto& s : scopes)
      config.auth_scopes.push_back({std::filesystem::absolute(s).string(), ward::AuthScope::Mount});
  }
  if (exec_opt->count()) config.exec_deadline_ms = exec_deadline_ms;
  if (open_opt->count()) config.open_deadline_ms = open_deadline_ms;
  if (fail_closed) config.fail_mode = ward::DeadlineMissMode::FailClosed;
  if (socket_opt->count()) {
    if (control_socket.empty() || control_socket == "none") {
      config.control_enabled = false;
    } else {
      config.control_socket = std::filesystem::absolute(control_socket).string();
      config.control_enabled = true;
    }
  }
  if (metrics_opt->count()) {
    if (std::string why = ward::daemon::check_listen_address(metrics_listen); !why.empty()) {
      std::fprintf(stderr, "wardd: --metrics-listen: %s\n", why.c_str());
      return 2;
    }
    config.metrics_listen = metrics_listen;
    config.metrics_enabled = true;
  }
  if (no_metrics) config.metrics_enabled = false;
  if (no_store)
    std::erase_if(config.outputs,
                  [](const auto& o) { return std::holds_alternative<ward::daemon::StoreOutput>(o.sink); });

  if (check_only) {
    if (!config.policy_file.empty()) {
      auto policy = ward::policy::load_policy_file(config.policy_file);
      if (!policy) {
        std::fprintf(stderr, "wardd: %s\n", policy.status().message().c_str());
        return 2;
      }
    }
    std::printf("wardd: %s: config OK (%zu outputs)\n", config.source.c_str(), config.outputs.size());
    return 0;
  }
  if (geteuid() != 0) {
    std::fprintf(stderr, "wardd: must run as root\n");
    return 1;
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A terminal or pipe that goes away shows up as counted write errors.
  signal(SIGPIPE, SIG_IGN);

  int exit_code = 1;
  // Anti-tamper first, so that the daemon's sensor report names its guards.
  auto protection = ward::tamper::start_for_wardd(protection_flags, config, config_path);
  if (!protection) {
    std::fprintf(stderr, "wardd: %s\n", protection.status().message().c_str());
    return 1;
  }
  auto daemon = ward::daemon::Daemon::start(config, exit_code);
  if (!daemon) {
    std::fprintf(stderr, "wardd: %s\n", daemon.status().message().c_str());
    return exit_code;
  }
  protection.value()->release_history();  // the outputs subscribe in Daemon::start
  daemon.value()->set_self_protection_status(protection.value()->status_lines());
  std::fprintf(stderr, "wardd: running (%s)\n", daemon.value()->description().c_str());
  for (const auto& m : daemon.value()->sensors().missing)
    std::fprintf(stderr, "wardd: unavailable: %s\n", m.c_str());
  for (const auto& line : protection.value()->status_lines())
    std::fprintf(stderr, "wardd: %s\n", line.c_str());
  if (config.control_enabled)
    std::fprintf(stderr, "wardd: control socket %s\n", config.control_socket.c_str());
  if (config.metrics_enabled)
    std::fprintf(stderr, "wardd: metrics on %s\n", daemon.value()->metrics_url().c_str());
  bool has_store = false;
  for (const auto& o : config.outputs)
    has_store = has_store || std::holds_alternative<ward::daemon::StoreOutput>(o.sink);
  for (const auto& o : config.outputs)
    if (const auto* s = std::get_if<ward::daemon::StoreOutput>(&o.sink))
      std::fprintf(stderr, "wardd: event store %s (ward query reads it)\n", s->path.c_str());
  if (!has_store) std::fprintf(stderr, "wardd: no event store output configured\n");
  ward::daemon::notify_systemd("READY=1\nSTATUS=" + daemon.value()->description());

  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig != SIGHUP) break;
    ward::daemon::notify_systemd("RELOADING=1");
    ward::Status s = daemon.value()->reload_policy();
    if (s)
      std::fprintf(stderr, "wardd: policy reloaded from %s\n", config.policy_file.c_str());
    else if (config.policy_file.empty())
      std::fprintf(stderr, "wardd: SIGHUP: no policy file to reload\n");
    else
      std::fprintf(stderr, "wardd: policy NOT reloaded, the previous one stays in force: %s\n",
                   s.message().c_str());
    ward::daemon::notify_systemd("READY=1");
  }
  ward::daemon::notify_systemd("STOPPING=1");
  std::fprintf(stderr, "wardd: stopping\n");
  daemon.value().reset();
  return 0;
}

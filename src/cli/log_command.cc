#include "cli/log_command.h"

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <string>

#include "output/serializer.h"
#include "ward/ward.h"

namespace ward::cli {
namespace {

std::atomic<bool> g_output_broken{false};

// Writes all of `buf` to stdout; on a closed pipe, asks main to stop.
void write_out(std::string& buf) {
  std::size_t off = 0;
  while (off < buf.size() && !g_output_broken) {
    ssize_t n = ::write(STDOUT_FILENO, buf.data() + off, buf.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      g_output_broken = true;
      kill(getpid(), SIGTERM);
      break;
    }
    off += static_cast<std::size_t>(n);
  }
  buf.clear();
}

std::optional<SensorBackend> backend_of(const std::string& name) {
  if (name == "auto") return SensorBackend::Auto;
  if (name == "bpf") return SensorBackend::Bpf;
  if (name == "proc-connector") return SensorBackend::ProcConnector;
  return std::nullopt;
}

void print_list() {
  std::printf("%-24s %-6s %-7s %s\n", "NAME", "ES#", "ACTION", "AUTH-CAPABLE");
  for (const auto& info : kEventTypes)
    std::printf("%-24.*s %-6u %-7s %s\n", static_cast<int>(info.name.size()), info.name.data(),
                info.es_number, info.action == ActionType::Auth ? "auth" : "notify",
                info.auth_capable ? "yes" : "no");
}

}  // namespace

void add_log_command(CLI::App& app, LogOptions& options, int& exit_code) {
  auto* log = app.add_subcommand("log", "Stream events as JSON Lines (like eslogger)");
  log->add_option("events", options.events, "Event names, e.g. exec fork exit (see --list)");
  log->add_flag("--list", options.list, "List the event names and exit");
  log->add_flag("--env", options.env, "Capture the environment of exec (off by default)");
  log->add_option("--sensor", options.sensor, "Process sensor: auto, bpf or proc-connector")
      ->check(CLI::IsMember({"auto", "bpf", "proc-connector"}));
  log->add_option("--queue-size", options.queue_size,
                  "Messages held for a slow stdout before they are dropped (and reported)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24));
  log->callback([&] { exit_code = run_log(options); });
}

int run_log(const LogOptions& options) {
  if (options.list) {
    print_list();
    return 0;
  }
  if (options.events.empty()) {
    std::fprintf(stderr, "ward log: name at least one event (ward log --list shows them)\n");
    return 2;
  }
  std::vector<EventType> types;
  for (const auto& name : options.events) {
    auto t = event_type_from_name(name);
    if (!t) {
      std::fprintf(stderr, "ward log: unknown event '%s' (ward log --list shows the names)\n", name.c_str());
      return 2;
    }
    if (event_info(*t)->action == ActionType::Auth) {
      // An observer must not hold processes waiting for an answer.
      std::fprintf(stderr, "ward log: '%s' is an AUTH event; ward log only observes (log auth_result instead)\n",
                   name.c_str());
      return 2;
    }
    types.push_back(*t);
  }
  if (geteuid() != 0) {
    std::fprintf(stderr, "ward log: must run as root\n");
    return 1;
  }

  // Signals are taken by sigwait below; every thread started after this
  // inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto serializer = output::make_eslogger_json_serializer();
  std::string buffer;
  buffer.reserve(1 << 20);

  ClientOptions copts;
  copts.backend = *backend_of(options.sensor);
  copts.capture_env = options.env;
  copts.queue_capacity = options.queue_size;
  auto created = Client::create(
      [&](const Message& m) {
        serializer->serialize(m, buffer);
        buffer.push_back('\n');
        if (buffer.size() >= (1 << 20)) write_out(buffer);
      },
      copts);
  if (!created) {
    std::fprintf(stderr, "ward log: %s\n", created.status().message().c_str());
    return 1;
  }
  auto& client = created.value();
  client->set_drop_handler([&](const DropReport& d) {
    serializer->serialize_drop(d, buffer);
    buffer.push_back('\n');
  });
  client->set_drained_handler([&] { write_out(buffer); });

  // Our own events would echo forever through a pipe (`ward log | jq`): mute
  // our process group when we lead it (a shell job), else just ourselves.
  Status muted = getpgrp() == getpid() ? client->mute_process_group_in_kernel(getpgrp())
                                       : client->mute_process_id_in_kernel(getpid());
  if (!muted) std::fprintf(stderr, "ward log: warning: could not mute self: %s\n", muted.message().c_str());

  if (Status s = client->subscribe(types); !s) {
    std::fprintf(stderr, "ward log: %s\n", s.message().c_str());
    return 1;
  }
  SensorReport report = client->sensors();
  std::string names;
  for (const auto& n : options.events) names += (names.empty() ? "" : ", ") + n;
  std::fprintf(stderr, "ward log: streaming %s (sensor: %s)\n", names.c_str(), report.active.c_str());
  for (const auto& m : report.missing) std::fprintf(stderr, "ward log: unavailable: %s\n", m.c_str());

  int sig = 0;
  sigwait(&stop_signals, &sig);
  ClientStats stats = client->stats();
  client.reset();  // joins the client thread, detaches every BPF program
  write_out(buffer);
  if (stats.kernel_drops || stats.queue_drops)
    std::fprintf(stderr, "ward log: %llu events lost in the kernel, %llu in the queue\n",
                 static_cast<unsigned long long>(stats.kernel_drops),
                 static_cast<unsigned long long>(stats.queue_drops));
  return 0;
}

}  // namespace ward::cli

// wardd: the agent. For now it runs the process sensors on built-in defaults
// (monitor mode: observe, never block) and prints one line per event.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "ward/ward.h"

namespace {

void summarize(const ward::Message& m) {
  const auto& p = *m.process;
  if (const auto* e = m.as<ward::ExecEvent>()) {
    std::string args;
    for (const auto& a : e->args) args += (args.empty() ? "" : " ") + a;
    std::printf("exec  pid=%d ppid=%d uid=%u %s [%s]%s\n", e->target->audit_token.pid, e->target->ppid,
                e->target->audit_token.euid, e->target->executable.path.c_str(), args.c_str(),
                e->target->package ? (" pkg=" + *e->target->package).c_str() : "");
  } else if (const auto* f = m.as<ward::ForkEvent>()) {
    std::printf("fork  pid=%d child=%d %s\n", p.audit_token.pid, f->child->audit_token.pid,
                p.executable.path.c_str());
  } else if (const auto* x = m.as<ward::ExitEvent>()) {
    std::printf("exit  pid=%d status=%d %s\n", p.audit_token.pid, x->stat, p.executable.path.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"wardd: the Ward endpoint security agent"};
  std::string sensor = "auto";
  app.add_option("--sensor", sensor, "Process sensor: auto, bpf or proc-connector")
      ->check(CLI::IsMember({"auto", "bpf", "proc-connector"}));
  CLI11_PARSE(app, argc, argv);
  if (geteuid() != 0) {
    std::fprintf(stderr, "wardd: must run as root\n");
    return 1;
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  setvbuf(stdout, nullptr, _IOLBF, 0);

  ward::ClientOptions options;
  options.backend = sensor == "bpf"              ? ward::SensorBackend::Bpf
                    : sensor == "proc-connector" ? ward::SensorBackend::ProcConnector
                                                 : ward::SensorBackend::Auto;
  auto client = ward::Client::create(summarize, options);
  if (!client) {
    std::fprintf(stderr, "wardd: %s\n", client.status().message().c_str());
    return 1;
  }
  client.value()->mute_process_id_in_kernel(getpid());
  client.value()->set_drop_handler([](const ward::DropReport& d) {
    std::printf("drop  %llu events (%s)\n", static_cast<unsigned long long>(d.count), d.source.c_str());
  });
  std::vector<ward::EventType> all;
  for (const auto& info : ward::kEventTypes) all.push_back(info.type);
  client.value()->subscribe(all);
  auto report = client.value()->sensors();
  std::fprintf(stderr, "wardd: running in monitor mode (sensor: %s)\n", report.active.c_str());
  for (const auto& m : report.missing) std::fprintf(stderr, "wardd: unavailable: %s\n", m.c_str());
  int sig = 0;
  sigwait(&stop, &sig);
  std::fprintf(stderr, "wardd: stopping\n");
  return 0;
}

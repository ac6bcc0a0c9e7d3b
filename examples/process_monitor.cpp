// process_monitor: Objective-See's ProcessMonitor on Ward's public API.
// Prints one JSON object per exec, fork and exit, with the process, its
// arguments, ancestry and identity (sha256, package, platform binary).
//
//   sudo ./process_monitor [--pretty]
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "ward/ward.h"

using nlohmann::json;

static json describe(const ward::Process& p) {
  json j = {{"pid", p.audit_token.pid},
            {"pidversion", p.audit_token.pidversion},
            {"ppid", p.ppid},
            {"original_ppid", p.original_ppid},
            {"uid", p.audit_token.euid},
            {"path", p.executable.path},
            {"platform_binary", p.is_platform_binary}};
  if (p.package) j["package"] = *p.package;
  if (p.sha256) j["sha256"] = *p.sha256;
  for (const auto& a : p.ancestors) j["ancestors"].push_back({{"pid", a.audit_token.pid}, {"path", a.path}});
  return j;
}

int main(int argc, char** argv) {
  const bool pretty = argc > 1 && std::strcmp(argv[1], "--pretty") == 0;
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // threads started below inherit it

  auto client = ward::Client::create([pretty](const ward::Message& m) {
    json out = {{"event", std::string(ward::event_name(m.event_type))}, {"timestamp_ns", m.time_ns}};
    if (const auto* e = m.as<ward::ExecEvent>()) {
      out["process"] = describe(*e->target);
      out["process"]["arguments"] = e->args;
      out["process"]["cwd"] = e->cwd.path;
    } else if (const auto* f = m.as<ward::ForkEvent>()) {
      out["process"] = describe(*f->child);
    } else if (const auto* x = m.as<ward::ExitEvent>()) {
      out["process"] = describe(*m.process);
      out["process"]["exit_code"] = x->stat;
    }
    std::puts(out.dump(pretty ? 2 : -1, ' ', false, json::error_handler_t::replace).c_str());
    std::fflush(stdout);
  });
  if (!client) {
    std::fprintf(stderr, "process_monitor: %s\n", client.status().message().c_str());
    return 1;
  }
  client.value()->subscribe(
      {ward::EventType::NotifyExec, ward::EventType::NotifyFork, ward::EventType::NotifyExit});
  int sig = 0;
  sigwait(&stop, &sig);
  return 0;
}

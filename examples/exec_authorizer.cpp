// exec_authorizer: a minimal binary authorizer on Ward's AUTH_EXEC — deny
// executables by sha256 or path, allow (and cache) the rest.
//
//   sudo ./exec_authorizer [--deny-sha256 HEX]... [--deny-path PATH]... DIR...
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "ward/ward.h"

int main(int argc, char** argv) {
  std::set<std::string> deny_sha, deny_path;
  std::vector<std::string> scopes;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--deny-sha256") && i + 1 < argc)
      deny_sha.insert(argv[++i]);
    else if (!std::strcmp(argv[i], "--deny-path") && i + 1 < argc)
      deny_path.insert(argv[++i]);
    else
      scopes.emplace_back(argv[i]);
  }
  if (scopes.empty()) {
    std::fprintf(stderr, "usage: %s [--deny-sha256 HEX]... [--deny-path PATH]... DIR...\n", argv[0]);
    return 2;
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  ward::Client* self = nullptr;
  auto client = ward::Client::create([&](const ward::Message& m) {
    const auto* exec = m.as<ward::ExecEvent>();
    if (!exec) return;
    const auto& target = *exec->target;
    bool by_hash = target.sha256 && deny_sha.count(*target.sha256);
    bool by_path = deny_path.count(target.executable.path) != 0;
    std::printf("%s %s%s\n", by_hash || by_path ? "deny " : "allow", target.executable.path.c_str(),
                by_hash ? " (sha256)" : by_path ? " (path)" : "");
    std::fflush(stdout);
    // A decision that depends only on the file: cacheable either way, and
    // Ward never caches a deny.
    self->respond(m, by_hash || by_path ? ward::AuthResult::Deny : ward::AuthResult::Allow, true);
  });
  if (!client) {
    std::fprintf(stderr, "exec_authorizer: %s\n", client.status().message().c_str());
    return 1;
  }
  self = client.value().get();
  self->subscribe({ward::EventType::AuthExec});
  for (const auto& s : scopes)
    if (auto st = self->add_auth_scope(s, ward::AuthScope::Mount); !st) {
      std::fprintf(stderr, "exec_authorizer: %s\n", st.message().c_str());
      return 1;
    }
  std::fprintf(stderr, "exec_authorizer: ready\n");
  int sig = 0;
  sigwait(&stop, &sig);
  return 0;
}

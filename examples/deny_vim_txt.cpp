// deny_vim_txt: the classic Endpoint Security sample on Ward — vim may not
// open *.txt files; everything else is allowed.
//
//   sudo ./deny_vim_txt DIR...     (AUTH on the mounts holding each DIR)
#include <signal.h>

#include <cstdio>
#include <string_view>

#include "ward/ward.h"

static bool is_vim(std::string_view exe) {
  auto base = exe.substr(exe.rfind('/') + 1);
  return base == "vim" || base.starts_with("vim.") || base == "vi";
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR...\n", argv[0]);
    return 2;
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  ward::Client* self = nullptr;
  auto client = ward::Client::create([&self](const ward::Message& m) {
    const auto* open = m.as<ward::OpenEvent>();
    if (!open) return;
    const std::string& path = open->file.path;
    bool txt = path.size() > 4 && path.ends_with(".txt");
    if (txt && is_vim(m.process->executable.path)) {
      std::printf("deny %s opening %s\n", m.process->executable.path.c_str(), path.c_str());
      std::fflush(stdout);
      self->respond(m, ward::AuthResult::Deny, false, {"deny-vim-txt", false});
      return;
    }
    // Allowed for every process unless it is a .txt: only then cacheable.
    self->respond(m, ward::AuthResult::Allow, !txt);
  });
  if (!client) {
    std::fprintf(stderr, "deny_vim_txt: %s\n", client.status().message().c_str());
    return 1;
  }
  self = client.value().get();
  if (auto s = self->subscribe({ward::EventType::AuthOpen}); !s) {
    std::fprintf(stderr, "deny_vim_txt: %s\n", s.message().c_str());
    return 1;
  }
  for (int i = 1; i < argc; ++i)
    if (auto s = self->add_auth_scope(argv[i], ward::AuthScope::Mount); !s) {
      std::fprintf(stderr, "deny_vim_txt: %s\n", s.message().c_str());
      return 1;
    }
  std::fprintf(stderr, "deny_vim_txt: ready\n");
  int sig = 0;
  sigwait(&stop, &sig);
  return 0;
}

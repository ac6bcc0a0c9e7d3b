// `ward unlock <token>`: lifts wardd's self-protection (see tamper/unlock.h).
// Header-only: it needs CLI11, which only the CLI links.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "tamper/unlock.h"

namespace ward::tamper {

inline void add_unlock_command(CLI::App& app, int& exit_code) {
  struct Args {
    std::string token, socket = kDefaultUnlockSocket;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "unlock", "Lift wardd's self-protection with its unlock token, until wardd restarts (then it can be stopped)");
  cmd->add_option("token", args->token, "The token ('-': read it from stdin, which keeps it out of ps)")
      ->required();
  cmd->add_option("--socket", args->socket, "wardd's unlock socket")->type_name("PATH");
  cmd->callback([args, &exit_code] {
    std::string token = args->token;
    if (token == "-" && !std::getline(std::cin, token)) token.clear();
    Status s = request_unlock(args->socket, token);
    if (s) {
      std::fprintf(stderr, "ward: unlocked: wardd can be stopped until it restarts\n");
      exit_code = 0;
    } else {
      std::fprintf(stderr, "ward unlock: %s\n", s.message().c_str());
      exit_code = 1;
    }
  });
}

}  // namespace ward::tamper

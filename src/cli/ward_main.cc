// ward: the command-line front end.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "cli/agent_commands.h"
#include "cli/log_command.h"
#include "tamper/unlock_command.h"

int main(int argc, char** argv) {
  CLI::App app{"ward: endpoint security for Linux"};
  app.require_subcommand(1);
  int exit_code = 0;
  ward::cli::LogOptions log_options;
  ward::cli::add_log_command(app, log_options, exit_code);
  ward::cli::add_agent_commands(app, exit_code);
  ward::tamper::add_unlock_command(app, exit_code);
  // CLI11 reports an unknown word as "A subcommand is required"; name it.
  // The first word that is neither an option nor an option's value is the command.
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    if (arg[0] == '-') {
      const std::string name = arg.substr(0, arg.find('='));
      const CLI::Option* opt = app.get_option_no_throw(name);
      if (opt != nullptr && opt->get_type_size() > 0 && name.size() == arg.size()) ++i;
      continue;
    }
    std::string known;
    bool found = false;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      found = found || sub->check_name(arg);
      known += (known.empty() ? "" : ", ") + sub->get_name();
    }
    if (!found) {
      std::fprintf(stderr, "ward: unknown command '%s' (commands: %s)\n", arg.c_str(), known.c_str());
      return 2;
    }
    break;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}

// ward: the command-line front end.
#include <CLI/CLI.hpp>

#include "cli/log_command.h"

int main(int argc, char** argv) {
  CLI::App app{"ward: endpoint security for Linux"};
  app.require_subcommand(1);
  int exit_code = 0;
  ward::cli::LogOptions log_options;
  ward::cli::add_log_command(app, log_options, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}

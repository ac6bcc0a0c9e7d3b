// The `ward` commands that talk to wardd over its control socket: status,
// rules, mute/unmute, tail; and query, which reads the event store wardd
// writes (read-only SQL).
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace ward::cli {

// Adds the subcommands to `app`; each sets `exit_code` when it runs.
void add_agent_commands(CLI::App& app, int& exit_code);

}  // namespace ward::cli

// `ward log EVENT...`: Ward's eslogger. Streams JSON Lines to stdout.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace ward::cli {

struct LogOptions {
  std::vector<std::string> events;
  bool list = false;
  bool env = false;
  std::string sensor = "auto";
  std::size_t queue_size = 1 << 16;
};

void add_log_command(CLI::App& app, LogOptions& options, int& exit_code);
int run_log(const LogOptions& options);

}  // namespace ward::cli

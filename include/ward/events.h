// Per-event payloads. Each struct lists its fields once (fields()); the
// serializers and golden files follow from that list.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ward/fields.h"
#include "ward/process.h"

namespace ward {

// exec: `target` is the new image (same pid, new pidversion); the message's
// process is the image that called execve.
struct ExecEvent {
  static constexpr std::string_view kKey = "exec";  // its key in event{}
  ProcessPtr target;
  std::vector<std::string> args;
  bool args_truncated = false;
  std::optional<std::vector<std::string>> env;  // only when env capture is on
  bool env_truncated = false;
  File cwd;
  std::optional<File> script;  // the #! script when an interpreter was run

  static constexpr auto fields() {
    return std::make_tuple(field("target", &ExecEvent::target), field("args", &ExecEvent::args),
                           field("args_truncated", &ExecEvent::args_truncated), field("env", &ExecEvent::env),
                           field("env_truncated", &ExecEvent::env_truncated), field("cwd", &ExecEvent::cwd),
                           field("script", &ExecEvent::script));
  }
};

struct ForkEvent {
  static constexpr std::string_view kKey = "fork";
  ProcessPtr child;
  static constexpr auto fields() { return std::make_tuple(field("child", &ForkEvent::child)); }
};

struct ExitEvent {
  static constexpr std::string_view kKey = "exit";
  int32_t stat = 0;  // wait(2)-style status: WIFEXITED/WEXITSTATUS apply
  static constexpr auto fields() { return std::make_tuple(field("stat", &ExitEvent::stat)); }
};

using Event = std::variant<ExecEvent, ForkEvent, ExitEvent>;

}  // namespace ward

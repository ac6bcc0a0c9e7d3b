// A snapshot of wardd's counters: what `ward status` prints and the
// Prometheus endpoint exposes. Taken on demand; every field is read from
// the component that counts it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "daemon/outputs.h"
#include "ward/client.h"
#include "ward/event_table.h"

namespace ward::daemon {

struct DaemonStats {
  std::array<uint64_t, kEventTypes.size()> events_by_type{};  // delivered to the outputs' client
  std::map<std::string, uint64_t> drops_by_source;            // events lost, by DropReport::source
  ClientStats observer;                                       // the outputs' client
  std::optional<ClientStats> enforcer;                        // the policy's client
  AuthStats auth;
  // auth_result events by (auth event "exec"/"open", result, decided_by).
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> auth_decisions;
  std::vector<SinkStatus> sinks;
  uint64_t tail_sessions = 0;
  uint64_t policy_reloads = 0;
  uint64_t policy_reload_failures = 0;
  uint64_t control_requests = 0;
  double start_time_seconds = 0;  // since the epoch
};

}  // namespace ward::daemon

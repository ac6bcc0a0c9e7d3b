// wardd's configuration: a YAML file (packaging/wardd.yaml is the documented
// default), every key optional. Without a file wardd runs on
// default_config(): monitor mode, every process and file event (and AUTH
// decisions) into the embedded store and a one-line summary of the process
// events and AUTH decisions on stdout.
//
//   mode: monitor | lockdown        # overrides the policy file's mode; unset: the file's (or monitor)
//   policy_file: /etc/ward/policy.yaml   # unset: no policy (nothing is blocked)
//   auth:
//     scopes: [/srv, {path: /data, type: filesystem}]   # type: mount (default) | filesystem | directory
//     exec_deadline_ms: 5000        # 10 .. 600000
//     open_deadline_ms: 5000
//     fail_mode: open               # open | closed: the answer when the policy misses a deadline
//   sensor:
//     backend: auto                 # auto | bpf | proc-connector
//     capture_env: false
//     queue_capacity: 65536         # messages waiting for the outputs (1024 .. 16777216)
//   events: [process, file, auth_result]   # groups (process, file, system, network, all) or event names
//   outputs:                        # replaces the default list when present ([] = none)
//     - {type: stdout, format: summary, events: [process, auth_result]}   # summary | eslogger | ecs | ocsf
//     - {type: file, path: /var/log/ward/events.json, max_bytes: 64MiB, keep: 5, format: eslogger}
//     - {type: syslog, socket: /dev/log, protocol: rfc5424, format: eslogger}
//     - {type: store, path: /var/lib/ward/events.db, retention_days: 30, max_bytes: 1GiB}
//     - {type: nats, servers: [nats://127.0.0.1:4222], subject: "ward.events.{event_name}",
//        stream: WARD_EVENTS, spool_dir: /var/lib/ward/spool, spool_max_bytes: 256MiB,
//        spool_full: drop_oldest}       # drop_oldest | block_notify
//     Every output also takes `events:` (a subset for that output) and `format`.
//   metrics: {enabled: true, listen: "127.0.0.1:9464"}   # Prometheus text on /metrics
//   control: {enabled: true, socket: /run/ward/control.sock}
//
// Sizes are bytes, or a number with K/M/G/KiB/MiB/GiB (powers of 1024).
// Validation is all or nothing: the first error, as "FILE:LINE: KEY: reason",
// e.g. "wardd.yaml:7: outputs[1].format: bad value 'xml' (expected one of: …)".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "output/spool.h"
#include "policy/policy.h"
#include "ward/client.h"
#include "ward/event_table.h"
#include "ward/status.h"

namespace ward::daemon {

// How a sink's records are written. Summary is the terminal's one line per
// event; the others are the serializers of src/output/.
enum class RecordFormat : uint8_t { Summary, Eslogger, Ecs, Ocsf };
std::string_view to_string(RecordFormat format);
std::optional<RecordFormat> record_format_from_name(std::string_view name);  // also "json"

struct StdoutOutput {
  RecordFormat format = RecordFormat::Summary;
  bool operator==(const StdoutOutput&) const = default;
};

struct FileOutput {
  std::string path;
  uint64_t max_bytes = 64ull << 20;
  unsigned keep = 5;  // files, the current one included
  RecordFormat format = RecordFormat::Eslogger;
  bool operator==(const FileOutput&) const = default;
};

struct SyslogOutput {
  std::string socket = "/dev/log";
  bool rfc3164 = false;  // protocol: rfc5424 (default) | rfc3164
  RecordFormat format = RecordFormat::Eslogger;
  bool operator==(const SyslogOutput&) const = default;
};

struct StoreOutput {
  std::string path = "/var/lib/ward/events.db";
  uint32_t retention_days = 30;     // 0: no age limit
  uint64_t max_bytes = 1ull << 30;  // 0: no size limit
  RecordFormat format = RecordFormat::Eslogger;
  bool operator==(const StoreOutput&) const = default;
};

struct NatsOutput {
  std::vector<std::string> servers = {"nats://127.0.0.1:4222"};
  std::string subject = "ward.events.{event_name}";
  std::string stream = "WARD_EVENTS";
  std::string spool_dir = "/var/lib/ward/spool";
  uint64_t spool_max_bytes = 256ull << 20;
  output::SpoolFullPolicy spool_full = output::SpoolFullPolicy::kDropOldest;
  RecordFormat format = RecordFormat::Eslogger;
  bool operator==(const NatsOutput&) const = default;
};

struct Output {
  std::variant<StdoutOutput, FileOutput, SyslogOutput, StoreOutput, NatsOutput> sink;
  std::vector<EventType> events;  // empty: the daemon-wide `events`
  int line = 0;                   // in the config file; 0 for built-in defaults
  bool operator==(const Output& other) const { return sink == other.sink && events == other.events; }
};
std::string_view output_type_name(const Output& output);  // "stdout", "file", …
RecordFormat output_format(const Output& output);

struct AuthScopeConfig {
  std::string path;
  AuthScope type = AuthScope::Mount;
  bool operator==(const AuthScopeConfig&) const = default;
};

struct DaemonConfig {
  std::string source = "built-in defaults";  // the file it came from
  std::optional<policy::Mode> mode;
  std::string policy_file;

  std::vector<AuthScopeConfig> auth_scopes;
  uint32_t exec_deadline_ms = 5000;
  uint32_t open_deadline_ms = 5000;
  DeadlineMissMode fail_mode = DeadlineMissMode::FailOpen;

  SensorBackend backend = SensorBackend::Auto;
  bool capture_env = false;
  std::size_t queue_capacity = 1 << 16;

  std::vector<EventType> events;  // NOTIFY types the outputs get
  std::vector<Output> outputs;

  bool metrics_enabled = true;
  std::string metrics_listen = "127.0.0.1:9464";
  bool control_enabled = true;
  std::string control_socket = "/run/ward/control.sock";

  // Equal in everything but `source` and the outputs' lines.
  bool same_settings(const DaemonConfig& other) const;
};

DaemonConfig default_config();

// The event types an `events:` group stands for ("process", "file",
// "system", "network", "all"); empty when `name` is no group.
std::vector<EventType> event_group(std::string_view name);

Result<DaemonConfig> parse_config(std::string_view yaml_text, std::string_view file_name);
inline constexpr std::size_t kMaxConfigFileBytes = 1 << 20;
Result<DaemonConfig> load_config_file(const std::string& path);

// "HOST:PORT" for the metrics listener: an IPv4 address, "localhost" or
// "[IPv6]", and a port (0 picks a free one). Empty on success, else why not.
std::string check_listen_address(std::string_view text);

}  // namespace ward::daemon

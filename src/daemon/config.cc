// The wardd config file: YAML -> a validated DaemonConfig, or
// "FILE:LINE: KEY: reason" for the first thing wrong.
//
// Like the policy loader (src/policy/policy_yaml.cc), this never calls
// YAML::LoadAll: yaml-cpp 0.7 loops forever on a stray ',' there. The
// documents are counted with a Parser that stops when it makes no progress,
// and only a single document is then built with YAML::Load.
#include "daemon/config.h"
#include "policy/yaml_nodes.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <sstream>

namespace ward::daemon {
namespace {

using Names = std::vector<std::string_view>;
using yaml_nodes::join;
using yaml_nodes::line_of;
using yaml_nodes::type_name;

// Only counts documents; builds nothing.
class DocumentCounter final : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
  }
  void OnMapEnd() override {}
};

// The process group: the process lifecycle, credentials and what a process
// does to another. Kept in table order; config_test checks that every NOTIFY
// type is in exactly one group.
constexpr std::array kProcessEvents = {
    EventType::NotifyExec,      EventType::NotifyFork,     EventType::NotifyExit,
    EventType::NotifySignal,    EventType::NotifyChdir,    EventType::NotifyChroot,
    EventType::NotifyProcCheck, EventType::NotifyTrace,    EventType::NotifySetuid,
    EventType::NotifySetgid,    EventType::NotifySeteuid,  EventType::NotifySetegid,
    EventType::NotifySetreuid,  EventType::NotifySetregid,
};
constexpr std::array kFileEvents = {
    EventType::NotifyOpen,     EventType::NotifyClose,      EventType::NotifyCreate,
    EventType::NotifyLink,     EventType::NotifyMmap,       EventType::NotifyMprotect,
    EventType::NotifyRename,   EventType::NotifySetExtattr, EventType::NotifySetMode,
    EventType::NotifySetOwner, EventType::NotifyUnlink,     EventType::NotifyWrite,
    EventType::NotifyTruncate, EventType::NotifyUtimes,     EventType::NotifyDeleteExtattr,
};
constexpr std::array kSystemEvents = {
    EventType::NotifyKextload, EventType::NotifyMount, EventType::NotifyUnmount,
    EventType::NotifySettime,  EventType::NotifyBpf,   EventType::NotifyMemfdCreate,
};
constexpr std::array kNetworkEvents = {
    EventType::NotifyUipcBind, EventType::NotifyUipcConnect, EventType::NotifyConnect,
    EventType::NotifyBind,     EventType::NotifyAccept,
};

// Keeps table order and drops repeats, so configs that differ only in order
// compare equal.
std::vector<EventType> in_table_order(const std::vector<EventType>& types) {
  std::vector<EventType> out;
  for (const auto& info : kEventTypes)
    if (std::find(types.begin(), types.end(), info.type) != types.end()) out.push_back(info.type);
  return out;
}

class ConfigParser {
 public:
  explicit ConfigParser(std::string_view file_name) : file_name_(file_name) {}

  Result<DaemonConfig> parse(std::string_view text) {
    const std::string input(text);
    YAML::Node root;
    try {
      if (Status s = check_single_document(input); !s) return s;
      root = YAML::Load(input);
    } catch (const YAML::ParserException& e) {
      return error(e.mark.is_null() ? 1 : e.mark.line + 1, "", "YAML syntax error: " + e.msg);
    } catch (const std::exception& e) {
      return error(1, "", std::string("cannot parse YAML: ") + e.what());
    }
    DaemonConfig config = default_config();
    config.source = file_name_;
    if (root.IsNull()) return config;  // an empty file: every default
    try {
      if (Status s = parse_root(root, config); !s) return s;
    } catch (const std::exception& e) {
      return error(line_of(root, 1), "", std::string("cannot read YAML: ") + e.what());
    }
    return config;
  }

 private:
  struct Field {
    std::string name;
    std::string key;  // the full key path: "outputs[1].format"
    int line = 1;     // the key's line
    YAML::Node value;
  };
  using Fields = std::vector<Field>;

  Status error(int line, const std::string& key, const std::string& reason) const {
    return Status::error(file_name_ + ":" + std::to_string(line) + ": " + (key.empty() ? "" : key + ": ") +
                         reason);
  }
  Status error(const Field& field, const std::string& reason) const {
    return error(value_line(field), field.key, reason);
  }
  // An empty value (`key:`) is marked at the next token; the key's line is
  // the one a reader looks at then.
  static int value_line(const Field& field) {
    return field.value.IsNull() ? field.line : line_of(field.value, field.line);
  }

  Status check_single_document(const std::string& input) const {
    std::istringstream stream(input);
    YAML::Parser parser(stream);
    DocumentCounter counter;
    while (counter.starts.size() < 3 && parser.HandleNextDocument(counter)) {
      const std::size_t n = counter.starts.size();
      if (n >= 2 && counter.starts[n - 1].pos == counter.starts[n - 2].pos) {
        const YAML::Mark& stuck = counter.starts[n - 1];
        return error(stuck.line + 1, "",
                     "YAML syntax error: unexpected token at column " + std::to_string(stuck.column + 1));
      }
    }
    if (counter.starts.size() > 1)
      return error(counter.starts[1].line + 1, "",
                   "more than one YAML document ('---'); the config holds one");
    return Status::ok();
  }

  static std::string child_key(const std::string& parent, std::string_view name) {
    return parent.empty() ? std::string(name) : parent + "." + std::string(name);
  }

  Status fields_of(const YAML::Node& map, const std::string& key, int line, const Names& allowed,
                   Fields& out) const {
    if (!map.IsMap())
      return error(line, key.empty() ? "" : key,
                   (key.empty() ? std::string("the config") : std::string("this")) +
                       " must be a mapping, got " + type_name(map));
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->first.IsScalar()) return error(line_of(it->first, line), key, "a key must be a plain string");
      Field field{it->first.Scalar(), child_key(key, it->first.Scalar()), line_of(it->first, line),
                  it->second};
      if (std::find(allowed.begin(), allowed.end(), field.name) == allowed.end())
        return error(field.line, field.key, "unknown key (expected one of: " + join(allowed) + ")");
      for (const Field& seen : out)
        if (seen.name == field.name)
          return error(field.line, field.key,
                       "duplicate key (first on line " + std::to_string(seen.line) + ")");
      out.push_back(std::move(field));
    }
    return Status::ok();
  }

  Status get_string(const Field& field, std::string& out) const {
    if (!field.value.IsScalar()) return error(field, "must be a string, got " + type_name(field.value));
    out = field.value.Scalar();
    return Status::ok();
  }

  // Paths in the config are absolute: a relative one would depend on
  // wardd's working directory (/ under systemd).
  Status get_absolute_path(const Field& field, std::string& out) const {
    if (Status s = get_string(field, out); !s) return s;
    if (out.empty() || out[0] != '/') return error(field, "must be an absolute path, got '" + out + "'");
    if (out.find('\0') != std::string::npos) return error(field, "must not contain a NUL byte");
    return Status::ok();
  }

  Status get_bool(const Field& field, bool& out) const {
    const std::string text = field.value.IsScalar() ? field.value.Scalar() : "";
    if (text == "true" || text == "True" || text == "TRUE") {
      out = true;
    } else if (text == "false" || text == "False" || text == "FALSE") {
      out = false;
    } else {
      return error(field, "must be true or false, got " +
                              (field.value.IsScalar() ? "'" + text + "'" : type_name(field.value)));
    }
    return Status::ok();
  }

  Status get_uint(const Field& field, uint64_t min, uint64_t max, uint64_t& out) const {
    std::string text;
    if (!field.value.IsScalar()) return error(field, "must be a number, got " + type_name(field.value));
    text = field.value.Scalar();
    uint64_t value = 0;
    bool ok = !text.empty() && text.size() <= 19;
    for (char c : text) {
      ok = ok && c >= '0' && c <= '9';
      if (ok) value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    if (!ok || value < min || value > max)
      return error(field, "bad value '" + text + "': expected a whole number from " + std::to_string(min) +
                              " to " + std::to_string(max));
    out = value;
    return Status::ok();
  }

  template <typename T>
  Status get_small_uint(const Field& field, uint64_t min, uint64_t max, T& out) const {
    uint64_t value = 0;
    if (Status s = get_uint(field, min, max, value); !s) return s;
    out = static_cast<T>(value);
    return Status::ok();
  }

  // Bytes: "1048576", "64MiB", "64M", "1 GiB" (powers of 1024).
  Status get_size(const Field& field, uint64_t min, uint64_t max, uint64_t& out) const {
    if (!field.value.IsScalar()) return error(field, "must be a size, got " + type_name(field.value));
    const std::string text = field.value.Scalar();
    std::size_t digits = 0;
    uint64_t value = 0;
    bool overflow = false;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
      overflow = overflow || value > (UINT64_MAX - 9) / 10;
      value = value * 10 + static_cast<uint64_t>(text[digits] - '0');
      ++digits;
    }
    std::string unit = text.substr(digits);
    if (!unit.empty() && unit[0] == ' ') unit.erase(0, 1);
    static constexpr std::array<std::pair<std::string_view, unsigned>, 7> kUnits = {
        {{"", 0}, {"K", 10}, {"KiB", 10}, {"M", 20}, {"MiB", 20}, {"G", 30}, {"GiB", 30}}};
    const auto* found =
        std::find_if(kUnits.begin(), kUnits.end(), [&](const auto& u) { return u.first == unit; });
    const std::string expected =
        "expected bytes or a size such as 64MiB (units K, M, G, KiB, MiB, GiB), from " + std::to_string(min) +
        " to " + std::to_string(max) + " bytes";
    if (digits == 0 || found == kUnits.end() || overflow)
      return error(field, "bad size '" + text + "': " + expected);
    if (found->second > 0 && value > (UINT64_MAX >> found->second)) overflow = true;
    const uint64_t bytes = value << found->second;
    if (overflow || bytes < min || bytes > max) return error(field, "bad size '" + text + "': " + expected);
    out = bytes;
    return Status::ok();
  }

  template <typename T>
  Status get_choice(const Field& field, const std::vector<std::pair<std::string_view, T>>& choices,
                    T& out) const {
    std::string text;
    if (Status s = get_string(field, text); !s) return s;
    Names names;
    for (const auto& [name, value] : choices) {
      if (name == text) {
        out = value;
        return Status::ok();
      }
      names.push_back(name);
    }
    return error(field, "bad value '" + text + "' (expected one of: " + join(names) + ")");
  }

  Status get_sequence(const Field& field, std::vector<YAML::Node>& out) const {
    if (field.value.IsNull()) return Status::ok();  // every item commented out: empty
    if (!field.value.IsSequence()) return error(field, "must be a sequence, got " + type_name(field.value));
    for (const YAML::Node& item : field.value) out.push_back(item);
    return Status::ok();
  }

  Status parse_root(const YAML::Node& root, DaemonConfig& config) {
    Fields fields;
    if (Status s = fields_of(
            root, "", line_of(root, 1),
            {"mode", "policy_file", "auth", "sensor", "events", "outputs", "metrics", "control"}, fields);
        !s)
      return s;
    for (const Field& field : fields) {
      Status s;
      if (field.name == "mode") {
        if (field.value.IsNull()) continue;  // `mode:` with no value: the policy file's
        policy::Mode mode = policy::Mode::Monitor;
        s = get_choice<policy::Mode>(
            field, {{"monitor", policy::Mode::Monitor}, {"lockdown", policy::Mode::Lockdown}}, mode);
        config.mode = mode;
      } else if (field.name == "policy_file") {
        if (field.value.IsNull()) continue;
        s = get_absolute_path(field, config.policy_file);
      } else if (field.name == "auth") {
        s = parse_auth(field, config);
      } else if (field.name == "sensor") {
        s = parse_sensor(field, config);
      } else if (field.name == "events") {
        s = parse_events(field, config.events);
        if (s && config.events.empty()) s = error(field, "must name at least one event or group");
      } else if (field.name == "outputs") {
        s = parse_outputs(field, config);
      } else if (field.name == "metrics") {
        s = parse_metrics(field, config);
      } else if (field.name == "control") {
        s = parse_control(field, config);
      }
      if (!s) return s;
    }
    return Status::ok();
  }

  Status parse_auth(const Field& section, DaemonConfig& config) {
    if (section.value.IsNull()) return Status::ok();
    Fields fields;
    if (Status s = fields_of(section.value, section.key, value_line(section),
                             {"scopes", "exec_deadline_ms", "open_deadline_ms", "fail_mode"}, fields);
        !s)
      return s;
    for (const Field& field : fields) {
      Status s;
      if (field.name == "scopes") {
        s = parse_scopes(field, config.auth_scopes);
      } else if (field.name == "exec_deadline_ms") {
        s = get_small_uint(field, 10, 600000, config.exec_deadline_ms);
      } else if (field.name == "open_deadline_ms") {
        s = get_small_uint(field, 10, 600000, config.open_deadline_ms);
      } else if (field.name == "fail_mode") {
        s = get_choice<DeadlineMissMode>(
            field, {{"open", DeadlineMissMode::FailOpen}, {"closed", DeadlineMissMode::FailClosed}},
            config.fail_mode);
      }
      if (!s) return s;
    }
    return Status::ok();
  }

  Status parse_scopes(const Field& field, std::vector<AuthScopeConfig>& out) {
    std::vector<YAML::Node> items;
    if (Status s = get_sequence(field, items); !s) return s;
    out.clear();
    for (std::size_t i = 0; i < items.size(); ++i) {
      const std::string key = field.key + "[" + std::to_string(i) + "]";
      Field item{"", key, line_of(items[i], field.line), items[i]};
      AuthScopeConfig scope;
      if (items[i].IsScalar()) {
        if (Status s = get_absolute_path(item, scope.path); !s) return s;
      } else {
        Fields fields;
        if (Status s = fields_of(items[i], key, item.line, {"path", "type"}, fields); !s) return s;
        bool has_path = false;
        for (const Field& f : fields) {
          Status s;
          if (f.name == "path") {
            s = get_absolute_path(f, scope.path);
            has_path = true;
          } else {
            s = get_choice<AuthScope>(f,
                                      {{"mount", AuthScope::Mount},
                                       {"filesystem", AuthScope::Filesystem},
                                       {"directory", AuthScope::Directory}},
                                      scope.type);
          }
          if (!s) return s;
        }
        if (!has_path) return error(item.line, key, "missing required key 'path'");
      }
      out.push_back(std::move(scope));
    }
    return Status::ok();
  }

  Status parse_sensor(const Field& section, DaemonConfig& config) {
    if (section.value.IsNull()) return Status::ok();
    Fields fields;
    if (Status s = fields_of(section.value, section.key, value_line(section),
                             {"backend", "capture_env", "queue_capacity"}, fields);
        !s)
      return s;
    for (const Field& field : fields) {
      Status s;
      if (field.name == "backend") {
        s = get_choice<SensorBackend>(field,
                                      {{"auto", SensorBackend::Auto},
                                       {"bpf", SensorBackend::Bpf},
                                       {"proc-connector", SensorBackend::ProcConnector}},
                                      config.backend);
      } else if (field.name == "capture_env") {
        s = get_bool(field, config.capture_env);
      } else if (field.name == "queue_capacity") {
        s = get_small_uint(field, 1024, 1 << 24, config.queue_capacity);
      }
      if (!s) return s;
    }
    return Status::ok();
  }

  Status parse_events(const Field& field, std::vector<EventType>& out) const {
    std::vector<YAML::Node> items;
    if (field.value.IsScalar()) {
      items.push_back(field.value);  // `events: all`
    } else if (Status s = get_sequence(field, items); !s) {
      return s;
    }
    std::vector<EventType> types;
    for (std::size_t i = 0; i < items.size(); ++i) {
      Field item{"", field.key + "[" + std::to_string(i) + "]", line_of(items[i], field.line), items[i]};
      std::string name;
      if (Status s = get_string(item, name); !s) return s;
      if (const auto group = event_group(name); !group.empty()) {
        types.insert(types.end(), group.begin(), group.end());
        continue;
      }
      auto type = event_type_from_name(name);
      if (!type)
        return error(item, "unknown event '" + name +
                               "' (a group: process, file, system, network, all; or an event name from "
                               "`ward log --list`)");
      if (event_info(*type)->action == ActionType::Auth)
        return error(item,
                     "'" + name + "' is an AUTH event: the policy answers those; outputs get auth_result");
      types.push_back(*type);
    }
    out = in_table_order(types);
    return Status::ok();
  }

  Status parse_metrics(const Field& section, DaemonConfig& config) {
    if (section.value.IsNull()) return Status::ok();
    Fields fields;
    if (Status s = fields_of(section.value, section.key, value_line(section), {"enabled", "listen"}, fields);
        !s)
      return s;
    for (const Field& field : fields) {
      Status s;
      if (field.name == "enabled") {
        s = get_bool(field, config.metrics_enabled);
      } else {
        s = get_string(field, config.metrics_listen);
        if (s) {
          if (std::string why = check_listen_address(config.metrics_listen); !why.empty())
            s = error(field, why);
        }
      }
      if (!s) return s;
    }
    return Status::ok();
  }

  Status parse_control(const Field& section, DaemonConfig& config) {
    if (section.value.IsNull()) return Status::ok();
    Fields fields;
    if (Status s = fields_of(section.value, section.key, value_line(section), {"enabled", "socket"}, fields);
        !s)
      return s;
    for (const Field& field : fields) {
      Status s;
      if (field.name == "enabled") {
        s = get_bool(field, config.control_enabled);
      } else {
        s = get_absolute_path(field, config.control_socket);
        if (s && config.control_socket.size() >= sizeof(sockaddr_un::sun_path))
          s = error(field, "too long for a Unix socket path (at most " +
                               std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes)");
      }
      if (!s) return s;
    }
    return Status::ok();
  }

  Status parse_outputs(const Field& field, DaemonConfig& config) {
    std::vector<YAML::Node> items;
    if (Status s = get_sequence(field, items); !s) return s;
    config.outputs.clear();
    for (std::size_t i = 0; i < items.size(); ++i) {
      const std::string key = field.key + "[" + std::to_string(i) + "]";
      Output output;
      output.line = line_of(items[i], field.line);
      if (Status s = parse_output(items[i], key, output); !s) return s;
      if (Status s = check_not_duplicate(config.outputs, output, key); !s) return s;
      config.outputs.push_back(std::move(output));
    }
    return Status::ok();
  }

  Status parse_output(const YAML::Node& node, const std::string& key, Output& output) {
    if (!node.IsMap()) return error(output.line, key, "an output must be a mapping, got " + type_name(node));
    const YAML::Node type_node = node["type"];
    if (!type_node)
      return error(output.line, key, "missing required key 'type' (stdout, file, syslog, store, nats)");
    Field type_field{"type", key + ".type", line_of(type_node, output.line), type_node};
    std::string type;
    if (Status s = get_choice<std::string>(type_field,
                                           {{"stdout", "stdout"},
                                            {"file", "file"},
                                            {"syslog", "syslog"},
                                            {"store", "store"},
                                            {"nats", "nats"}},
                                           type);
        !s)
      return s;
    Names allowed = {"type", "format", "events"};
    if (type == "stdout") {
      output.sink = StdoutOutput{};
    } else if (type == "file") {
      output.sink = FileOutput{};
      allowed.insert(allowed.end(), {"path", "max_bytes", "keep"});
    } else if (type == "syslog") {
      output.sink = SyslogOutput{};
      allowed.insert(allowed.end(), {"socket", "protocol"});
    } else if (type == "store") {
      output.sink = StoreOutput{};
      allowed.insert(allowed.end(), {"path", "retention_days", "max_bytes"});
    } else {
      output.sink = NatsOutput{};
      allowed.insert(allowed.end(),
                     {"servers", "subject", "stream", "spool_dir", "spool_max_bytes", "spool_full"});
    }
    Fields fields;
    if (Status s = fields_of(node, key, output.line, allowed, fields); !s) return s;
    bool has_path = false;
    for (const Field& f : fields) {
      if (f.name == "type") continue;
      Status s;
      if (f.name == "format") {
        s = parse_format(f, output);
      } else if (f.name == "events") {
        s = parse_events(f, output.events);
        if (s && output.events.empty())
          s = error(f, "must name at least one event or group (or leave it out)");
      } else if (auto* file = std::get_if<FileOutput>(&output.sink)) {
        if (f.name == "path") {
          s = get_absolute_path(f, file->path);
          has_path = true;
        } else if (f.name == "max_bytes") {
          s = get_size(f, 4096, 1ull << 50, file->max_bytes);
        } else {
          s = get_small_uint(f, 1, 1000, file->keep);
        }
      } else if (auto* syslog = std::get_if<SyslogOutput>(&output.sink)) {
        if (f.name == "socket") {
          s = get_absolute_path(f, syslog->socket);
        } else {
          s = get_choice<bool>(f, {{"rfc5424", false}, {"rfc3164", true}}, syslog->rfc3164);
        }
      } else if (auto* store = std::get_if<StoreOutput>(&output.sink)) {
        if (f.name == "path") {
          s = get_absolute_path(f, store->path);
        } else if (f.name == "retention_days") {
          s = get_small_uint(f, 0, 36500, store->retention_days);
        } else {
          s = get_size(f, 0, 1ull << 50, store->max_bytes);
          if (s && store->max_bytes != 0 && store->max_bytes < (1u << 20))
            s = error(f, "at least 1MiB (or 0 for no size limit)");
        }
      } else if (auto* nats = std::get_if<NatsOutput>(&output.sink)) {
        s = parse_nats_field(f, *nats);
      }
      if (!s) return s;
    }
    if (std::holds_alternative<FileOutput>(output.sink) && !has_path)
      return error(output.line, key, "missing required key 'path' for a file output");
    return Status::ok();
  }

  Status parse_format(const Field& field, Output& output) const {
    const bool is_stdout = std::holds_alternative<StdoutOutput>(output.sink);
    RecordFormat format = RecordFormat::Eslogger;
    std::vector<std::pair<std::string_view, RecordFormat>> choices = {
        {"eslogger", RecordFormat::Eslogger}, {"ecs", RecordFormat::Ecs}, {"ocsf", RecordFormat::Ocsf}};
    if (is_stdout) {
      choices.insert(choices.begin(), {"summary", RecordFormat::Summary});
      choices.push_back({"json", RecordFormat::Eslogger});
    }
    if (Status s = get_choice<RecordFormat>(field, choices, format); !s) return s;
    std::visit([&](auto& sink) { sink.format = format; }, output.sink);
    return Status::ok();
  }

  Status parse_nats_field(const Field& f, NatsOutput& nats) const {
    if (f.name == "servers") {
      std::vector<YAML::Node> items;
      if (f.value.IsScalar()) {
        items.push_back(f.value);
      } else if (Status s = get_sequence(f, items); !s) {
        return s;
      }
      nats.servers.clear();
      for (std::size_t i = 0; i < items.size(); ++i) {
        Field item{"", f.key + "[" + std::to_string(i) + "]", line_of(items[i], f.line), items[i]};
        std::string url;
        if (Status s = get_string(item, url); !s) return s;
        if (url.rfind("nats://", 0) != 0 && url.rfind("tls://", 0) != 0)
          return error(item, "bad server '" + url + "': expected a URL such as nats://127.0.0.1:4222");
        nats.servers.push_back(std::move(url));
      }
      if (nats.servers.empty()) return error(f, "must name at least one server");
      return Status::ok();
    }
    if (f.name == "subject") {
      if (Status s = get_string(f, nats.subject); !s) return s;
      if (nats.subject.empty() || nats.subject.find_first_of(" \t\r\n*>") != std::string::npos ||
          nats.subject.front() == '.' || nats.subject.back() == '.')
        return error(f,
                     "bad subject '" + nats.subject +
                         "': dot-separated tokens without spaces or wildcards; {event_name} and {event_type} "
                         "are replaced per event");
      return Status::ok();
    }
    if (f.name == "stream") {
      if (Status s = get_string(f, nats.stream); !s) return s;
      if (nats.stream.empty() || nats.stream.find_first_of(" \t\r\n.*>/\\") != std::string::npos)
        return error(f, "bad stream name '" + nats.stream + "': no spaces, '.', '*', '>', '/' or '\\'");
      return Status::ok();
    }
    if (f.name == "spool_dir") return get_absolute_path(f, nats.spool_dir);
    if (f.name == "spool_max_bytes") return get_size(f, 1u << 20, 1ull << 50, nats.spool_max_bytes);
    // spool_full
    std::string text;
    if (Status s = get_string(f, text); !s) return s;
    auto policy = output::parse_spool_full_policy(text);
    if (!policy) return error(f, "bad value '" + text + "' (expected one of: drop_oldest, block_notify)");
    nats.spool_full = policy.value();
    return Status::ok();
  }

  // Two outputs writing to the same place would corrupt each other.
  Status check_not_duplicate(const std::vector<Output>& earlier, const Output& output,
                             const std::string& key) const {
    auto place = [](const Output& o) -> std::string {
      if (std::holds_alternative<StdoutOutput>(o.sink)) return "stdout";
      if (const auto* f = std::get_if<FileOutput>(&o.sink)) return "file " + f->path;
      if (const auto* s = std::get_if<StoreOutput>(&o.sink)) return "store " + s->path;
      if (const auto* n = std::get_if<NatsOutput>(&o.sink)) return "nats spool " + n->spool_dir;
      return "";
    };
    const std::string here = place(output);
    if (here.empty()) return Status::ok();
    for (const Output& other : earlier)
      if (place(other) == here)
        return error(
            output.line, key,
            "a second output to the same " + here + " (first on line " + std::to_string(other.line) + ")");
    return Status::ok();
  }

  std::string file_name_;
};

}  // namespace

std::string_view to_string(RecordFormat format) {
  switch (format) {
    case RecordFormat::Summary:
      return "summary";
    case RecordFormat::Eslogger:
      return "eslogger";
    case RecordFormat::Ecs:
      return "ecs";
    case RecordFormat::Ocsf:
      return "ocsf";
  }
  return "?";
}

std::optional<RecordFormat> record_format_from_name(std::string_view name) {
  if (name == "summary") return RecordFormat::Summary;
  if (name == "eslogger" || name == "json") return RecordFormat::Eslogger;
  if (name == "ecs") return RecordFormat::Ecs;
  if (name == "ocsf") return RecordFormat::Ocsf;
  return std::nullopt;
}

std::string_view output_type_name(const Output& output) {
  static constexpr std::array<std::string_view, 5> kNames = {"stdout", "file", "syslog", "store", "nats"};
  return kNames[output.sink.index()];
}

RecordFormat output_format(const Output& output) {
  return std::visit([](const auto& sink) { return sink.format; }, output.sink);
}

bool DaemonConfig::same_settings(const DaemonConfig& other) const {
  return mode == other.mode && policy_file == other.policy_file && auth_scopes == other.auth_scopes &&
         exec_deadline_ms == other.exec_deadline_ms && open_deadline_ms == other.open_deadline_ms &&
         fail_mode == other.fail_mode && backend == other.backend && capture_env == other.capture_env &&
         queue_capacity == other.queue_capacity && events == other.events && outputs == other.outputs &&
         metrics_enabled == other.metrics_enabled && metrics_listen == other.metrics_listen &&
         control_enabled == other.control_enabled && control_socket == other.control_socket;
}

std::vector<EventType> event_group(std::string_view name) {
  if (name == "process") return std::vector<EventType>(kProcessEvents.begin(), kProcessEvents.end());
  if (name == "file") return std::vector<EventType>(kFileEvents.begin(), kFileEvents.end());
  if (name == "system") return std::vector<EventType>(kSystemEvents.begin(), kSystemEvents.end());
  if (name == "network") return std::vector<EventType>(kNetworkEvents.begin(), kNetworkEvents.end());
  if (name == "all") {
    std::vector<EventType> all;
    for (const auto& info : kEventTypes)
      if (info.action == ActionType::Notify) all.push_back(info.type);
    return all;
  }
  return {};
}

DaemonConfig default_config() {
  DaemonConfig config;
  std::vector<EventType> events(kProcessEvents.begin(), kProcessEvents.end());
  events.insert(events.end(), kFileEvents.begin(), kFileEvents.end());
  events.push_back(EventType::NotifyAuthResult);
  config.events = in_table_order(events);
  // The terminal gets the process events and AUTH decisions: a line for
  // every open on the machine would bury them. The store gets everything.
  std::vector<EventType> terminal(kProcessEvents.begin(), kProcessEvents.end());
  terminal.push_back(EventType::NotifyAuthResult);
  config.outputs.push_back(Output{StdoutOutput{}, in_table_order(terminal), 0});
  config.outputs.push_back(Output{StoreOutput{}, {}, 0});
  return config;
}

Result<DaemonConfig> parse_config(std::string_view yaml_text, std::string_view file_name) {
  return ConfigParser(file_name).parse(yaml_text);
}

Result<DaemonConfig> load_config_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::error(path + ": cannot read config file: " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::error(path + ": not a regular file");
  }
  if (static_cast<std::size_t>(st.st_size) > kMaxConfigFileBytes) {
    ::close(fd);
    return Status::error(path + ": larger than " + std::to_string(kMaxConfigFileBytes) + " bytes");
  }
  std::string text;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return Status::error(path + ": cannot read config file: " + std::strerror(err));
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > kMaxConfigFileBytes) {
      ::close(fd);
      return Status::error(path + ": larger than " + std::to_string(kMaxConfigFileBytes) + " bytes");
    }
  }
  ::close(fd);
  return parse_config(text, path);
}

std::string check_listen_address(std::string_view text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return "bad address '" + std::string(text) + "': expected HOST:PORT, e.g. 127.0.0.1:9464";
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  bool port_ok = !port.empty() && port.size() <= 5;
  unsigned value = 0;
  for (char c : port) {
    port_ok = port_ok && c >= '0' && c <= '9';
    if (port_ok) value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (!port_ok || value > 65535)
    return "bad port '" + std::string(port) + "' in '" + std::string(text) + "': expected 0 to 65535";
  if (host == "localhost") return "";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    const std::string inner(host.substr(1, host.size() - 2));
    unsigned char addr[16];
    if (inet_pton(AF_INET6, inner.c_str(), addr) == 1) return "";
  } else {
    unsigned char addr[4];
    if (inet_pton(AF_INET, std::string(host).c_str(), addr) == 1) return "";
  }
  return "bad host '" + std::string(host) + "' in '" + std::string(text) +
         "': expected an IPv4 address, [IPv6] or localhost";
}

}  // namespace ward::daemon

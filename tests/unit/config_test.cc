// wardd's config file: defaults, every key, and errors that name the key and
// the line. Also the policy edits behind `ward rules add|remove`.
#include "daemon/config.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <future>
#include <set>
#include <sstream>

#include "daemon/policy_edit.h"

namespace ward::daemon {
namespace {

DaemonConfig parse_ok(const std::string& yaml) {
  auto r = parse_config(yaml, "wardd.yaml");
  EXPECT_TRUE(r) << r.status().message();
  return r ? r.value() : DaemonConfig{};
}

std::string parse_error(const std::string& yaml) {
  auto r = parse_config(yaml, "wardd.yaml");
  EXPECT_FALSE(r) << "accepted:\n" << yaml;
  return r ? "" : r.status().message();
}

TEST(ConfigTest, NoFileAndAnEmptyFileAreTheDefaults) {
  const DaemonConfig d = default_config();
  EXPECT_FALSE(d.mode);
  EXPECT_TRUE(d.policy_file.empty());
  ASSERT_EQ(d.outputs.size(), 2u);
  EXPECT_EQ(std::get<StdoutOutput>(d.outputs[0].sink).format, RecordFormat::Summary);
  EXPECT_EQ(d.outputs[0].events.size(), event_group("process").size() + 1);  // and auth_result
  EXPECT_TRUE(d.outputs[1].events.empty());                                  // the store: every event
  EXPECT_EQ(std::get<StoreOutput>(d.outputs[1].sink).path, "/var/lib/ward/events.db");
  EXPECT_EQ(d.metrics_listen, "127.0.0.1:9464");
  EXPECT_EQ(d.control_socket, "/run/ward/control.sock");
  // Every process and file event, and the AUTH decisions.
  std::set<EventType> events(d.events.begin(), d.events.end());
  for (EventType t : event_group("process")) EXPECT_TRUE(events.count(t)) << event_name(t);
  for (EventType t : event_group("file")) EXPECT_TRUE(events.count(t)) << event_name(t);
  EXPECT_TRUE(events.count(EventType::NotifyAuthResult));
  EXPECT_FALSE(events.count(EventType::NotifyConnect));

  EXPECT_TRUE(parse_ok("").same_settings(d));
  EXPECT_TRUE(parse_ok("# only a comment\n").same_settings(d));
}

TEST(ConfigTest, ThePackagedConfigDocumentsTheDefaults) {
  const std::string path = std::string(WARD_GOLDEN_DIR) + "/../../packaging/wardd.yaml";
  auto r = load_config_file(path);
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_TRUE(r.value().same_settings(default_config()))
      << "packaging/wardd.yaml and default_config() differ";
}

TEST(ConfigTest, EveryKey) {
  const DaemonConfig c = parse_ok(R"(
mode: lockdown
policy_file: /etc/ward/policy.yaml
auth:
  scopes: [/srv, {path: /data, type: filesystem}, {path: /home/x, type: directory}]
  exec_deadline_ms: 3000
  open_deadline_ms: 250
  fail_mode: closed
sensor: {backend: proc-connector, capture_env: true, queue_capacity: 4096}
events: [exec, exit, network]
outputs:
  - {type: stdout, format: json}
  - {type: file, path: /var/log/ward/e.json, max_bytes: 8MiB, keep: 3, format: ocsf, events: [exec]}
  - {type: syslog, socket: /run/log, protocol: rfc3164, format: ecs}
  - {type: store, path: /tmp/s.db, retention_days: 0, max_bytes: 0}
  - type: nats
    servers: [nats://a:4222, tls://b:4222]
    subject: "w.{event_type}"
    stream: S1
    spool_dir: /var/spool/w
    spool_max_bytes: 2G
    spool_full: block_notify
metrics: {enabled: false, listen: "[::1]:9000"}
control: {socket: /tmp/w.sock}
)");
  EXPECT_EQ(c.mode, policy::Mode::Lockdown);
  EXPECT_EQ(c.policy_file, "/etc/ward/policy.yaml");
  ASSERT_EQ(c.auth_scopes.size(), 3u);
  EXPECT_EQ(c.auth_scopes[0], (AuthScopeConfig{"/srv", AuthScope::Mount}));
  EXPECT_EQ(c.auth_scopes[1], (AuthScopeConfig{"/data", AuthScope::Filesystem}));
  EXPECT_EQ(c.auth_scopes[2].type, AuthScope::Directory);
  EXPECT_EQ(c.exec_deadline_ms, 3000u);
  EXPECT_EQ(c.open_deadline_ms, 250u);
  EXPECT_EQ(c.fail_mode, DeadlineMissMode::FailClosed);
  EXPECT_EQ(c.backend, SensorBackend::ProcConnector);
  EXPECT_TRUE(c.capture_env);
  EXPECT_EQ(c.queue_capacity, 4096u);
  std::set<EventType> events(c.events.begin(), c.events.end());
  EXPECT_EQ(events.size(), 2u + event_group("network").size());
  ASSERT_EQ(c.outputs.size(), 5u);
  EXPECT_EQ(std::get<StdoutOutput>(c.outputs[0].sink).format, RecordFormat::Eslogger);
  const auto& file = std::get<FileOutput>(c.outputs[1].sink);
  EXPECT_EQ(file.path, "/var/log/ward/e.json");
  EXPECT_EQ(file.max_bytes, 8u << 20);
  EXPECT_EQ(file.keep, 3u);
  EXPECT_EQ(file.format, RecordFormat::Ocsf);
  EXPECT_EQ(c.outputs[1].events, std::vector<EventType>{EventType::NotifyExec});
  const auto& syslog = std::get<SyslogOutput>(c.outputs[2].sink);
  EXPECT_EQ(syslog.socket, "/run/log");
  EXPECT_TRUE(syslog.rfc3164);
  EXPECT_EQ(syslog.format, RecordFormat::Ecs);
  const auto& store = std::get<StoreOutput>(c.outputs[3].sink);
  EXPECT_EQ(store.retention_days, 0u);
  EXPECT_EQ(store.max_bytes, 0u);
  const auto& nats = std::get<NatsOutput>(c.outputs[4].sink);
  EXPECT_EQ(nats.servers, (std::vector<std::string>{"nats://a:4222", "tls://b:4222"}));
  EXPECT_EQ(nats.subject, "w.{event_type}");
  EXPECT_EQ(nats.stream, "S1");
  EXPECT_EQ(nats.spool_dir, "/var/spool/w");
  EXPECT_EQ(nats.spool_max_bytes, 2ull << 30);
  EXPECT_EQ(nats.spool_full, output::SpoolFullPolicy::kBlockNotify);
  EXPECT_FALSE(c.metrics_enabled);
  EXPECT_EQ(c.metrics_listen, "[::1]:9000");
  EXPECT_EQ(c.control_socket, "/tmp/w.sock");
  EXPECT_EQ(c.source, "wardd.yaml");
}

TEST(ConfigTest, OutputsReplaceTheDefaultsAndMayBeEmpty) {
  EXPECT_TRUE(parse_ok("outputs: []\n").outputs.empty());
  EXPECT_TRUE(parse_ok("outputs:\n").outputs.empty());  // every item commented out
  EXPECT_EQ(parse_ok("outputs: [{type: stdout}]\n").outputs.size(), 1u);
}

struct BadCase {
  const char* yaml;
  const char* expected;  // a substring: FILE:LINE: KEY: reason
};

TEST(ConfigTest, ErrorsNameTheKeyAndTheLine) {
  const BadCase cases[] = {
      {"mode: strict\n", "wardd.yaml:1: mode: bad value 'strict' (expected one of: monitor, lockdown)"},
      {"colour: blue\n", "wardd.yaml:1: colour: unknown key (expected one of: mode, policy_file, auth"},
      {"auth:\n  exec_deadline_ms: 5\n",
       "wardd.yaml:2: auth.exec_deadline_ms: bad value '5': expected a whole number from 10 to 600000"},
      {"auth:\n  deadline: 5\n", "wardd.yaml:2: auth.deadline: unknown key"},
      {"auth: {fail_mode: maybe}\n", "auth.fail_mode: bad value 'maybe' (expected one of: open, closed)"},
      {"auth:\n  scopes:\n    - srv\n", "wardd.yaml:3: auth.scopes[0]: must be an absolute path, got 'srv'"},
      {"auth:\n  scopes:\n    - {path: /srv, type: tree}\n",
       "wardd.yaml:3: auth.scopes[0].type: bad value 'tree'"},
      {"auth:\n  scopes:\n    - {type: mount}\n",
       "wardd.yaml:3: auth.scopes[0]: missing required key 'path'"},
      {"sensor: {backend: ebpf}\n",
       "sensor.backend: bad value 'ebpf' (expected one of: auto, bpf, proc-connector)"},
      {"sensor: {capture_env: yes please}\n", "sensor.capture_env: must be true or false, got 'yes please'"},
      {"sensor: {queue_capacity: -1}\n", "sensor.queue_capacity: bad value '-1'"},
      {"events: [exec, exce]\n", "wardd.yaml:1: events[1]: unknown event 'exce'"},
      {"events: [auth_exec]\n", "events[0]: 'auth_exec' is an AUTH event"},
      {"events: []\n", "events: must name at least one event or group"},
      {"outputs:\n  - {type: stdout}\n  - {type: file, path: /tmp/x, format: xml}\n",
       "wardd.yaml:3: outputs[1].format: bad value 'xml' (expected one of: eslogger, ecs, ocsf)"},
      {"outputs:\n  - {type: file, format: summary, path: /x}\n", "outputs[0].format: bad value 'summary'"},
      {"outputs:\n  - {type: printer}\n", "wardd.yaml:2: outputs[0].type: bad value 'printer'"},
      {"outputs:\n  - {format: ecs}\n", "wardd.yaml:2: outputs[0]: missing required key 'type'"},
      {"outputs:\n  - {type: file}\n",
       "wardd.yaml:2: outputs[0]: missing required key 'path' for a file output"},
      {"outputs:\n  - type: file\n    path: /x\n    max_bytes: 10 parsecs\n",
       "wardd.yaml:4: outputs[0].max_bytes: bad size '10 parsecs'"},
      {"outputs:\n  - {type: file, path: /x, keep: 0}\n", "outputs[0].keep: bad value '0'"},
      {"outputs:\n  - {type: store, path: relative.db}\n", "outputs[0].path: must be an absolute path"},
      {"outputs:\n  - {type: store, rotate: true}\n",
       "outputs[0].rotate: unknown key (expected one of: type, format, events, path, retention_days, "
       "max_bytes)"},
      {"outputs:\n  - {type: stdout}\n  - {type: stdout, format: ecs}\n",
       "wardd.yaml:3: outputs[1]: a second output to the same stdout (first on line 2)"},
      {"outputs:\n  - {type: nats, spool_full: wait}\n",
       "outputs[0].spool_full: bad value 'wait' (expected one of: drop_oldest, block_notify)"},
      {"outputs:\n  - {type: nats, servers: [localhost:4222]}\n",
       "outputs[0].servers[0]: bad server 'localhost:4222'"},
      {"outputs:\n  - {type: nats, subject: \"a b\"}\n", "outputs[0].subject: bad subject 'a b'"},
      {"outputs:\n  - {type: file, path: /x, events: [fork, nope]}\n",
       "outputs[0].events[1]: unknown event 'nope'"},
      {"outputs: {type: stdout}\n", "wardd.yaml:1: outputs: must be a sequence, got a mapping"},
      {"metrics:\n  listen: 9464\n", "wardd.yaml:2: metrics.listen: bad address '9464': expected HOST:PORT"},
      {"metrics: {listen: \"127.0.0.1:99999\"}\n", "metrics.listen: bad port '99999'"},
      {"metrics: {listen: \"example.com:80\"}\n", "metrics.listen: bad host 'example.com'"},
      {"control: {socket: run/ward.sock}\n", "control.socket: must be an absolute path"},
      {"mode: monitor\nmode: lockdown\n", "wardd.yaml:2: mode: duplicate key (first on line 1)"},
      {"- a\n- b\n", "wardd.yaml:1: the config must be a mapping, got a sequence"},
      {"mode: monitor\n---\nmode: lockdown\n", "wardd.yaml:2: more than one YAML document"},
      {"auth: {scopes: [/a\n", "wardd.yaml:"},
  };
  for (const auto& c : cases) {
    const std::string error = parse_error(c.yaml);
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << "yaml:\n"
        << c.yaml << "error:    " << error << "\nexpected: " << c.expected;
  }
}

// yaml-cpp 0.7's LoadAll loops forever on a stray ','; the config loader
// must answer with an error, and soon.
TEST(ConfigTest, AStrayCommaIsAnErrorNotAHang) {
  for (const char* yaml : {",", "mode: monitor\n,\n", "[a, b],", "outputs: [],\n,"}) {
    auto result = std::async(std::launch::async, [yaml] { return parse_config(yaml, "wardd.yaml"); });
    ASSERT_EQ(result.wait_for(std::chrono::seconds(5)), std::future_status::ready) << "hangs on: " << yaml;
    auto r = result.get();
    EXPECT_FALSE(r) << yaml;
    if (!r) {
      EXPECT_EQ(r.status().message().rfind("wardd.yaml:", 0), 0u) << r.status().message();
    }
  }
}

TEST(ConfigTest, SizesTakeUnits) {
  auto bytes = [](const std::string& size) {
    auto c = parse_ok("outputs:\n  - {type: file, path: /x, max_bytes: " + size + "}\n");
    return c.outputs.empty() ? 0 : std::get<FileOutput>(c.outputs[0].sink).max_bytes;
  };
  EXPECT_EQ(bytes("1048576"), 1048576u);
  EXPECT_EQ(bytes("64K"), 64u << 10);
  EXPECT_EQ(bytes("64KiB"), 64u << 10);
  EXPECT_EQ(bytes("3MiB"), 3u << 20);
  EXPECT_EQ(bytes("1 GiB"), 1u << 30);
  EXPECT_NE(parse_error("outputs:\n  - {type: file, path: /x, max_bytes: 99999999999999999999G}\n")
                .find("bad size"),
            std::string::npos);
}

TEST(ConfigTest, EveryNotifyEventIsInExactlyOneGroup) {
  std::map<EventType, int> seen;
  for (const char* group : {"process", "file", "system", "network"})
    for (EventType t : event_group(group)) ++seen[t];
  for (const auto& info : kEventTypes) {
    if (info.action != ActionType::Notify || info.type == EventType::NotifyAuthResult) continue;
    EXPECT_EQ(seen[info.type], 1) << info.name << " belongs to " << seen[info.type] << " groups";
  }
  EXPECT_TRUE(event_group("exec").empty());
}

TEST(ConfigTest, ListenAddresses) {
  EXPECT_EQ(check_listen_address("127.0.0.1:9464"), "");
  EXPECT_EQ(check_listen_address("0.0.0.0:0"), "");
  EXPECT_EQ(check_listen_address("localhost:1"), "");
  EXPECT_EQ(check_listen_address("[::1]:9464"), "");
  EXPECT_NE(check_listen_address("127.0.0.1"), "");
  EXPECT_NE(check_listen_address("::1:9464"), "");
  EXPECT_NE(check_listen_address("127.0.0.1:"), "");
  EXPECT_NE(check_listen_address("300.0.0.1:80"), "");
}

TEST(ConfigTest, LoadingAFileNamesIt) {
  auto missing = load_config_file("/nonexistent/wardd.yaml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.status().message().rfind("/nonexistent/wardd.yaml: cannot read config file", 0), 0u);
}

// ---- ward rules: the policy edits ----------------------------------------------------

policy::Policy parse_policy_ok(const std::string& yaml) {
  auto p = policy::parse_policy(yaml, "policy.yaml");
  EXPECT_TRUE(p) << p.status().message();
  return p ? p.value() : policy::Policy{};
}

constexpr const char* kPolicy = R"(mode: lockdown
binary_rules:
  - {id: block-nc, sha256: 2C26B46B68FFC68FF99B453C1D30413413422D706483BFA0F98A5E886266E7AE, policy: block}
  - {id: usr, path_prefix: /usr/, policy: allow}
  - {id: "odd.id:x@y/z-1", path: "/opt/a b: c \"quoted\" \\ {x}", policy: silent_block}
  - {id: pkg, package: coreutils, policy: allow}
  - {id: plat, platform_binary: true, policy: allow}
  - {id: glob, path_glob: "/srv/**/*.sh", policy: block}
file_access_rules:
  - id: secrets
    shape: paths_with_allowed_processes
    paths: ["/srv/secret/*", {prefix: /srv/data/}, {literal: /etc/shadow}]
    processes: [{path: /usr/bin/cat}, {sha256: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae}, {package: openssh-server}, {uid: 0}, {path_prefix: /opt/}]
    access: read
    audit_only: true
network_cgroup: /sys/fs/cgroup/app
network_rules:
  - {id: no-smtp, protocol: tcp, port: 25}
  - {id: no-lan, direction: both, cidr: 10.0.0.0/8, port: 8000-8100, executable: /usr/bin/curl}
  - {id: by-hash, direction: bind, protocol: udp, sha256: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae}
)";

TEST(PolicyEditTest, RenderingReadsBackToTheSameRules) {
  const policy::Policy p = parse_policy_ok(kPolicy);
  ASSERT_EQ(p.binary_rules.size(), 6u);
  const std::string text = render_policy(p, policy::Mode::Lockdown);
  const policy::Policy again = parse_policy_ok(text);
  ASSERT_EQ(again.binary_rules.size(), p.binary_rules.size()) << text;
  ASSERT_EQ(again.file_rules.size(), 1u) << text;
  for (std::size_t i = 0; i < p.binary_rules.size(); ++i)
    EXPECT_EQ(rule_json(again.binary_rules[i]), rule_json(p.binary_rules[i])) << text;
  EXPECT_EQ(rule_json(again.file_rules[0]), rule_json(p.file_rules[0])) << text;
  ASSERT_EQ(again.network_rules.size(), 3u) << text;
  for (std::size_t i = 0; i < p.network_rules.size(); ++i)
    EXPECT_EQ(rule_json(again.network_rules[i]), rule_json(p.network_rules[i])) << text;
  EXPECT_EQ(again.network_cgroup, "/sys/fs/cgroup/app");
  EXPECT_EQ(again.mode, policy::Mode::Lockdown);
  EXPECT_EQ(parse_policy_ok(render_policy(p, policy::Mode::Monitor)).mode, policy::Mode::Monitor);
}

TEST(PolicyEditTest, AddAndRemove) {
  const policy::Policy p = parse_policy_ok(kPolicy);
  auto added = with_rule_added(p, "binary_rules", {{"id", "new"}, {"path", "/tmp/x"}, {"policy", "block"}});
  ASSERT_TRUE(added) << added.status().message();
  EXPECT_EQ(added.value().binary_rules.size(), 7u);
  EXPECT_EQ(added.value().binary_rules.back().id, "new");
  auto file = with_rule_added(p, "file_access_rules",
                              {{"id", "f"},
                               {"shape", "paths_with_denied_processes"},
                               {"paths", {"/srv/x/*"}},
                               {"processes", {{{"uid", 1000}}}},
                               {"access", "write"},
                               {"audit_only", false}});
  ASSERT_TRUE(file) << file.status().message();
  EXPECT_EQ(file.value().file_rules.size(), 2u);

  auto no_smtp = with_rule_removed(p, "no-smtp");
  ASSERT_TRUE(no_smtp) << no_smtp.status().message();
  EXPECT_EQ(no_smtp.value().network_rules.size(), 2u);
  auto removed = with_rule_removed(added.value(), "usr");
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed.value().binary_rules.size(), 6u);
  EXPECT_TRUE(with_rule_removed(removed.value(), "secrets").value().file_rules.empty());
}

TEST(PolicyEditTest, ABadRuleSaysWhatIsWrongAndChangesNothing) {
  const policy::Policy p = parse_policy_ok(kPolicy);
  struct Case {
    nlohmann::json rule;
    const char* expected;
  };
  const Case cases[] = {
      {{{"id", "x"}, {"sha256", "abc"}, {"policy", "block"}}, "new rule: bad sha256 'abc'"},
      {{{"id", "x"}, {"path", "/a"}, {"policy", "deny"}}, "new rule: bad value 'deny' for 'policy'"},
      {{{"id", "x"}, {"path", "/a"}, {"package", "vim"}, {"policy", "block"}}, "exactly one of"},
      {{{"id", "x"}, {"colour", "red"}, {"policy", "block"}}, "new rule: unknown field 'colour'"},
      {{{"path", "/a"}, {"policy", "block"}}, "new rule: missing required field 'id'"},
      {{{"id", "usr"}, {"path", "/a"}, {"policy", "block"}},
       "a rule with id 'usr' already exists (line 4 of policy.yaml)"},
      {{{"id", "secrets"}, {"path", "/a"}, {"policy", "block"}}, "a rule with id 'secrets' already exists"},
      {{{"id", "x"}, {"path", "/a*"}, {"policy", "block"}}, "use path_glob"},
      {{{"id", "x\n  - evil"}, {"path", "/a"}, {"policy", "block"}}, "new rule: bad rule id"},
      {"just a string", "new rule: must be a mapping"},
  };
  for (const auto& c : cases) {
    auto r = with_rule_added(p, "binary_rules", c.rule);
    ASSERT_FALSE(r) << c.rule.dump();
    EXPECT_NE(r.status().message().find(c.expected), std::string::npos)
        << c.rule.dump() << "\n  got: " << r.status().message() << "\n  expected: " << c.expected;
  }
  auto missing = with_rule_removed(p, "nope");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.status().message().find("no rule with id 'nope'"), std::string::npos);
  EXPECT_FALSE(with_rule_added(p, "other_rules", {{"id", "x"}}));
}

}  // namespace
}  // namespace ward::daemon

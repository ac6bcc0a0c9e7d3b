// ECS and OCSF golden files: one per event type (tests/golden/{ecs,ocsf}/
// NAME.json, iterating the event table like the eslogger test) plus a few
// variants whose names start with '_' (drop reports, a signalled exit, ...).
// Regenerate after a deliberate mapping change with WARD_UPDATE_GOLDEN=1 and
// review the diff.
//
// Every ECS document, golden or freshly serialized, is also checked against
// tests/fixtures/ecs_fields.json: each leaf must be a listed field, and its JSON
// type must match the field's ECS type.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "output/field_json.h"
#include "output/serializer.h"
#include "sample_messages.h"

namespace ward::output {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;
using samples::sample_message;
using samples::sample_process;

HostInfo sample_host() {
  HostInfo h;
  h.hostname = "build-host";
  h.id = "4c4c4544004d3510804bc4c04f4e4b32";
  h.architecture = "x86_64";
  h.kernel = "6.1.0-18-amd64";
  h.os_name = "Debian GNU/Linux";
  h.os_version = "12";
  h.os_family = "debian";
  h.run_id = "5eed0123abcd4567";
  return h;
}

uint64_t fixed_clock() { return 1'764'626'746'500'000'000ull; }

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Compares (or, with WARD_UPDATE_GOLDEN, rewrites) one golden file. Key order
// is part of the contract, so the comparison keeps it.
void check_golden(std::string_view schema, std::string_view name, const std::string& line) {
  SCOPED_TRACE(std::string(schema) + "/" + std::string(name));
  ordered_json doc;
  ASSERT_NO_THROW(doc = ordered_json::parse(line)) << line;
  std::string pretty = doc.dump(2) + "\n";
  auto path = std::filesystem::path(WARD_GOLDEN_DIR) / schema / (std::string(name) + ".json");
  if (std::getenv("WARD_UPDATE_GOLDEN") != nullptr) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << pretty;
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(path)) << "missing golden file " << path;
  EXPECT_EQ(pretty, read_file(path));
}

// Records beyond one per event type: the paths the per-type samples miss.
struct Variant {
  std::string name;
  std::function<void(const Serializer&, std::string&)> write;
};

std::vector<Variant> variants() {
  std::vector<Variant> v;
  v.push_back({"_drop_report", [](const Serializer& s, std::string& out) {
                 s.serialize_drop(DropReport{"kernel:bpf:process", EventType::NotifyExec, 3}, out);
               }});
  v.push_back({"_drop_report_unknown_type", [](const Serializer& s, std::string& out) {
                 s.serialize_drop(DropReport{"netlink:proc_connector", std::nullopt, 12}, out);
               }});
  v.push_back({"_exit_signaled", [](const Serializer& s, std::string& out) {
                 Message m = sample_message(EventType::NotifyExit);
                 m.event = std::make_shared<const Event>(ExitEvent{SIGABRT | 0x80});  // core dumped
                 s.serialize(m, out);
               }});
  v.push_back({"_exec_env_script", [](const Serializer& s, std::string& out) {
                 Message m = sample_message(EventType::NotifyExec);
                 ExecEvent e = std::get<ExecEvent>(*m.event);
                 auto target = std::make_shared<Process>(*e.target);
                 target->sha256.reset();  // unreadable, or replaced after it ran
                 target->package.reset();
                 target->is_platform_binary = false;
                 target->tty.reset();
                 target->audit_token.auid = 0xffffffff;
                 target->audit_token.asid = 0xffffffff;
                 target->executable.path = "/usr/bin/python3.11";
                 target->comm = "run.py";
                 e.target = target;
                 e.args = {"/usr/bin/python3", "/home/user/run.py"};
                 e.args_truncated = true;
                 e.env = std::vector<std::string>{"PATH=/usr/bin", "LANG=C.UTF-8"};
                 e.script = File{"/home/user/run.py", false, std::nullopt};
                 m.event = std::make_shared<const Event>(std::move(e));
                 s.serialize(m, out);
               }});
  v.push_back({"_auth_result_allow_open", [](const Serializer& s, std::string& out) {
                 Message m = sample_message(EventType::NotifyAuthResult);
                 m.event = std::make_shared<const Event>(
                     AuthResultEvent{1, "/srv/secret/plan.txt", "allow", "cache", true, false, "", 4000});
                 s.serialize(m, out);
               }});
  v.push_back({"_utimes_both_times", [](const Serializer& s, std::string& out) {
                 Message m = sample_message(EventType::NotifyUtimes);
                 UtimesEvent e = std::get<UtimesEvent>(*m.event);
                 e.atime = Timespec{-86400, 5};  // before 1970: touch -d 1969-12-31
                 m.event = std::make_shared<const Event>(std::move(e));
                 s.serialize(m, out);
               }});
  v.push_back({"_settime_step", [](const Serializer& s, std::string& out) {
                 Message m = sample_message(EventType::NotifySettime);
                 SettimeEvent e = std::get<SettimeEvent>(*m.event);
                 e.new_time = Timespec{-2, 500'000'000};  // stepped back by 1.5 s
                 e.is_offset = true;
                 m.event = std::make_shared<const Event>(std::move(e));
                 s.serialize(m, out);
               }});
  v.push_back({"_create_symlink", [](const Serializer& s, std::string& out) {
                 Message m = sample_message(EventType::NotifyCreate);
                 CreateEvent e = std::get<CreateEvent>(*m.event);
                 e.mode = 0120777;
                 e.destination.stat.reset();
                 e.symlink_target = "../shared/config.yaml";
                 m.event = std::make_shared<const Event>(std::move(e));
                 s.serialize(m, out);
               }});
  v.push_back({"_connect_in_progress_ipv6", [](const Serializer& s, std::string& out) {
                 Message m = sample_message(EventType::NotifyConnect);
                 m.event = std::make_shared<const Event>(
                     ConnectEvent{{10, "2001:db8::80", 80}, {10, "2001:db8::5", 40000}, 6, 1, -115});
                 s.serialize(m, out);
               }});
  return v;
}

void check_all_goldens(std::string_view schema, const Serializer& serializer) {
  for (const auto& info : kEventTypes) {
    Message m = sample_message(info.type);
    ASSERT_TRUE(m.event) << "no sample message for " << info.name << ": add one in sample_messages.h";
    std::string line;
    serializer.serialize(m, line);
    EXPECT_EQ(line.find('\n'), std::string::npos) << "a record is one line";
    check_golden(schema, info.name, line);
  }
  for (const auto& v : variants()) {
    std::string line;
    v.write(serializer, line);
    check_golden(schema, v.name, line);
  }
}

TEST(EcsGolden, EveryEventTypeAndVariantMatchesItsGoldenFile) {
  check_all_goldens("ecs", *make_ecs_serializer(sample_host(), fixed_clock));
}

TEST(OcsfGolden, EveryEventTypeAndVariantMatchesItsGoldenFile) {
  check_all_goldens("ocsf", *make_ocsf_serializer(sample_host(), fixed_clock));
}

// ---- ECS field types -------------------------------------------------------

// Problems with one ECS document against the field list; empty = valid.
class EcsFieldChecker {
 public:
  explicit EcsFieldChecker(const json& fixture) {
    for (const auto& section : {"fields", "ward_fields"})
      for (const auto& [name, type] : fixture.at(section).items()) types_[name] = type.get<std::string>();
  }

  std::vector<std::string> check(const json& doc) {
    std::vector<std::string> problems;
    walk(doc, "", problems);
    return problems;
  }

  const std::map<std::string, std::string>& types() const { return types_; }
  const std::set<std::string>& seen() const { return seen_; }

 private:
  void walk(const json& node, const std::string& path, std::vector<std::string>& problems) {
    if (node.is_object()) {
      if (auto it = types_.find(path);
          it != types_.end() && (it->second == "flattened" || it->second == "object")) {
        seen_.insert(path);
        return;  // a free-form subtree
      }
      for (const auto& [key, child] : node.items())
        walk(child, path.empty() ? key : path + "." + key, problems);
      return;
    }
    auto it = types_.find(path);
    if (it == types_.end()) {
      problems.push_back(path +
                         ": not in tests/fixtures/ecs_fields.json (add it with its ECS type, or map it)");
      return;
    }
    seen_.insert(path);
    if (node.is_array()) {
      for (const auto& element : node) check_leaf(path, it->second, element, problems);
      return;
    }
    check_leaf(path, it->second, node, problems);
  }

  static bool is_rfc3339(const std::string& s) {
    static const std::regex kDate(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$)");
    return std::regex_match(s, kDate);
  }

  static bool is_ip(const std::string& s) {
    unsigned char buf[sizeof(in6_addr)];
    return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
  }

  static void check_leaf(const std::string& path, const std::string& type, const json& v,
                         std::vector<std::string>& problems) {
    bool ok = false;
    if (v.is_null()) {
      problems.push_back(path + ": null (ECS documents leave unknown values out)");
      return;
    }
    if (type == "keyword" || type == "wildcard" || type == "match_only_text" || type == "text" ||
        type == "constant_keyword")
      ok = v.is_string();
    else if (type == "long" || type == "integer" || type == "short" || type == "byte")
      ok = v.is_number_integer();
    else if (type == "unsigned_long")
      ok = v.is_number_unsigned();
    else if (type == "float" || type == "double" || type == "scaled_float" || type == "half_float")
      ok = v.is_number();
    else if (type == "boolean")
      ok = v.is_boolean();
    else if (type == "date")
      ok = v.is_string() && is_rfc3339(v.get<std::string>());
    else if (type == "ip")
      ok = v.is_string() && is_ip(v.get<std::string>());
    else {
      problems.push_back(path + ": unknown ECS type '" + type + "' in the fixture");
      return;
    }
    if (!ok) problems.push_back(path + ": " + v.dump() + " is not a valid " + type);
  }

  std::map<std::string, std::string> types_;
  std::set<std::string> seen_;
};

json load_fixture() {
  auto path = std::filesystem::path(WARD_GOLDEN_DIR) / ".." / "fixtures" / "ecs_fields.json";
  return json::parse(read_file(path));
}

TEST(EcsFields, FixtureSeparatesEcsFieldsFromWardFields) {
  json fixture = load_fixture();
  for (const auto& [name, type] : fixture.at("fields").items())
    EXPECT_NE(name.rfind("ward.", 0), 0u) << name << " is Ward's own: list it under ward_fields";
  for (const auto& [name, type] : fixture.at("ward_fields").items())
    EXPECT_EQ(name.rfind("ward.", 0), 0u) << name << " is not under ward.*: list it under fields";
}

TEST(EcsFields, EveryDocumentMatchesTheEcsFieldTypes) {
  EcsFieldChecker checker(load_fixture());
  auto check = [&](const std::string& what, const std::string& text) {
    SCOPED_TRACE(what);
    json doc;
    ASSERT_NO_THROW(doc = json::parse(text));
    for (const auto& problem : checker.check(doc)) ADD_FAILURE() << problem;
  };
  // The golden files on disk...
  std::size_t files = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(WARD_GOLDEN_DIR) / "ecs")) {
    if (entry.path().extension() != ".json") continue;
    check(entry.path().string(), read_file(entry.path()));
    ++files;
  }
  EXPECT_GE(files, kEventTypes.size());
  // ...and what the serializer writes now, with a real host.
  auto serializer = make_ecs_serializer(local_host_info());
  for (const auto& info : kEventTypes) {
    std::string line;
    serializer->serialize(sample_message(info.type), line);
    check(std::string(info.name), line);
  }
  for (const auto& v : variants()) {
    std::string line;
    v.write(*serializer, line);
    check(v.name, line);
  }
  // The list holds nothing the serializer never writes: it documents the output.
  for (const auto& [name, type] : checker.types())
    EXPECT_TRUE(checker.seen().count(name)) << name << " is listed but no document has it";
}

TEST(EcsFields, CheckerRejectsWrongTypesUnknownFieldsAndNulls) {
  json fixture = {{"fields",
                   {{"@timestamp", "date"},
                    {"process.pid", "long"},
                    {"user.id", "keyword"},
                    {"destination.ip", "ip"},
                    {"process.interactive", "boolean"}}},
                  {"ward_fields", json::object()}};
  EcsFieldChecker checker(fixture);
  EXPECT_TRUE(checker
                  .check(json::parse(R"({"@timestamp":"2026-12-01T22:05:44.123456789Z","process":{"pid":4,
                    "interactive":false},"user":{"id":"0"},"destination":{"ip":"2001:db8::1"}})"))
                  .empty());
  EXPECT_EQ(checker.check(json::parse(R"({"@timestamp":"2026-12-01 22:05:44"})")).size(), 1u);
  EXPECT_EQ(checker.check(json::parse(R"({"process":{"pid":"4"}})")).size(), 1u);
  EXPECT_EQ(checker.check(json::parse(R"({"user":{"id":0}})")).size(), 1u);
  EXPECT_EQ(checker.check(json::parse(R"({"destination":{"ip":"10.0.0.256"}})")).size(), 1u);
  EXPECT_EQ(checker.check(json::parse(R"({"process":{"interactive":"true"}})")).size(), 1u);
  EXPECT_EQ(checker.check(json::parse(R"({"process":{"title":"x"}})")).size(), 1u);
  EXPECT_EQ(checker.check(json::parse(R"({"process":{"pid":null}})")).size(), 1u);
}

// ---- OCSF structure --------------------------------------------------------

TEST(Ocsf, EveryEventHasTheBaseAttributes) {
  auto serializer = make_ocsf_serializer(sample_host(), fixed_clock);
  auto check = [&](const std::string& what, const std::string& line) {
    SCOPED_TRACE(what);
    json j = json::parse(line);
    for (const char* key : {"class_uid", "category_uid", "activity_id", "type_uid", "time", "severity_id"})
      EXPECT_TRUE(j.contains(key) && j[key].is_number_integer()) << key;
    EXPECT_EQ(j["type_uid"], j["class_uid"].get<int64_t>() * 100 + j["activity_id"].get<int64_t>());
    EXPECT_EQ(j["metadata"]["version"], std::string(kOcsfVersion));
    EXPECT_EQ(j["metadata"]["product"]["name"], "Ward");
    EXPECT_TRUE(j["metadata"]["product"]["vendor_name"].is_string());
    EXPECT_EQ(j["device"]["hostname"], "build-host");
    EXPECT_EQ(j["device"]["os"]["type_id"], 200);
  };
  for (const auto& info : kEventTypes) {
    std::string line;
    Message m = sample_message(info.type);
    serializer->serialize(m, line);
    check(std::string(info.name), line);
    json j = json::parse(line);
    EXPECT_EQ(j["time"], m.time_ns / 1'000'000) << "time is ms since the epoch";
    EXPECT_EQ(j["actor"]["process"]["pid"], m.process->audit_token.pid);
  }
  for (const auto& v : variants()) {
    std::string line;
    v.write(*serializer, line);
    check(v.name, line);
  }
}

TEST(Ocsf, ClassAndActivityPerEventType) {
  auto serializer = make_ocsf_serializer(sample_host(), fixed_clock);
  auto serialize = [&](const Message& m) {
    std::string line;
    serializer->serialize(m, line);
    return json::parse(line);
  };
  json exec = serialize(sample_message(EventType::NotifyExec));
  EXPECT_EQ(exec["class_uid"], 1007);
  EXPECT_EQ(exec["activity_id"], 1);
  EXPECT_EQ(exec["launch_type_id"], 3);
  EXPECT_EQ(exec["process"]["file"]["path"], "/usr/bin/echo");
  EXPECT_EQ(exec["actor"]["process"]["file"]["path"], "/usr/bin/bash");
  EXPECT_EQ(exec["process"]["file"]["hashes"][0]["algorithm_id"], 3);
  EXPECT_EQ(exec["process"]["lineage"][1], "/usr/lib/systemd/systemd");

  json fork = serialize(sample_message(EventType::NotifyFork));
  EXPECT_EQ(fork["type_uid"], 100701);
  EXPECT_EQ(fork["launch_type_id"], 2);
  EXPECT_EQ(fork["process"]["pid"], 4243);
  EXPECT_EQ(fork["process"]["parent_process"]["pid"], 4242);

  json exit = serialize(sample_message(EventType::NotifyExit));
  EXPECT_EQ(exit["type_uid"], 100702);
  EXPECT_EQ(exit["exit_code"], 1);

  json open = serialize(sample_message(EventType::AuthOpen));
  EXPECT_EQ(open["class_uid"], 1001);
  EXPECT_EQ(open["activity_id"], 14);
  EXPECT_EQ(open["status_id"], 0) << "an AUTH request is not decided yet";
  EXPECT_EQ(open["file"]["name"], "plan.txt");

  json denied = serialize(sample_message(EventType::NotifyAuthResult));
  EXPECT_EQ(denied["class_uid"], 1007) << "the class of the decided event (auth_exec)";
  EXPECT_EQ(denied["disposition_id"], 2);
  EXPECT_EQ(denied["action_id"], 2);
  EXPECT_EQ(denied["status_id"], 2);
  EXPECT_EQ(denied["metadata"]["profiles"][0], "security_control");
}

// ---- What both do with what they do not know ---------------------------------

TEST(EcsOcsf, MessageWithoutPayloadStillSerializes) {
  Message m = sample_message(EventType::NotifyExec);
  m.event.reset();
  std::string ecs, ocsf;
  make_ecs_serializer(sample_host(), fixed_clock)->serialize(m, ecs);
  make_ocsf_serializer(sample_host(), fixed_clock)->serialize(m, ocsf);
  json e = json::parse(ecs);
  EXPECT_EQ(e["event"]["action"], "exec");
  EXPECT_EQ(e["process"]["pid"], 4242);
  json o = json::parse(ocsf);
  EXPECT_EQ(o["class_uid"], 0);
  EXPECT_EQ(o["activity_id"], 99);
  EXPECT_EQ(o["metadata"]["event_code"], "exec");
}

// The fallback writes an unmapped payload through its fields(): this is what
// a payload added to ward::Event looks like before it has a mapping.
enum class Direction : uint8_t { In = 1, Out = 2 };
struct FuturePayload {
  std::string address;
  std::optional<uint16_t> port;
  std::optional<std::string> absent;
  Direction direction = Direction::Out;
  std::vector<std::string> tags;
  WallTime when;
  ProcessPtr peer;
  static constexpr auto fields() {
    return std::make_tuple(field("address", &FuturePayload::address), field("port", &FuturePayload::port),
                           field("absent", &FuturePayload::absent),
                           field("direction", &FuturePayload::direction), field("tags", &FuturePayload::tags),
                           field("when", &FuturePayload::when), field("peer", &FuturePayload::peer));
  }
};

TEST(EcsOcsf, FieldWalkerWritesAnyDescribedPayloadAndLeavesOutTheAbsent) {
  FuturePayload p{"10.0.0.1", 443, std::nullopt, Direction::Out, {"a"}, {1'000'000'000}, nullptr};
  std::string out;
  JsonWriter w(out);
  field_json::write_object(w, p);
  json j = json::parse(out);
  EXPECT_EQ(j, json::parse(R"({"address":"10.0.0.1","port":443,"direction":2,"tags":["a"],
                               "when":"1970-01-01T00:00:01.000000000Z"})"));
}

TEST(HostInfo, LocalHostIsReadAndRunIdsDiffer) {
  HostInfo a = local_host_info();
  HostInfo b = local_host_info();
  EXPECT_FALSE(a.hostname.empty());
  EXPECT_FALSE(a.kernel.empty());
  EXPECT_EQ(a.run_id.size(), 16u);
  EXPECT_NE(a.run_id, b.run_id);
}

}  // namespace
}  // namespace ward::output

// One golden JSON file per event type (tests/golden/eslogger/NAME.json).
// Regenerate after a deliberate schema change with WARD_UPDATE_GOLDEN=1, and
// review the diff: the files are the schema's documentation by example.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "output/serializer.h"

namespace ward::output {
namespace {

std::shared_ptr<Process> sample_process(pid_t pid, uint32_t version, std::string path) {
  auto p = std::make_shared<Process>();
  p->audit_token = {pid, version, 1000, 1000, 1000, 1000, 1000, 3};
  p->ppid = 100;
  p->original_ppid = 100;
  p->group_id = pid;
  p->session_id = 100;
  p->parent_audit_token = AuditToken{100, 2, 1000, 1000, 1000, 1000, 1000, 3};
  p->executable.path = std::move(path);
  p->executable.stat = FileStat{0x10301, 1234, 0100755, 0, 0, 35208, {1700000000, 5}, {1700000001, 6}};
  p->tty = "/dev/pts/0";
  p->start_time = WallTime{1'764'626'744'000'000'000ull};
  p->comm = "bash";
  return p;
}

Message sample_message(EventType type) {
  Message m;
  m.time_ns = 1'764'626'745'123'456'789ull;
  m.mono_time_ns = 98'765'432'100ull;
  m.seq_num = 7;
  m.global_seq_num = 21;
  m.event_type = type;
  m.thread_id = 4242;
  m.process = sample_process(4242, 5, "/usr/bin/bash");
  switch (type) {
    case EventType::AuthExec:
    case EventType::NotifyExec: {
      auto target = sample_process(4242, 6, "/usr/bin/echo");
      target->comm = "echo";
      target->package = "coreutils";
      target->is_platform_binary = true;
      target->sha256 = std::string(64, 'c');
      target->ancestors = {Ancestor{*target->parent_audit_token, "/usr/bin/bash"},
                           Ancestor{{1, 1, 0, 0, 0, 0, 0xffffffff, 0xffffffff}, "/usr/lib/systemd/systemd"}};
      ExecEvent e;
      e.target = target;
      e.args = {"/bin/echo", "a b", "c\"\n\t"};
      e.cwd.path = "/home/user";
      m.event = std::make_shared<const Event>(std::move(e));
      break;
    }
    case EventType::NotifyFork:
      m.event = std::make_shared<const Event>(ForkEvent{sample_process(4243, 8, "/usr/bin/bash")});
      break;
    case EventType::NotifyExit:
      m.event = std::make_shared<const Event>(ExitEvent{0x0100});
      break;
    case EventType::AuthOpen: {
      OpenEvent o;
      o.file.path = "/srv/secret/plan.txt";
      o.file.stat = FileStat{0x10301, 99, 0100640, 0, 0, 12, {1700000000, 0}, {1700000000, 0}};
      o.fflag = kFflagRead;
      m.event = std::make_shared<const Event>(std::move(o));
      break;
    }
    case EventType::NotifyAuthResult:
      m.event = std::make_shared<const Event>(
          AuthResultEvent{0, "/tmp/blocked", "deny", "client", false, false, "block-by-sha256", 125000});
      break;
  }
  if (event_info(type)->action == ActionType::Auth) {
    m.action_type = ActionType::Auth;
    m.deadline_ns = m.mono_time_ns + 5'000'000'000ull;
    m.auth_id = 77;
  }
  return m;
}

std::string golden_path(std::string_view name) {
  return std::string(WARD_GOLDEN_DIR) + "/eslogger/" + std::string(name) + ".json";
}

TEST(EsloggerGolden, EveryEventTypeMatchesItsGoldenFile) {
  auto serializer = make_eslogger_json_serializer();
  bool update = std::getenv("WARD_UPDATE_GOLDEN") != nullptr;
  for (const auto& info : kEventTypes) {
    SCOPED_TRACE(std::string(info.name));
    Message m = sample_message(info.type);
    ASSERT_TRUE(m.event) << "no sample message for this event type: add one";
    std::string line;
    serializer->serialize(m, line);
    // Every record is valid JSON; key order is part of the contract, so the
    // comparison keeps it.
    std::string pretty = nlohmann::ordered_json::parse(line).dump(2) + "\n";
    if (update) {
      std::ofstream(golden_path(info.name)) << pretty;
      continue;
    }
    std::ifstream in(golden_path(info.name));
    ASSERT_TRUE(in.good()) << "missing golden file " << golden_path(info.name);
    std::stringstream want;
    want << in.rdbuf();
    EXPECT_EQ(pretty, want.str());
  }
}

TEST(EsloggerJson, DropRecordParses) {
  auto serializer = make_eslogger_json_serializer();
  std::string line;
  serializer->serialize_drop(DropReport{"kernel:bpf:process", EventType::NotifyExec, 3}, line);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["drop"]["count"], 3);
  EXPECT_EQ(j["drop"]["event_type"], 9);
}

}  // namespace
}  // namespace ward::output

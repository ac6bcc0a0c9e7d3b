// One golden JSON file per event type (tests/golden/eslogger/NAME.json).
// Regenerate after a deliberate schema change with WARD_UPDATE_GOLDEN=1, and
// review the diff: the files are the schema's documentation by example.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "output/serializer.h"
#include "sample_messages.h"

namespace ward::output {
namespace {

using samples::sample_message;

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

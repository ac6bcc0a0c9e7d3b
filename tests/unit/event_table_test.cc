#include <gtest/gtest.h>

#include <set>

#include "ward/event_table.h"

namespace ward {
namespace {

TEST(EventTable, NamesAndNumbersAreUnique) {
  std::set<std::string_view> names;
  std::set<uint32_t> numbers;
  for (const auto& info : kEventTypes) {
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_TRUE(numbers.insert(info.es_number).second) << info.name;
    EXPECT_EQ(static_cast<uint32_t>(info.type), info.es_number);
  }
}

TEST(EventTable, LooksUpByName) {
  EXPECT_EQ(event_type_from_name("exec"), EventType::NotifyExec);
  EXPECT_EQ(event_type_from_name("fork"), EventType::NotifyFork);
  EXPECT_EQ(event_type_from_name("exit"), EventType::NotifyExit);
  EXPECT_FALSE(event_type_from_name("nonsense").has_value());
  EXPECT_EQ(event_name(EventType::NotifyExec), "exec");
}

TEST(EventTable, EsNumbersMatchApple) {
  // es_event_type_t: ES_EVENT_TYPE_NOTIFY_EXEC = 9, _FORK = 11, _EXIT = 15.
  EXPECT_EQ(event_info(EventType::NotifyExec)->es_number, 9u);
  EXPECT_EQ(event_info(EventType::NotifyFork)->es_number, 11u);
  EXPECT_EQ(event_info(EventType::NotifyExit)->es_number, 15u);
}

TEST(EventTable, PayloadIndexMatchesVariant) {
  EXPECT_EQ(event_info(EventType::NotifyExec)->payload_index, Event(ExecEvent{}).index());
  EXPECT_EQ(event_info(EventType::NotifyFork)->payload_index, Event(ForkEvent{}).index());
  EXPECT_EQ(event_info(EventType::NotifyExit)->payload_index, Event(ExitEvent{}).index());
}

TEST(EventTable, DenseIndexCoversEveryType) {
  for (std::size_t i = 0; i < kEventTypes.size(); ++i) EXPECT_EQ(event_index(kEventTypes[i].type), i);
}

}  // namespace
}  // namespace ward

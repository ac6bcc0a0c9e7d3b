#include "auth/auth_broker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace ward::auth {
namespace {

class RecordingKernel : public KernelResponder {
 public:
  void answer(const Request& r, bool allow) override {
    std::lock_guard lock(mu);
    answers.push_back({r.id, allow});
  }
  void cache_allow(const Request& r) override {
    std::lock_guard lock(mu);
    cached.push_back(r.id);
  }
  void clear_kernel_cache() override { ++clears; }
  std::optional<bool> answer_for(uint64_t id) {
    std::lock_guard lock(mu);
    for (auto& [i, a] : answers)
      if (i == id) return a;
    return std::nullopt;
  }
  std::mutex mu;
  std::vector<std::pair<uint64_t, bool>> answers;
  std::vector<uint64_t> cached;
  int clears = 0;
};

Answer client(int n, DeadlineMissMode mode = DeadlineMissMode::FailOpen) {
  Answer a;
  a.client = reinterpret_cast<const void*>(static_cast<uintptr_t>(n));
  a.miss_mode = mode;
  return a;
}
Answer answered(AuthResult r, bool cache = false) {
  Answer a = client(1);
  a.result = r;
  a.cache = cache;
  return a;
}

TEST(Combine, AnyDenyDenies) {
  auto c = combine({answered(AuthResult::Allow), answered(AuthResult::Deny)}, AuthResult::Allow);
  EXPECT_TRUE(c.complete);
  EXPECT_FALSE(c.allow);
}

TEST(Combine, DenyIsFinalBeforeOthersAnswer) {
  auto c = combine({client(1), answered(AuthResult::Deny)}, AuthResult::Allow);
  EXPECT_TRUE(c.complete);
  EXPECT_FALSE(c.allow);
}

TEST(Combine, WaitsForEveryAnswerBeforeAllowing) {
  EXPECT_FALSE(combine({answered(AuthResult::Allow), client(2)}, AuthResult::Allow).complete);
}

TEST(Combine, DeferPassesAndAllDeferFallsToDefault) {
  auto c = combine({answered(AuthResult::Defer), answered(AuthResult::Allow, true)}, AuthResult::Deny);
  EXPECT_TRUE(c.allow);
  EXPECT_TRUE(c.cache);
  EXPECT_FALSE(combine({answered(AuthResult::Defer), answered(AuthResult::Defer)}, AuthResult::Deny).allow);
  EXPECT_TRUE(combine({answered(AuthResult::Defer)}, AuthResult::Allow).allow);
  EXPECT_TRUE(combine({}, AuthResult::Allow).allow);
}

TEST(Combine, CachesOnlyWhenEveryAllowSaysSoAndNoWatchdog) {
  EXPECT_FALSE(combine({answered(AuthResult::Allow, true), answered(AuthResult::Allow, false)}, AuthResult::Allow)
                   .cache);
  Answer w = answered(AuthResult::Allow, true);
  w.by_watchdog = true;
  EXPECT_FALSE(combine({w}, AuthResult::Allow).cache);
}

class BrokerTest : public ::testing::Test {
 protected:
  uint64_t now() const { return clock.load(); }
  Request request(uint64_t id, uint64_t deadline_ns) {
    Request r;
    r.id = id;
    r.mask = 1;
    r.key.ino = id;
    r.received_boot_ns = now();
    r.deadline_boot_ns = now() + deadline_ns;
    return r;
  }
  std::atomic<uint64_t> clock{1'000'000'000};
  RecordingKernel kernel;
  std::vector<AuthResultEvent> decided;
  std::mutex decided_mu;
  AuthOptions options{};
  std::unique_ptr<AuthBroker> broker = std::make_unique<AuthBroker>(
      kernel, options,
      [this](const Request&, AuthResultEvent&& e) {
        std::lock_guard lock(decided_mu);
        decided.push_back(std::move(e));
      },
      [this] { return now(); });
};

TEST_F(BrokerTest, AnswersOnceWhenEveryClientAnswered) {
  broker->open(request(1, 5'000'000'000), DeadlineMissMode::FailOpen);
  broker->expect(1, "/x", {client(1), client(2)});
  ASSERT_TRUE(broker->respond(1, client(1).client, AuthResult::Allow, true, {}));
  EXPECT_FALSE(kernel.answer_for(1).has_value());
  ASSERT_TRUE(broker->respond(1, client(2).client, AuthResult::Allow, true, {"rule-2", false}));
  EXPECT_EQ(kernel.answer_for(1), true);
  EXPECT_EQ(kernel.cached, std::vector<uint64_t>{1});
  EXPECT_FALSE(broker->respond(1, client(2).client, AuthResult::Deny, false, {})) << "late answers are refused";
  ASSERT_EQ(decided.size(), 1u);
  EXPECT_EQ(decided[0].decided_by, "client");
  EXPECT_TRUE(decided[0].cached);
}

TEST_F(BrokerTest, CachedKeyIsAnsweredWithoutClients) {
  broker->open(request(1, 5'000'000'000), DeadlineMissMode::FailOpen);
  broker->expect(1, "/x", {client(1)});
  broker->respond(1, client(1).client, AuthResult::Allow, true, {});
  EXPECT_TRUE(broker->try_cache(request(1, 5'000'000'000)));
  EXPECT_EQ(broker->counters().cache_hits, 1u);
  broker->clear_cache();
  EXPECT_FALSE(broker->try_cache(request(1, 5'000'000'000)));
  EXPECT_EQ(kernel.clears, 1);
}

TEST_F(BrokerTest, EarlyAnswerBeforeExpectCounts) {
  broker->open(request(3, 5'000'000'000), DeadlineMissMode::FailOpen);
  ASSERT_TRUE(broker->respond(3, client(1).client, AuthResult::Deny, false, {}));
  EXPECT_FALSE(kernel.answer_for(3).has_value());
  broker->expect(3, "/x", {client(1)});
  EXPECT_EQ(kernel.answer_for(3), false);
}

TEST_F(BrokerTest, WatchdogUsesEachClientsMissMode) {
  std::atomic<uint64_t> missed{0};
  Answer closed = client(1, DeadlineMissMode::FailClosed);
  closed.missed_counter = &missed;
  broker->open(request(7, 1'000'000'000), DeadlineMissMode::FailOpen);
  broker->expect(7, "/x", {closed});
  clock += 950'000'000;  // past deadline - margin (100 ms)
  for (int i = 0; i < 200 && !kernel.answer_for(7); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(kernel.answer_for(7), false);
  EXPECT_EQ(missed.load(), 1u);
  EXPECT_TRUE(kernel.cached.empty()) << "watchdog answers are never cached";
  EXPECT_EQ(broker->counters().watchdog_answers, 1u);
}

TEST_F(BrokerTest, WatchdogCoversRequestsNeverDispatched) {
  broker->open(request(8, 1'000'000'000), DeadlineMissMode::FailClosed);
  clock += 2'000'000'000;
  for (int i = 0; i < 200 && !kernel.answer_for(8); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(kernel.answer_for(8), false);
}

TEST_F(BrokerTest, AGoneClientDefersAndNobodyWaitsForIt) {
  broker->open(request(10, 60'000'000'000), DeadlineMissMode::FailOpen);
  broker->expect(10, "/x", {client(1), client(2)});
  broker->respond(10, client(2).client, AuthResult::Allow, false, {});
  EXPECT_FALSE(kernel.answer_for(10).has_value());
  broker->client_gone(client(1).client);
  EXPECT_EQ(kernel.answer_for(10), true);
}

TEST_F(BrokerTest, DestructionAnswersEverythingPending) {
  broker->open(request(9, 60'000'000'000), DeadlineMissMode::FailOpen);
  broker->expect(9, "/x", {client(1)});
  broker.reset();
  EXPECT_EQ(kernel.answer_for(9), true);
}

}  // namespace
}  // namespace ward::auth

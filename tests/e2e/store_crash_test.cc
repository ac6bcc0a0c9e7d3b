// kill -9 of a process writing to the event store as fast as it can: the
// store must open cleanly afterwards (integrity_check = ok) and hold every
// event whose flush() had returned OK before the kill.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "e2e_util.h"
#include "store/event_store.h"
#include "store/readonly_query.h"

namespace ward::e2e {
namespace {

using Clock = std::chrono::steady_clock;

// The fixture process with its stdout on a pipe; SIGKILLed and reaped on destruction.
class Writer {
 public:
  explicit Writer(std::vector<std::string> argv) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      dup2(out[1], 1);
      std::vector<char*> cargv;
      for (auto& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      execv(cargv[0], cargv.data());
      _exit(127);
    }
    close(out[1]);
    out_fd_ = out[0];
  }
  ~Writer() {
    kill_now();
    reap();
    close(out_fd_);
  }
  // The last acknowledged count printed so far; reads what is available for up to `wait`.
  // Returns false at end of output.
  bool pump(std::chrono::milliseconds wait) {
    pollfd p{out_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(wait.count())) <= 0) return true;
    char buf[65536];
    const ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n <= 0) return false;
    partial_.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = partial_.find('\n')) != std::string::npos) {
      acked_ = std::stoull(partial_.substr(0, nl));
      partial_.erase(0, nl + 1);
    }
    return true;
  }
  uint64_t acked() const { return acked_; }
  void kill_now() {
    if (pid_ > 0 && !reaped_) kill(pid_, SIGKILL);
  }
  int reap() {
    if (pid_ > 0 && !reaped_) {
      waitpid(pid_, &status_, 0);
      reaped_ = true;
    }
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int status_ = -1;
  bool reaped_ = false;
  std::string partial_;
  uint64_t acked_ = 0;
};

int64_t single_int(const std::string& db, const std::string& sql) {
  auto r = store::query_readonly(db, sql);
  EXPECT_TRUE(r.is_ok()) << sql << ": " << r.status().message();
  if (!r || r.value().rows.empty()) return -1;
  const auto& v = r.value().rows[0][0];
  return std::holds_alternative<int64_t>(v) ? std::get<int64_t>(v) : -1;
}

TEST(StoreCrashTest, KillDuringHeavyWritesKeepsEveryAcknowledgedEvent) {
  TempDir dir;
  const std::string db = dir.path() + "/events.db";
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  uint64_t next_seq = 0;
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const uint64_t target = next_seq + 20000 + rng() % 30000;
    uint64_t acked = 0;
    {
      Writer writer({bin_path("store_writer_fixture"), db, std::to_string(next_seq), "500"});
      const auto deadline = Clock::now() + std::chrono::seconds(30);
      while (writer.acked() < target && Clock::now() < deadline) {
        if (!writer.pump(std::chrono::milliseconds(100))) break;
      }
      ASSERT_GE(writer.acked(), target) << "the writer did not get far enough (exited or too slow)";
      // Let it run on a little, so the kill lands mid-batch at a random point.
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 40));
      writer.kill_now();
      while (writer.pump(std::chrono::milliseconds(1000))) {
      }
      const int status = writer.reap();
      ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
      acked = writer.acked();
    }

    // Opens cleanly (and recovers the WAL), passes the integrity check.
    store::StoreOptions options;
    options.path = db;
    auto store = store::EventStore::open(options);
    ASSERT_TRUE(store.is_ok()) << store.status().message();
    Status integrity = store.value()->check_integrity();
    ASSERT_TRUE(integrity.is_ok()) << integrity.message();
    store.value().reset();

    // Every acknowledged id (0 .. acked-1, across all rounds) is there, once.
    const std::string below = " FROM events WHERE CAST(record_id AS INTEGER) < " + std::to_string(acked);
    EXPECT_EQ(single_int(db, "SELECT count(DISTINCT record_id)" + below), static_cast<int64_t>(acked));
    EXPECT_EQ(single_int(db, "SELECT count(*) FROM events"),
              single_int(db, "SELECT count(DISTINCT record_id) FROM events"));
    const int64_t highest = single_int(db, "SELECT max(CAST(record_id AS INTEGER)) FROM events");
    ASSERT_GE(highest + 1, static_cast<int64_t>(acked));
    std::printf("round %d: %llu acknowledged before the kill, %lld stored\n", round,
                static_cast<unsigned long long>(acked), static_cast<long long>(highest + 1));
    next_seq = static_cast<uint64_t>(highest + 1);  // what was committed but not yet acked stays too
  }
}

}  // namespace
}  // namespace ward::e2e

#include "store/event_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "store/readonly_query.h"

namespace ward::store {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "ward_store_test_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

output::Record make_record(uint64_t n, uint32_t type = 9, int32_t pid = 100,
                           std::string path = "/usr/bin/true", uint64_t time_ns = 0,
                           size_t payload_bytes = 64) {
  output::Record r;
  r.id = "evt-" + std::to_string(n);
  r.event_type = type;
  r.event_name = type == 9 ? "exec" : type == 11 ? "fork" : "exit";
  r.time_ns = time_ns != 0 ? time_ns : now_ns();
  r.pid = pid;
  r.path = std::move(path);
  r.payload = "{\"n\":" + std::to_string(n) + ",\"pad\":\"" + std::string(payload_bytes, 'x') + "\"}";
  return r;
}

StoreOptions options_for(const std::string& path) {
  StoreOptions o;
  o.path = path;
  o.synchronous = Synchronous::kNormal;  // unit tests: durability is the e2e crash test's job
  return o;
}

std::unique_ptr<EventStore> open_or_die(StoreOptions options) {
  auto store = EventStore::open(std::move(options));
  EXPECT_TRUE(store.is_ok()) << store.status().message();
  if (!store) return nullptr;
  return std::move(store.value());
}

uint64_t count_all(const EventStore& store) {
  auto n = store.count({});
  EXPECT_TRUE(n.is_ok()) << n.status().message();
  return n ? n.value() : 0;
}

// Builds an EventQuery field by field (designated initializers would have to name every field).
struct Q {
  EventQuery q;
  Q& types(std::vector<uint32_t> t) {
    q.event_types = std::move(t);
    return *this;
  }
  Q& since(uint64_t t) {
    q.since_ns = t;
    return *this;
  }
  Q& until(uint64_t t) {
    q.until_ns = t;
    return *this;
  }
  Q& pid(int32_t p) {
    q.pid = p;
    return *this;
  }
  Q& path(std::string p) {
    q.path = std::move(p);
    return *this;
  }
  Q& prefix(std::string p) {
    q.path_prefix = std::move(p);
    return *this;
  }
  Q& limit(size_t n) {
    q.limit = n;
    return *this;
  }
  Q& newest_first() {
    q.newest_first = true;
    return *this;
  }
  operator EventQuery() const { return q; }  // NOLINT(google-explicit-constructor)
};

TEST(EventStoreTest, QueriesByTypeTimePidAndPath) {
  ScratchDir dir;
  auto store = open_or_die(options_for(dir.file("events.db")));
  ASSERT_NE(store, nullptr);
  const uint64_t t0 = 1'700'000'000'000'000'000ull;
  ASSERT_TRUE(store->write(make_record(1, 9, 10, "/usr/bin/ls", t0 + 1)));
  ASSERT_TRUE(store->write(make_record(2, 11, 10, "", t0 + 2)));
  ASSERT_TRUE(store->write(make_record(3, 15, 20, "", t0 + 3)));
  ASSERT_TRUE(store->write(make_record(4, 9, 20, "/usr/bin/lsblk", t0 + 4)));
  ASSERT_TRUE(store->write(make_record(5, 9, 30, "/usr/sbin/ls%x", t0 + 5)));
  ASSERT_TRUE(store->flush());
  EXPECT_EQ(store->counters().written, 5u);

  auto ids = [&](const EventQuery& q) {
    std::vector<std::string> out;
    auto events = store->query(q);
    EXPECT_TRUE(events.is_ok()) << events.status().message();
    if (events) {
      for (const auto& e : events.value()) out.push_back(e.record.id);
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids({}), (V{"evt-1", "evt-2", "evt-3", "evt-4", "evt-5"}));
  EXPECT_EQ(ids(Q().types({9})), (V{"evt-1", "evt-4", "evt-5"}));
  EXPECT_EQ(ids(Q().types({11, 15})), (V{"evt-2", "evt-3"}));
  EXPECT_EQ(ids(Q().since(t0 + 2).until(t0 + 4)), (V{"evt-2", "evt-3"}));
  EXPECT_EQ(ids(Q().pid(20)), (V{"evt-3", "evt-4"}));
  EXPECT_EQ(ids(Q().path("/usr/bin/ls")), (V{"evt-1"}));
  EXPECT_EQ(ids(Q().prefix("/usr/bin/ls")), (V{"evt-1", "evt-4"}));
  EXPECT_EQ(ids(Q().prefix("/usr/sbin/ls%")), (V{"evt-5"}));  // '%' is literal
  EXPECT_EQ(ids(Q().prefix("/usr/bin/l_")), V{});             // so is '_'
  EXPECT_EQ(ids(Q().types({9}).pid(20)), (V{"evt-4"}));
  EXPECT_EQ(ids(Q().limit(2).newest_first()), (V{"evt-5", "evt-4"}));

  auto all = store->query(Q().pid(10));
  ASSERT_TRUE(all.is_ok());
  ASSERT_EQ(all.value().size(), 2u);
  const auto& first = all.value()[0].record;
  EXPECT_EQ(first.event_type, 9u);
  EXPECT_EQ(first.event_name, "exec");
  EXPECT_EQ(first.time_ns, t0 + 1);
  EXPECT_EQ(first.path, "/usr/bin/ls");
  EXPECT_EQ(first.payload, make_record(1).payload);
  EXPECT_EQ(all.value()[1].record.path, "");  // stored as NULL, read back empty
  auto n = store->count(Q().types({9}));
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(n.value(), 3u);
}

TEST(EventStoreTest, IndexedColumnsUseTheirIndex) {
  ScratchDir dir;
  const std::string path = dir.file("events.db");
  { ASSERT_NE(open_or_die(options_for(path)), nullptr); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  auto plan = [db](const std::string& where) {
    const std::string sql = "EXPLAIN QUERY PLAN SELECT * FROM events WHERE " + where;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
    std::string detail;
    while (sqlite3_step(stmt) == SQLITE_ROW)
      detail += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
    sqlite3_finalize(stmt);
    return detail;
  };
  EXPECT_NE(plan("time_ns > 5").find("events_by_time"), std::string::npos);
  EXPECT_NE(plan("event_type = 9").find("events_by_type"), std::string::npos);
  EXPECT_NE(plan("pid = 3").find("events_by_pid"), std::string::npos);
  EXPECT_NE(plan("path = '/bin/sh'").find("events_by_path"), std::string::npos);
  sqlite3_close(db);

  auto version = query_readonly(path, "SELECT version FROM schema_version");
  ASSERT_TRUE(version.is_ok()) << version.status().message();
  ASSERT_EQ(version.value().rows.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(version.value().rows[0][0]), kSchemaVersion);
}

TEST(EventStoreTest, CommitsOnlyOnFlushBatchOrInterval) {
  ScratchDir dir;
  StoreOptions o = options_for(dir.file("events.db"));
  o.batch_size = 10;
  o.commit_interval = std::chrono::hours(1);
  auto store = open_or_die(o);
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(store->write(make_record(static_cast<uint64_t>(i))));
  EXPECT_EQ(count_all(*store), 20u);  // two full batches; the rest waits for flush()
  EXPECT_EQ(store->stats().pending, 5u);
  ASSERT_TRUE(store->flush());
  EXPECT_EQ(count_all(*store), 25u);
  EXPECT_EQ(store->counters().written, 25u);

  StoreOptions timed = options_for(dir.file("timed.db"));
  timed.commit_interval = milliseconds(30);
  auto timed_store = open_or_die(timed);
  ASSERT_NE(timed_store, nullptr);
  ASSERT_TRUE(timed_store->write(make_record(1)));
  for (int i = 0; i < 200 && count_all(*timed_store) == 0; ++i) std::this_thread::sleep_for(milliseconds(10));
  EXPECT_EQ(count_all(*timed_store), 1u);  // committed by the maintenance thread
}

TEST(EventStoreTest, ReopenKeepsEverythingAndCloseCommits) {
  ScratchDir dir;
  const std::string path = dir.file("events.db");
  {
    auto store = open_or_die(options_for(path));
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(store->write(make_record(static_cast<uint64_t>(i))));
    ASSERT_TRUE(store->flush());
    for (int i = 100; i < 150; ++i) ASSERT_TRUE(store->write(make_record(static_cast<uint64_t>(i))));
  }  // not flushed: a clean close commits them
  auto store = open_or_die(options_for(path));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(count_all(*store), 150u);
  EXPECT_TRUE(store->check_integrity()) << store->check_integrity().message();
}

TEST(EventStoreTest, RetentionByAgeDeletesOnlyOldEvents) {
  ScratchDir dir;
  StoreOptions o = options_for(dir.file("events.db"));
  o.max_age = std::chrono::hours(1);
  o.retention_interval = std::chrono::hours(1);  // run by hand below
  auto store = open_or_die(o);
  ASSERT_NE(store, nullptr);
  const uint64_t old_time = now_ns() - 2ull * 3600 * 1'000'000'000ull;
  for (int i = 0; i < 25000; ++i)
    ASSERT_TRUE(
        store->write(make_record(static_cast<uint64_t>(i), 9, 1, "", old_time + static_cast<uint64_t>(i))));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store->write(make_record(static_cast<uint64_t>(100000 + i))));
  ASSERT_TRUE(store->flush());
  ASSERT_TRUE(store->enforce_retention());
  EXPECT_EQ(count_all(*store), 10u);
  EXPECT_EQ(store->stats().deleted_by_age, 25000u);
}

TEST(EventStoreTest, PeriodicRetentionRunsOnItsOwn) {
  ScratchDir dir;
  StoreOptions o = options_for(dir.file("events.db"));
  o.max_age = std::chrono::seconds(60);
  o.retention_interval = milliseconds(30);
  auto store = open_or_die(o);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->write(make_record(1, 9, 1, "", 1000)));  // 1970: long expired
  ASSERT_TRUE(store->write(make_record(2)));
  ASSERT_TRUE(store->flush());
  for (int i = 0; i < 300 && count_all(*store) != 1; ++i) std::this_thread::sleep_for(milliseconds(10));
  EXPECT_EQ(count_all(*store), 1u);
  EXPECT_GE(store->stats().retention_passes, 1u);
}

TEST(EventStoreTest, RetentionBySizeDeletesOldestFirstAndShrinksTheFile) {
  ScratchDir dir;
  const std::string path = dir.file("events.db");
  StoreOptions o = options_for(path);
  o.max_bytes = 2ull << 20;
  o.retention_interval = std::chrono::hours(1);
  auto store = open_or_die(o);
  ASSERT_NE(store, nullptr);
  const int total = 20000;  // ~12 MiB with indices
  for (int i = 0; i < total; ++i) {
    ASSERT_TRUE(store->write(
        make_record(static_cast<uint64_t>(i), 9, i % 50, "/bin/p" + std::to_string(i % 7), 0, 400)));
  }
  ASSERT_TRUE(store->flush());
  ASSERT_TRUE(store->enforce_retention());
  const StoreStats stats = store->stats();
  EXPECT_LE(stats.database_bytes, o.max_bytes);
  EXPECT_GT(stats.deleted_by_size, 0u);
  const uint64_t left = count_all(*store);
  EXPECT_EQ(left + stats.deleted_by_size, static_cast<uint64_t>(total));
  EXPECT_GT(left, 0u);
  // The survivors are exactly the newest ones.
  auto oldest = store->query(Q().limit(1));
  auto newest = store->query(Q().limit(1).newest_first());
  ASSERT_TRUE(oldest.is_ok());
  ASSERT_TRUE(newest.is_ok());
  EXPECT_EQ(oldest.value()[0].record.id, "evt-" + std::to_string(total - static_cast<int>(left)));
  EXPECT_EQ(newest.value()[0].record.id, "evt-" + std::to_string(total - 1));
  // Freed pages went back to the file system (incremental vacuum).
  EXPECT_LE(fs::file_size(path), o.max_bytes + (1u << 20));
  EXPECT_TRUE(store->check_integrity());
}

TEST(EventStoreTest, GarbageFileIsAClearError) {
  ScratchDir dir;
  const std::string path = dir.file("garbage.db");
  std::ofstream(path) << std::string(8192, 'G');
  auto store = EventStore::open(options_for(path));
  ASSERT_FALSE(store.is_ok());
  EXPECT_NE(store.status().message().find(path), std::string::npos);
  EXPECT_NE(store.status().message().find("not a database"), std::string::npos) << store.status().message();
  auto q = query_readonly(path, "SELECT 1 FROM events");
  EXPECT_FALSE(q.is_ok());
}

TEST(EventStoreTest, ForeignSqliteDatabaseIsRefused) {
  ScratchDir dir;
  const std::string path = dir.file("other.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = EventStore::open(options_for(path));
  ASSERT_FALSE(store.is_ok());
  EXPECT_NE(store.status().message().find("not a Ward event store"), std::string::npos)
      << store.status().message();
}

TEST(EventStoreTest, NewerSchemaIsRefused) {
  ScratchDir dir;
  const std::string path = dir.file("events.db");
  { ASSERT_NE(open_or_die(options_for(path)), nullptr); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE schema_version SET version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = EventStore::open(options_for(path));
  ASSERT_FALSE(store.is_ok());
  EXPECT_NE(store.status().message().find("newer"), std::string::npos) << store.status().message();
}

TEST(EventStoreTest, DamagedPagesAreReportedNotCrashedOn) {
  ScratchDir dir;
  const std::string path = dir.file("events.db");
  {
    auto store = open_or_die(options_for(path));
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 5000; ++i)
      ASSERT_TRUE(store->write(make_record(static_cast<uint64_t>(i), 9, i, "/p/" + std::to_string(i))));
  }
  const auto size = fs::file_size(path);
  ASSERT_GT(size, 100'000u);
  {
    // Scribble over a run of pages in the middle (index and table pages alike).
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2));
    const std::string junk(16384, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto store = EventStore::open(options_for(path));
  if (!store) {
    EXPECT_NE(store.status().message().find(path), std::string::npos);
    return;
  }
  Status integrity = store.value()->check_integrity();
  EXPECT_FALSE(integrity.is_ok());
  EXPECT_NE(integrity.message().find(path), std::string::npos) << integrity.message();
  // Queries over the damage fail with a message or succeed; they do not crash.
  auto events = store.value()->query(Q().limit(0));
  if (!events) {
    EXPECT_NE(events.status().message().find(path), std::string::npos);
  }
}

TEST(EventStoreTest, TruncatedDatabaseIsReported) {
  ScratchDir dir;
  const std::string path = dir.file("events.db");
  {
    auto store = open_or_die(options_for(path));
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 5000; ++i) ASSERT_TRUE(store->write(make_record(static_cast<uint64_t>(i))));
  }
  fs::resize_file(path, fs::file_size(path) / 3);
  auto store = EventStore::open(options_for(path));
  if (!store) return;  // refused with a message: fine
  EXPECT_FALSE(store.value()->check_integrity().is_ok());
}

TEST(EventStoreTest, UnusablePathIsAClearError) {
  auto store = EventStore::open(options_for("/proc/ward-no-such-dir/events.db"));
  ASSERT_FALSE(store.is_ok());
  EXPECT_NE(store.status().message().find("/proc/ward-no-such-dir/events.db"), std::string::npos);
  EXPECT_FALSE(EventStore::open(options_for("")).is_ok());
}

TEST(ReadonlyQueryTest, ReturnsColumnsAndTypedRows) {
  ScratchDir dir;
  const std::string path = dir.file("events.db");
  auto store = open_or_die(options_for(path));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->write(make_record(1, 9, 42, "/bin/sh")));
  ASSERT_TRUE(store->write(make_record(2, 11, 43, "")));
  ASSERT_TRUE(store->flush());
  // While the writer is open: WAL lets a reader in.
  auto result = query_readonly(
      path,
      "  -- comment\n/* block */ SELECT pid, path, 1.5 AS f, x'00ff' AS b, json_extract(payload, '$.n') AS n "
      "FROM events ORDER BY id;");
  ASSERT_TRUE(result.is_ok()) << result.status().message();
  const QueryResult& r = result.value();
  EXPECT_EQ(r.columns, (std::vector<std::string>{"pid", "path", "f", "b", "n"}));
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(std::get<int64_t>(r.rows[0][0]), 42);
  EXPECT_EQ(std::get<std::string>(r.rows[0][1]), "/bin/sh");
  EXPECT_DOUBLE_EQ(std::get<double>(r.rows[0][2]), 1.5);
  EXPECT_EQ(std::get<Blob>(r.rows[0][3]).bytes, (std::vector<uint8_t>{0x00, 0xff}));
  EXPECT_EQ(std::get<int64_t>(r.rows[0][4]), 1);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(r.rows[1][1]));

  auto with = query_readonly(path, "WITH t AS (SELECT count(*) AS c FROM events) SELECT c FROM t");
  ASSERT_TRUE(with.is_ok()) << with.status().message();
  EXPECT_EQ(std::get<int64_t>(with.value().rows[0][0]), 2);

  auto capped = query_readonly(path, "SELECT id FROM events", 1);
  ASSERT_TRUE(capped.is_ok());
  EXPECT_EQ(capped.value().rows.size(), 1u);
  EXPECT_TRUE(capped.value().truncated);
}

TEST(ReadonlyQueryTest, RefusesAnythingButOneReadOnlySelect) {
  ScratchDir dir;
  const std::string path = dir.file("events.db");
  auto store = open_or_die(options_for(path));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->write(make_record(1)));
  ASSERT_TRUE(store->flush());
  for (const char* sql : {
           "DELETE FROM events",
           "INSERT INTO events(record_id) VALUES ('x')",
           "DROP TABLE events",
           "UPDATE events SET pid = 0",
           "PRAGMA journal_mode=DELETE",
           "ATTACH DATABASE '/tmp/x.db' AS x",
           "VACUUM",
           "SELECT 1; DELETE FROM events",
           "SELECT 1; SELECT 2",
           "WITH t AS (SELECT 1) DELETE FROM events",
           "",
           "   -- only a comment",
           "SELECTX 1",
       }) {
    auto r = query_readonly(path, sql);
    EXPECT_FALSE(r.is_ok()) << "accepted: " << sql;
  }
  EXPECT_EQ(count_all(*store), 1u);
  auto bad = query_readonly(path, "SELECT nope FROM events");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("no such column"), std::string::npos) << bad.status().message();
}

TEST(ReadonlyQueryTest, MissingDatabaseIsNotCreated) {
  ScratchDir dir;
  const std::string path = dir.file("absent.db");
  auto r = query_readonly(path, "SELECT 1");
  EXPECT_FALSE(r.is_ok());
  EXPECT_FALSE(fs::exists(path));
}

}  // namespace
}  // namespace ward::store

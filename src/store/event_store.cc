#include "store/event_store.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include "store/sqlite_util.h"

namespace ward::store {
namespace {

using Clock = std::chrono::steady_clock;

// PRAGMA application_id of a Ward event store ('WARD'): tells our databases
// from any other SQLite file before a byte is written to it.
constexpr int32_t kApplicationId = 0x57415244;
// Rows per DELETE during retention, so the writer waits at most one chunk.
constexpr int kRetentionChunk = 10000;
constexpr int kVacuumPagesPerStep = 4096;

constexpr const char* kSchema = R"sql(
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE events (
  id         INTEGER PRIMARY KEY,  -- insertion order: retention by size deletes the lowest
  record_id  TEXT    NOT NULL,
  event_type INTEGER NOT NULL,
  event_name TEXT    NOT NULL,
  time_ns    INTEGER NOT NULL,
  pid        INTEGER NOT NULL,
  path       TEXT,                 -- NULL when the event has none
  payload    TEXT    NOT NULL      -- the serialized event (JSON: json_extract works)
);
-- pid and path are selective on their own, and an index entry ends with the
-- rowid (insertion order, close to time order); leaving time_ns out of them
-- keeps inserts ~10 % faster. Types are few, so that index carries the time.
CREATE INDEX events_by_time ON events(time_ns);
CREATE INDEX events_by_type ON events(event_type, time_ns);
CREATE INDEX events_by_pid  ON events(pid);
CREATE INDEX events_by_path ON events(path) WHERE path IS NOT NULL;
)sql";

constexpr const char* kInsert =
    "INSERT INTO events(record_id, event_type, event_name, time_ns, pid, path, payload) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

uint64_t realtime_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

Result<int64_t> query_int(sqlite3* db, const char* sql, const std::string& path) {
  auto stmt = sqlite::prepare(db, sql, path);
  if (!stmt) return stmt.status();
  const int rc = sqlite3_step(stmt.value().get());
  if (rc == SQLITE_ROW) return static_cast<int64_t>(sqlite3_column_int64(stmt.value().get(), 0));
  if (rc == SQLITE_DONE) return int64_t{0};
  return sqlite::error(db, rc, std::string("reading \"") + sql + "\"", path);
}

// The WHERE clause of an EventQuery with its parameters, bound in order.
struct Filter {
  std::string sql;
  std::vector<std::variant<int64_t, std::string>> params;
};

// The smallest string greater than every string that starts with `prefix`
// (empty when there is none, i.e. the prefix is all 0xff bytes).
std::string prefix_upper_bound(std::string prefix) {
  while (!prefix.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(prefix.back());
    if (last != 0xff) {
      ++last;
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;
}

Filter build_filter(const EventQuery& q) {
  Filter f;
  auto add = [&f](const std::string& clause) { f.sql += (f.sql.empty() ? " WHERE " : " AND ") + clause; };
  if (!q.event_types.empty()) {
    std::string in = "event_type IN (";
    for (size_t i = 0; i < q.event_types.size(); ++i) {
      in += i == 0 ? "?" : ", ?";
      f.params.emplace_back(static_cast<int64_t>(q.event_types[i]));
    }
    add(in + ")");
  }
  if (q.since_ns) {
    add("time_ns >= ?");
    f.params.emplace_back(static_cast<int64_t>(*q.since_ns));
  }
  if (q.until_ns) {
    add("time_ns < ?");
    f.params.emplace_back(static_cast<int64_t>(*q.until_ns));
  }
  if (q.pid) {
    add("pid = ?");
    f.params.emplace_back(static_cast<int64_t>(*q.pid));
  }
  if (q.path) {
    add("path = ?");
    f.params.emplace_back(*q.path);
  }
  if (q.path_prefix && !q.path_prefix->empty()) {
    // A range, not LIKE: it uses the path index and treats '%' and '_' literally.
    add("path >= ?");
    f.params.emplace_back(*q.path_prefix);
    std::string upper = prefix_upper_bound(*q.path_prefix);
    if (!upper.empty()) {
      add("path < ?");
      f.params.emplace_back(std::move(upper));
    }
  }
  return f;
}

void bind_filter(sqlite3_stmt* stmt, const Filter& f) {
  int index = 1;
  for (const auto& p : f.params) {
    if (const auto* i = std::get_if<int64_t>(&p)) {
      sqlite3_bind_int64(stmt, index++, *i);
    } else {
      const auto& s = std::get<std::string>(p);
      sqlite3_bind_text(stmt, index++, s.data(), static_cast<int>(s.size()), sqlite::kStatic);
    }
  }
}

std::string column_text(sqlite3_stmt* stmt, int column) {
  const auto* text = sqlite3_column_text(stmt, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt, column)));
}

}  // namespace

struct EventStore::Impl {
  StoreOptions options;

  mutable std::mutex mu;  // the write connection, its transaction and the counters
  sqlite::DbPtr db;
  sqlite::StmtPtr insert;
  bool in_transaction = false;
  uint64_t pending = 0;
  Clock::time_point batch_started;
  output::WriterCounters counters;
  StoreStats stats;

  mutable std::mutex read_mu;  // the lazily opened read-only connection
  mutable sqlite::DbPtr reader;

  std::condition_variable_any wake;
  std::jthread maintenance;

  Status open_database();
  Status create_schema();
  Status check_schema();
  Status begin_locked();
  Status commit_locked();
  Status exec_locked(const char* sql) { return sqlite::exec(db.get(), sql, options.path); }
  Result<uint64_t> database_bytes_locked();
  Status delete_by_age();
  Status delete_by_size();
  Status vacuum_free_pages();
  Result<sqlite3*> read_connection() const;
  void retention_pass();
  void run_maintenance(std::stop_token stop);
};

Status EventStore::Impl::open_database() {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(options.path.c_str(), &raw,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  db.reset(raw);
  if (rc != SQLITE_OK) return sqlite::error(db.get(), rc, "opening the event store", options.path);
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), 5000);

  // The first read of the file: a non-database fails here with SQLITE_NOTADB.
  auto app_id = query_int(db.get(), "PRAGMA application_id", options.path);
  if (!app_id) return app_id.status();
  auto tables = query_int(db.get(), "SELECT count(*) FROM sqlite_schema", options.path);
  if (!tables) return tables.status();

  if (app_id.value() == 0 && tables.value() == 0) {
    if (auto s = create_schema(); !s) return s;
  } else if (app_id.value() != kApplicationId) {
    return Status::error(options.path + ": not a Ward event store (SQLite application_id " +
                         std::to_string(app_id.value()) + ", expected " + std::to_string(kApplicationId) +
                         "); refusing to write to it");
  }
  if (auto s = check_schema(); !s) return s;

  auto mode = sqlite::prepare(db.get(), "PRAGMA journal_mode=WAL", options.path);
  if (!mode) return mode.status();
  if (sqlite3_step(mode.value().get()) != SQLITE_ROW ||
      std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(mode.value().get(), 0))) != "wal") {
    return Status::error(options.path + ": cannot switch the event store to WAL mode (" +
                         sqlite3_errmsg(db.get()) + "); the file system must support shared memory");
  }
  mode.value().reset();

  const std::string pragmas = std::string("PRAGMA synchronous=") +
                              (options.synchronous == Synchronous::kFull ? "FULL" : "NORMAL") +
                              "; PRAGMA journal_size_limit=" + std::to_string(options.wal_limit_bytes) +
                              "; PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY;";
  if (auto s = exec_locked(pragmas.c_str()); !s) return s;

  auto stmt = sqlite::prepare(db.get(), kInsert, options.path, SQLITE_PREPARE_PERSISTENT);
  if (!stmt) return stmt.status();
  insert = std::move(stmt.value());
  return Status::ok();
}

Status EventStore::Impl::create_schema() {
  // auto_vacuum must be chosen before the first table exists; INCREMENTAL lets
  // retention hand freed pages back to the file system.
  // 16 KiB pages: an event (~1-2 KB of JSON) and its index entries touch
  // fewer pages per commit than with 4 KiB; measured ~1.5x the insert rate.
  if (auto s = exec_locked("PRAGMA page_size=16384"); !s) return s;
  if (auto s = exec_locked("PRAGMA auto_vacuum=INCREMENTAL"); !s) return s;
  if (auto s = exec_locked("BEGIN IMMEDIATE"); !s) return s;
  const std::string setup = std::string(kSchema) + "INSERT INTO schema_version(version) VALUES (" +
                            std::to_string(kSchemaVersion) +
                            "); PRAGMA application_id=" + std::to_string(kApplicationId) + ";";
  if (auto s = exec_locked(setup.c_str()); !s) {
    exec_locked("ROLLBACK");
    return s;
  }
  return exec_locked("COMMIT");
}

Status EventStore::Impl::check_schema() {
  auto version = query_int(db.get(), "SELECT max(version) FROM schema_version", options.path);
  if (!version) return version.status();
  if (version.value() > kSchemaVersion) {
    return Status::error(options.path + ": event store schema version " + std::to_string(version.value()) +
                         " was written by a newer Ward (this one knows " + std::to_string(kSchemaVersion) +
                         ")");
  }
  if (version.value() < 1) return Status::error(options.path + ": event store has no schema version");
  // Catch a damaged events table now rather than on the first insert.
  if (auto rows = query_int(db.get(), "SELECT max(id) FROM events", options.path); !rows)
    return rows.status();
  return Status::ok();
}

Status EventStore::Impl::begin_locked() {
  if (in_transaction) return Status::ok();
  if (auto s = exec_locked("BEGIN IMMEDIATE"); !s) return s;
  in_transaction = true;
  batch_started = Clock::now();
  return Status::ok();
}

Status EventStore::Impl::commit_locked() {
  if (!in_transaction) return Status::ok();
  Status s = exec_locked("COMMIT");
  in_transaction = false;
  if (s) {
    counters.written += pending;
    stats.committed += pending;
    pending = 0;
    return s;
  }
  // A failed COMMIT leaves the batch uncommitted: roll it back and say how many
  // records it cost instead of losing them quietly.
  if (sqlite3_get_autocommit(db.get()) == 0) exec_locked("ROLLBACK");
  const uint64_t lost = pending;
  counters.errors += lost;
  pending = 0;
  stats.last_error = s.message();
  return Status::error(s.message() + "; " + std::to_string(lost) + " records were not stored");
}

Result<uint64_t> EventStore::Impl::database_bytes_locked() {
  auto pages = query_int(db.get(), "PRAGMA page_count", options.path);
  auto free_pages = query_int(db.get(), "PRAGMA freelist_count", options.path);
  auto page_size = query_int(db.get(), "PRAGMA page_size", options.path);
  if (!pages) return pages.status();
  if (!free_pages) return free_pages.status();
  if (!page_size) return page_size.status();
  return static_cast<uint64_t>((pages.value() - free_pages.value()) * page_size.value());
}

Status EventStore::Impl::delete_by_age() {
  if (options.max_age.count() <= 0) return Status::ok();
  const uint64_t age_ns = static_cast<uint64_t>(options.max_age.count()) * 1'000'000'000ull;
  const uint64_t now = realtime_ns();
  const int64_t cutoff = now > age_ns ? static_cast<int64_t>(now - age_ns) : 0;
  auto stmt = sqlite::prepare(db.get(),
                              "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE time_ns < ?1 "
                              "ORDER BY time_ns LIMIT ?2)",
                              options.path);
  if (!stmt) return stmt.status();
  for (;;) {
    std::lock_guard lock(mu);
    if (auto s = commit_locked(); !s) return s;
    sqlite3_stmt* del = stmt.value().get();
    sqlite3_reset(del);
    sqlite3_bind_int64(del, 1, cutoff);
    sqlite3_bind_int(del, 2, kRetentionChunk);
    const int rc = sqlite3_step(del);
    if (rc != SQLITE_DONE) return sqlite::error(db.get(), rc, "retention by age", options.path);
    const int deleted = sqlite3_changes(db.get());
    stats.deleted_by_age += static_cast<uint64_t>(deleted);
    if (deleted < kRetentionChunk) return Status::ok();
  }
}

Status EventStore::Impl::delete_by_size() {
  if (options.max_bytes == 0) return Status::ok();
  // Bounded: each pass deletes at least one row.
  for (int pass = 0; pass < 100000; ++pass) {
    std::lock_guard lock(mu);
    if (auto s = commit_locked(); !s) return s;
    auto used = database_bytes_locked();
    if (!used) return used.status();
    if (used.value() <= options.max_bytes) return Status::ok();
    auto lowest = query_int(db.get(), "SELECT min(id) FROM events", options.path);
    auto highest = query_int(db.get(), "SELECT max(id) FROM events", options.path);
    if (!lowest) return lowest.status();
    if (!highest) return highest.status();
    if (highest.value() == 0) return Status::ok();  // empty: the rest is schema and free pages
    // Ids are dense from the oldest row (only the front is ever deleted), so
    // the id span estimates the row count. Aim 10 % under the bound so
    // retention does not run again for every new page.
    const uint64_t rows = static_cast<uint64_t>(highest.value() - lowest.value() + 1);
    const uint64_t bytes_per_row = std::max<uint64_t>(1, used.value() / rows);
    const uint64_t target = options.max_bytes - options.max_bytes / 10;
    uint64_t excess_rows = (used.value() - target + bytes_per_row - 1) / bytes_per_row;
    excess_rows = std::clamp<uint64_t>(excess_rows, 1, kRetentionChunk);
    auto stmt = sqlite::prepare(db.get(), "DELETE FROM events WHERE id < ?1", options.path);
    if (!stmt) return stmt.status();
    sqlite3_bind_int64(stmt.value().get(), 1, lowest.value() + static_cast<int64_t>(excess_rows));
    const int rc = sqlite3_step(stmt.value().get());
    if (rc != SQLITE_DONE) return sqlite::error(db.get(), rc, "retention by size", options.path);
    stats.deleted_by_size += static_cast<uint64_t>(sqlite3_changes(db.get()));
  }
  return Status::ok();
}

Status EventStore::Impl::vacuum_free_pages() {
  for (bool vacuumed = false;; vacuumed = true) {
    std::lock_guard lock(mu);
    if (auto s = commit_locked(); !s) return s;
    auto free_pages = query_int(db.get(), "PRAGMA freelist_count", options.path);
    if (!free_pages) return free_pages.status();
    if (free_pages.value() == 0) {
      // The file shrinks only when the WAL is checkpointed; PASSIVE never waits for readers.
      if (vacuumed) return exec_locked("PRAGMA wal_checkpoint(PASSIVE)");
      return Status::ok();
    }
    const std::string step = "PRAGMA incremental_vacuum(" + std::to_string(kVacuumPagesPerStep) + ")";
    if (auto s = exec_locked(step.c_str()); !s) return s;
  }
}

Result<sqlite3*> EventStore::Impl::read_connection() const {
  if (reader) return reader.get();
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(options.path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  sqlite::DbPtr opened(raw);
  if (rc != SQLITE_OK) return sqlite::error(opened.get(), rc, "opening a reader", options.path);
  sqlite3_extended_result_codes(opened.get(), 1);
  sqlite3_busy_timeout(opened.get(), 5000);
  reader = std::move(opened);
  return reader.get();
}

void EventStore::Impl::retention_pass() {
  if (auto s = delete_by_age(); !s) {
    std::lock_guard lock(mu);
    stats.last_error = s.message();
  }
  if (auto s = delete_by_size(); !s) {
    std::lock_guard lock(mu);
    stats.last_error = s.message();
  }
  if (auto s = vacuum_free_pages(); !s) {
    std::lock_guard lock(mu);
    stats.last_error = s.message();
  }
  std::lock_guard lock(mu);
  if (auto used = database_bytes_locked()) stats.database_bytes = used.value();
  ++stats.retention_passes;
}

void EventStore::Impl::run_maintenance(std::stop_token stop) {
  const auto tick =
      std::max(std::chrono::milliseconds(10), std::min(options.commit_interval, options.retention_interval));
  // The first pass ran in open(), before any write: a pass commits the open
  // batch, so running it then keeps batches whole.
  auto next_retention = Clock::now() + options.retention_interval;
  std::mutex wait_mu;
  while (!stop.stop_requested()) {
    if (Clock::now() >= next_retention) {
      retention_pass();
      next_retention = Clock::now() + options.retention_interval;
    }
    {
      std::lock_guard lock(mu);
      if (in_transaction && Clock::now() - batch_started >= options.commit_interval) commit_locked();
    }
    std::unique_lock lock(wait_mu);
    wake.wait_for(lock, stop, tick, [] { return false; });
  }
}

EventStore::EventStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<EventStore>> EventStore::open(StoreOptions options) {
  if (options.path.empty()) return Status::error("event store: no database path given");
  if (options.batch_size == 0) options.batch_size = 1;
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  if (auto s = impl->open_database(); !s) return s;
  std::unique_ptr<EventStore> store(new EventStore(std::move(impl)));
  Impl* raw = store->impl_.get();
  raw->retention_pass();
  raw->maintenance = std::jthread([raw](std::stop_token stop) { raw->run_maintenance(stop); });
  return store;
}

EventStore::~EventStore() {
  impl_->maintenance.request_stop();
  if (impl_->maintenance.joinable()) impl_->maintenance.join();
  std::lock_guard lock(impl_->mu);
  impl_->commit_locked();  // what was written but not flushed is kept on a clean close
  impl_->insert.reset();
}

Status EventStore::write(const output::Record& r) {
  Impl& m = *impl_;
  std::lock_guard lock(m.mu);
  if (auto s = m.begin_locked(); !s) {
    ++m.counters.errors;
    m.stats.last_error = s.message();
    return s;
  }
  sqlite3_stmt* stmt = m.insert.get();
  sqlite3_bind_text(stmt, 1, r.id.data(), static_cast<int>(r.id.size()), sqlite::kStatic);
  sqlite3_bind_int64(stmt, 2, r.event_type);
  sqlite3_bind_text(stmt, 3, r.event_name.data(), static_cast<int>(r.event_name.size()), sqlite::kStatic);
  sqlite3_bind_int64(stmt, 4, static_cast<int64_t>(r.time_ns));
  sqlite3_bind_int(stmt, 5, r.pid);
  if (r.path.empty()) {
    sqlite3_bind_null(stmt, 6);
  } else {
    sqlite3_bind_text(stmt, 6, r.path.data(), static_cast<int>(r.path.size()), sqlite::kStatic);
  }
  sqlite3_bind_text(stmt, 7, r.payload.data(), static_cast<int>(r.payload.size()), sqlite::kStatic);
  const int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (rc != SQLITE_DONE) {
    Status s = sqlite::error(m.db.get(), rc, "storing an event", m.options.path);
    ++m.counters.errors;
    if (sqlite3_get_autocommit(m.db.get()) != 0 && m.in_transaction) {
      // SQLite rolled the whole batch back (disk full, I/O error): those are lost too.
      m.counters.errors += m.pending;
      s = Status::error(s.message() + "; " + std::to_string(m.pending) +
                        " earlier uncommitted records were lost");
      m.pending = 0;
      m.in_transaction = false;
    }
    m.stats.last_error = s.message();
    return s;
  }
  ++m.pending;
  if (m.pending >= m.options.batch_size) return m.commit_locked();
  return Status::ok();
}

Status EventStore::flush() {
  std::lock_guard lock(impl_->mu);
  return impl_->commit_locked();
}

output::WriterCounters EventStore::counters() const {
  std::lock_guard lock(impl_->mu);
  return impl_->counters;
}

StoreStats EventStore::stats() const {
  std::lock_guard lock(impl_->mu);
  StoreStats s = impl_->stats;
  s.pending = impl_->pending;
  return s;
}

const std::string& EventStore::path() const { return impl_->options.path; }

Status EventStore::enforce_retention() {
  if (auto s = impl_->delete_by_age(); !s) return s;
  if (auto s = impl_->delete_by_size(); !s) return s;
  if (auto s = impl_->vacuum_free_pages(); !s) return s;
  std::lock_guard lock(impl_->mu);
  auto used = impl_->database_bytes_locked();
  if (!used) return used.status();
  impl_->stats.database_bytes = used.value();
  ++impl_->stats.retention_passes;
  return Status::ok();
}

Result<std::vector<StoredEvent>> EventStore::query(const EventQuery& q) const {
  std::lock_guard lock(impl_->read_mu);
  auto db = impl_->read_connection();
  if (!db) return db.status();
  const Filter filter = build_filter(q);
  std::string sql = "SELECT id, record_id, event_type, event_name, time_ns, pid, path, payload FROM events" +
                    filter.sql +
                    (q.newest_first ? " ORDER BY time_ns DESC, id DESC" : " ORDER BY time_ns, id");
  if (q.limit > 0) sql += " LIMIT " + std::to_string(q.limit);
  auto stmt = sqlite::prepare(db.value(), sql, impl_->options.path);
  if (!stmt) return stmt.status();
  sqlite3_stmt* s = stmt.value().get();
  bind_filter(s, filter);
  std::vector<StoredEvent> events;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    StoredEvent e;
    e.row_id = sqlite3_column_int64(s, 0);
    e.record.id = column_text(s, 1);
    e.record.event_type = static_cast<uint32_t>(sqlite3_column_int64(s, 2));
    e.record.event_name = column_text(s, 3);
    e.record.time_ns = static_cast<uint64_t>(sqlite3_column_int64(s, 4));
    e.record.pid = sqlite3_column_int(s, 5);
    e.record.path = column_text(s, 6);
    e.record.payload = column_text(s, 7);
    events.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return sqlite::error(db.value(), rc, "querying events", impl_->options.path);
  return events;
}

Result<uint64_t> EventStore::count(const EventQuery& q) const {
  std::lock_guard lock(impl_->read_mu);
  auto db = impl_->read_connection();
  if (!db) return db.status();
  const Filter filter = build_filter(q);
  auto stmt = sqlite::prepare(db.value(), "SELECT count(*) FROM events" + filter.sql, impl_->options.path);
  if (!stmt) return stmt.status();
  bind_filter(stmt.value().get(), filter);
  const int rc = sqlite3_step(stmt.value().get());
  if (rc != SQLITE_ROW) return sqlite::error(db.value(), rc, "counting events", impl_->options.path);
  return static_cast<uint64_t>(sqlite3_column_int64(stmt.value().get(), 0));
}

Status EventStore::check_integrity() const {
  std::lock_guard lock(impl_->read_mu);
  auto db = impl_->read_connection();
  if (!db) return db.status();
  auto stmt = sqlite::prepare(db.value(), "PRAGMA integrity_check(20)", impl_->options.path);
  if (!stmt) return stmt.status();
  std::string problems;
  int rc;
  while ((rc = sqlite3_step(stmt.value().get())) == SQLITE_ROW) {
    std::string line = column_text(stmt.value().get(), 0);
    if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
  }
  if (rc != SQLITE_DONE) return sqlite::error(db.value(), rc, "integrity check", impl_->options.path);
  if (!problems.empty()) return Status::error(impl_->options.path + ": integrity check failed: " + problems);
  return Status::ok();
}

}  // namespace ward::store

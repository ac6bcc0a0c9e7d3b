// The embedded event store: a Writer that keeps every record in a SQLite
// database (WAL mode, batched transactions) and answers queries by type, time,
// process and path. Retention by age and by size runs on a maintenance thread
// and deletes the oldest events first.
//
// Durability contract: a record is acknowledged when flush() returns OK after
// it was written. An acknowledged record survives kill -9 of the writing
// process (and, with Synchronous::kFull, a power loss).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "output/writer.h"
#include "ward/status.h"

namespace ward::store {

inline constexpr int kSchemaVersion = 1;

enum class Synchronous {
  kNormal,  // commits survive a crash of the process, not of the machine
  kFull,    // every commit fsyncs the WAL: survives a power loss
};

struct StoreOptions {
  std::string path;
  // Retention; 0 disables that limit. Size is the database pages in use (the
  // WAL adds at most wal_limit_bytes on top).
  std::chrono::seconds max_age{0};
  uint64_t max_bytes = 0;
  std::chrono::milliseconds retention_interval{std::chrono::seconds(60)};
  // A transaction is committed after this many records, on flush(), or when
  // its oldest record has waited commit_interval.
  size_t batch_size = 4096;
  std::chrono::milliseconds commit_interval{1000};
  Synchronous synchronous = Synchronous::kFull;
  uint64_t wal_limit_bytes = 64ull << 20;
};

struct StoredEvent {
  int64_t row_id = 0;  // insertion order
  output::Record record;
};

// Every set field must match; path_prefix matches a leading string.
struct EventQuery {
  std::vector<uint32_t> event_types;  // any of them; empty = all
  std::optional<uint64_t> since_ns;   // time_ns >= since_ns
  std::optional<uint64_t> until_ns;   // time_ns <  until_ns
  std::optional<int32_t> pid;
  std::optional<std::string> path;
  std::optional<std::string> path_prefix;
  size_t limit = 1000;  // 0 = no limit
  bool newest_first = false;
};

struct StoreStats {
  uint64_t pending = 0;         // written, not yet committed
  uint64_t committed = 0;       // committed since open
  uint64_t deleted_by_age = 0;  // retention, since open
  uint64_t deleted_by_size = 0;
  uint64_t database_bytes = 0;  // pages in use at the last retention pass
  uint64_t retention_passes = 0;
  std::string last_error;
};

class EventStore : public output::Writer {
 public:
  // Opens (or creates) the database. A file that is not a Ward event store, a
  // newer schema, or a corrupt database is an error that names the file.
  static Result<std::unique_ptr<EventStore>> open(StoreOptions options);
  ~EventStore() override;
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  std::string_view name() const override { return "sqlite"; }
  Status write(const output::Record& record) override;
  Status flush() override;  // commits the open transaction
  output::WriterCounters counters() const override;

  // Reads committed events on a connection of its own (WAL readers never wait
  // for the writer).
  Result<std::vector<StoredEvent>> query(const EventQuery& query) const;
  Result<uint64_t> count(const EventQuery& query) const;

  // Runs retention now (the maintenance thread also does, periodically).
  Status enforce_retention();
  // PRAGMA integrity_check: OK, or the problems it found.
  Status check_integrity() const;
  StoreStats stats() const;
  const std::string& path() const;

 private:
  struct Impl;
  explicit EventStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ward::store

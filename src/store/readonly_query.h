// Read-only SQL over an event store, for `ward query`: the database is opened
// with SQLITE_OPEN_READONLY and only a single SELECT (or WITH ... SELECT)
// statement that SQLite itself reports as read-only is accepted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "ward/status.h"

namespace ward::store {

struct Blob {
  std::vector<uint8_t> bytes;
  bool operator==(const Blob&) const = default;
};
// SQLite's storage classes: NULL, INTEGER, REAL, TEXT, BLOB.
using Value = std::variant<std::monostate, int64_t, double, std::string, Blob>;

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;
  bool truncated = false;  // more rows than max_rows matched
};

inline constexpr size_t kDefaultMaxQueryRows = 1'000'000;

Result<QueryResult> query_readonly(const std::string& db_path, const std::string& sql,
                                   size_t max_rows = kDefaultMaxQueryRows);

}  // namespace ward::store

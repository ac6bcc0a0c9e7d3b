#include "store/readonly_query.h"

#include <cctype>
#include <string_view>

#include "store/sqlite_util.h"

namespace ward::store {
namespace {

// Skips whitespace and SQL comments ("-- …" to end of line, "/* … */").
std::string_view skip_blank(std::string_view s) {
  for (;;) {
    size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    s.remove_prefix(i);
    if (s.starts_with("--")) {
      const size_t end = s.find('\n');
      s = end == std::string_view::npos ? std::string_view() : s.substr(end + 1);
    } else if (s.starts_with("/*")) {
      const size_t end = s.find("*/", 2);
      s = end == std::string_view::npos ? std::string_view() : s.substr(end + 2);
    } else {
      return s;
    }
  }
}

bool starts_with_keyword(std::string_view s, std::string_view keyword) {
  if (s.size() < keyword.size()) return false;
  for (size_t i = 0; i < keyword.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(s[i])) != keyword[i]) return false;
  }
  return s.size() == keyword.size() ||
         !(std::isalnum(static_cast<unsigned char>(s[keyword.size()])) || s[keyword.size()] == '_');
}

Value column_value(sqlite3_stmt* stmt, int column) {
  switch (sqlite3_column_type(stmt, column)) {
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_column_int64(stmt, column));
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, column);
    case SQLITE_TEXT: {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
      return std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt, column)));
    }
    case SQLITE_BLOB: {
      const auto* bytes = static_cast<const uint8_t*>(sqlite3_column_blob(stmt, column));
      Blob blob;
      blob.bytes.assign(bytes, bytes + sqlite3_column_bytes(stmt, column));
      return blob;
    }
    default:
      return std::monostate{};
  }
}

}  // namespace

Result<QueryResult> query_readonly(const std::string& db_path, const std::string& sql, size_t max_rows) {
  const std::string_view body = skip_blank(sql);
  if (!starts_with_keyword(body, "SELECT") && !starts_with_keyword(body, "WITH")) {
    return Status::error("query: only a SELECT (or WITH … SELECT) statement is allowed");
  }

  sqlite3* raw = nullptr;
  // READONLY: even a statement that slipped past the checks below cannot write.
  int rc = sqlite3_open_v2(db_path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  sqlite::DbPtr db(raw);
  if (rc != SQLITE_OK) return sqlite::error(db.get(), rc, "opening the event store read-only", db_path);
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), 5000);

  sqlite3_stmt* prepared = nullptr;
  const char* tail = nullptr;
  rc = sqlite3_prepare_v2(db.get(), sql.c_str(), static_cast<int>(sql.size()), &prepared, &tail);
  sqlite::StmtPtr stmt(prepared);
  if (rc != SQLITE_OK) return sqlite::error(db.get(), rc, "query", db_path);
  if (stmt == nullptr) return Status::error("query: the statement is empty");
  if (tail != nullptr && !skip_blank(std::string_view(tail)).empty()) {
    // Also rejects "SELECT 1; SELECT 2": a single statement keeps the output one table.
    const std::string_view rest = skip_blank(std::string_view(tail));
    if (!(rest.size() == 1 && rest[0] == ';')) return Status::error("query: only one statement is allowed");
  }
  if (sqlite3_stmt_readonly(stmt.get()) == 0) return Status::error("query: the statement would write");

  QueryResult result;
  const int columns = sqlite3_column_count(stmt.get());
  for (int c = 0; c < columns; ++c) {
    const char* column = sqlite3_column_name(stmt.get(), c);
    result.columns.emplace_back(column != nullptr ? column : "");
  }
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    if (result.rows.size() >= max_rows) {
      result.truncated = true;
      break;
    }
    std::vector<Value> row;
    row.reserve(static_cast<size_t>(columns));
    for (int c = 0; c < columns; ++c) row.push_back(column_value(stmt.get(), c));
    result.rows.push_back(std::move(row));
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqlite::error(db.get(), rc, "query", db_path);
  return result;
}

}  // namespace ward::store

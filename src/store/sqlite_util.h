// Small RAII and error helpers around the SQLite C API (internal to the store).
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include <sqlite3.h>
#pragma GCC diagnostic pop

#include <memory>
#include <string>
#include <string_view>

#include "ward/status.h"

namespace ward::store::sqlite {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// SQLITE_STATIC without the macro's C cast: the bound buffer outlives the step.
inline const sqlite3_destructor_type kStatic = nullptr;

// "<path>: <what>: <sqlite message> (<code name>)", with a hint for the errors
// an operator can act on.
inline Status error(sqlite3* db, int rc, std::string_view what, const std::string& path) {
  std::string message = path + ": " + std::string(what) + ": ";
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : nullptr;
  message += detail != nullptr ? detail : sqlite3_errstr(rc);
  message += " (" + std::string(sqlite3_errstr(rc)) + ", code " + std::to_string(rc) + ")";
  const int primary = rc & 0xff;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
    message += "; the file is damaged or not a database: move it away to start a new store";
  } else if (primary == SQLITE_FULL) {
    message += "; the disk is full";
  } else if (primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN || primary == SQLITE_PERM) {
    message += "; check the path and its permissions";
  }
  return Status::error(std::move(message));
}

inline Status exec(sqlite3* db, const char* sql, const std::string& path) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::ok();
  std::string what = std::string("executing \"") + sql + "\"";
  sqlite3_free(err);
  return error(db, rc, what, path);
}

inline Result<StmtPtr> prepare(sqlite3* db, std::string_view sql, const std::string& path,
                               unsigned flags = 0) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), flags, &stmt, nullptr);
  if (rc != SQLITE_OK) return error(db, rc, "preparing \"" + std::string(sql) + "\"", path);
  return StmtPtr(stmt);
}

}  // namespace ward::store::sqlite

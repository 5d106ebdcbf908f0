#include "store/sqlite.h"

#include <unistd.h>

namespace strata {
namespace {

// SQLite's message, and for the errors a user can act on, why and what to do.
std::string DbError(sqlite3* db) {
  std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
  const int code = db ? sqlite3_errcode(db) : SQLITE_NOMEM;
  if (code == SQLITE_FULL) {
    msg +=
        " (no space left on the store's device: free space, e.g. with `strata gc` or "
        "`strata image prune`, or use another --root)";
  } else if (code == SQLITE_READONLY || code == SQLITE_PERM) {
    msg += " (the store is not writable by uid " + std::to_string(::geteuid()) +
           ": run as the store's owner or use another --root)";
  }
  return msg;
}

// "file:" URI of a path, for SQLite's URI parameters.
std::string FileUri(const std::string& path) {
  std::string out = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      static const char kHex[] = "0123456789abcdef";
      out += '%';
      out += kHex[(c >> 4) & 0xf];
      out += kHex[c & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Statement& Statement::Bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Statement& Statement::BindOptional(int index, const std::optional<std::string>& text) {
  return text ? Bind(index, std::string_view(*text)) : BindNull(index);
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Fail("metadata database: " + DbError(db_));
}

Status Statement::Run() {
  for (;;) {
    STRATA_ASSIGN(row, Step());
    if (!row) return {};
  }
}

std::string Statement::Text(int column) const {
  const unsigned char* p = sqlite3_column_text(stmt_, column);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
           : std::string();
}

std::optional<std::string> Statement::OptionalText(int column) const {
  if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
  return Text(column);
}

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

Result<Database> Database::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = DbError(db);
    sqlite3_close(db);
    return Fail("open metadata database " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 30000);
  Database out(db, path);
  STRATA_TRY(out.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"));
  return out;
}

Result<Database> Database::OpenReadOnly(const std::string& path) {
  sqlite3* db = nullptr;
  // immutable: no locks, no -wal or -shm files, nothing written, even to a read-only filesystem.
  const std::string uri = FileUri(path) + "?mode=ro&immutable=1";
  int rc = sqlite3_open_v2(uri.c_str(), &db,
                           SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = DbError(db);
    sqlite3_close(db);
    return Fail("open metadata database " + path + " read-only: " + msg);
  }
  return Database(db, path);
}

Database::~Database() { sqlite3_close(db_); }

Status Database::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = DbError(db_);
    sqlite3_free(err);
    return Fail("metadata database " + path_ + ": " + msg);
  }
  return {};
}

Result<Statement> Database::Prepare(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    return Fail("metadata database: " + std::string(sqlite3_errmsg(db_)) + " in: " + sql);
  }
  return Statement(db_, stmt);
}

Result<Transaction> Transaction::Begin(Database& db) {
  STRATA_TRY(db.Exec("BEGIN IMMEDIATE"));
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (open_) (void)db_->Exec("ROLLBACK");
}

Status Transaction::Commit() {
  STRATA_TRY(db_->Exec("COMMIT"));
  open_ = false;
  ++db_->commits_;
  return {};
}

}  // namespace strata

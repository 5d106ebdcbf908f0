// A thin RAII layer over SQLite: one connection, prepared statements, and IMMEDIATE transactions
// (so two strata processes serialise their writes instead of failing with SQLITE_BUSY mid-way).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace strata {

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Statement(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  // Binds parameters 1..n in order; returns *this for chaining.
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, int64_t value);
  Statement& BindNull(int index);
  Statement& Bind(int index, const std::string& text) {
    return Bind(index, std::string_view(text));
  }
  Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Statement& BindOptional(int index, const std::optional<std::string>& text);

  // Steps once: true if a row is available, false when done.
  Result<bool> Step();
  // Runs to completion (for statements that return no rows).
  Status Run();

  std::string Text(int column) const;
  std::optional<std::string> OptionalText(int column) const;
  int64_t Int(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Database {
 public:
  static Result<Database> Open(const std::string& path);
  // Without writing anything (no journal, no locks): for a store this process cannot write. A
  // change another process makes meanwhile may be missed or seen half-done (the WAL is not read).
  static Result<Database> OpenReadOnly(const std::string& path);
  Database(Database&& o) noexcept : db_(o.db_), path_(std::move(o.path_)), commits_(o.commits_) {
    o.db_ = nullptr;
  }
  Database(const Database&) = delete;
  ~Database();

  Status Exec(const std::string& sql);
  Result<Statement> Prepare(const std::string& sql);
  const std::string& path() const { return path_; }
  // Transactions committed through this connection: how tests show that an operation's metadata
  // change is one transaction.
  int64_t commits() const { return commits_; }

 private:
  friend class Transaction;
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  int64_t commits_ = 0;
};

// BEGIN IMMEDIATE on construction; rolls back unless Commit() succeeded.
class Transaction {
 public:
  static Result<Transaction> Begin(Database& db);
  Transaction(Transaction&& o) noexcept : db_(o.db_), open_(o.open_) { o.open_ = false; }
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(Database* db) : db_(db), open_(true) {}
  Database* db_;
  bool open_;
};

}  // namespace strata

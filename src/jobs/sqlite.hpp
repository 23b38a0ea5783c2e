#pragma once
// A thin owning layer over SQLite: the only code that calls sqlite3_*.
// Failures become Error values; SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY and
// friends map to Kind::unavailable so callers answer 503, not 500.
//
// Thread safety: one Database (and its Statements) per thread at a time.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace visor::jobs::sqlite {

class Statement;

// How a connection's commits reach the disk. In WAL mode `durable` commits
// wait for fsync (synchronous=FULL); `ephemeral` ones do not (NORMAL): a
// power loss may undo the last of them, never corrupt the file, and a later
// durable commit makes them durable too.
enum class Durability { durable, ephemeral };

class Database {
 public:
  // Opens or creates the file; sets WAL, the durability, foreign keys and
  // a busy timeout.
  static Result<Database> open(const std::string& path, Durability durability = Durability::durable);

  Status exec(std::string_view sql);  // one or more statements, no results
  Result<Statement> prepare(std::string_view sql);
  std::int64_t changes() const;

 private:
  struct Closer {
    void operator()(sqlite3* db) const;
  };
  explicit Database(sqlite3* db) : db_(db) {}
  std::unique_ptr<sqlite3, Closer> db_;
  friend class Statement;
};

// A prepared statement. Bind indexes start at 1, column indexes at 0.
class Statement {
 public:
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, double value);
  Statement& bind_blob(int index, std::string_view bytes);
  Statement& bind_null(int index);

  // True when a row is ready, false when done.
  Result<bool> step();
  // Steps to completion, ignoring rows.
  Status run();
  Status reset();

  std::int64_t column_int(int index) const;
  double column_double(int index) const;
  std::string column_text(int index) const;  // "" for NULL
  bool column_is_null(int index) const;

 private:
  struct Finalizer {
    void operator()(sqlite3_stmt* stmt) const;
  };
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  sqlite3* db_;
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
  Status bind_status_;  // the first bind failure, reported by step()
  friend class Database;
};

// BEGIN IMMEDIATE on construction, ROLLBACK on destruction unless commit()
// succeeded. IMMEDIATE takes the write lock up front, so two writers never
// deadlock upgrading read locks.
class Transaction {
 public:
  static Result<Transaction> begin(Database& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(Database& db) : db_(&db) {}
  Database* db_;
};

}  // namespace visor::jobs::sqlite

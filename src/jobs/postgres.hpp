#pragma once
// A thin owning layer over libpq: the only code that calls PQ* functions.
// Failures become Error values: a connection that cannot be made or was
// lost, a server shutting down or out of resources map to
// Kind::unavailable (with Retry-After), a unique violation to conflict,
// anything else to internal.
//
// Thread safety: one Connection at a time per thread; Pool is thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

struct pg_conn;
struct pg_result;

namespace visor::jobs::pg {

// Parameters $1, $2, ... of one statement: text, except add_bytes (binary).
class Params {
 public:
  Params& add(std::string_view text);
  Params& add(const std::string& text) { return add(std::string_view(text)); }
  Params& add(const char* text) { return add(std::string_view(text)); }
  Params& add(std::int64_t value);
  Params& add(int value) { return add(static_cast<std::int64_t>(value)); }
  Params& add(double value);
  Params& add(const std::optional<std::string>& text_or_null);
  Params& add_null();
  // A bytea value sent as is. REQUIRES: `bytes` outlives the statement's run.
  Params& add_bytes(std::string_view bytes);

  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  Params& push(const char* value, int length, int format);
  std::deque<std::string> owned_;  // a deque: adding never moves earlier strings
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// The rows of one statement's answer. Column indexes start at 0.
class Rows {
 public:
  int size() const;
  bool empty() const { return size() == 0; }
  bool is_null(int row, int column) const;
  std::string text(int row, int column) const;  // "" for NULL; raw bytes for binary results
  std::int64_t integer(int row, int column) const;
  double number(int row, int column) const;
  // Rows an INSERT, UPDATE or DELETE touched.
  std::int64_t affected() const;

 private:
  friend class Connection;
  struct Clear {
    void operator()(pg_result* result) const;
  };
  explicit Rows(pg_result* result) : result_(result) {}
  std::unique_ptr<pg_result, Clear> result_;
};

// A statement prepared on each connection the first time that connection
// runs it. REQUIRES: names are unique per SQL text.
struct Statement {
  std::string name;
  std::string sql;
};

struct Notification {
  std::string channel;
  std::string payload;
};

class Connection {
 public:
  // Connects to `uri` (a libpq URI); `description` (the URI without its
  // password) names the server in messages.
  static Result<Connection> open(const std::string& uri, const std::string& description);

  // Runs one statement with parameters, prepared once on this connection.
  Result<Rows> run(const Statement& statement, const Params& params = {});
  // Runs one statement, unprepared; with `binary_results` columns come in
  // binary form (for bytea).
  Result<Rows> query(std::string_view sql, const Params& params = {}, bool binary_results = false);
  // Runs one or more statements without parameters or results.
  Status exec(std::string_view sql);

  // True once the connection is lost: it must not be used again.
  bool broken() const;
  // The SQLSTATE of the last failed statement ("40P01"); empty when none.
  const std::string& last_sqlstate() const { return last_sqlstate_; }

  // For LISTEN: the socket to wait on, and the notifications that arrived.
  int socket() const;
  Result<std::vector<Notification>> take_notifications();

  const std::string& description() const { return description_; }

 private:
  struct Finisher {
    void operator()(pg_conn* conn) const;
  };
  Connection(pg_conn* conn, std::string description) : conn_(conn), description_(std::move(description)) {}
  Result<Rows> checked(pg_result* result, std::string_view action);
  Error failure(pg_result* result, std::string_view action);

  std::unique_ptr<pg_conn, Finisher> conn_;
  std::string description_;
  std::set<std::string> prepared_;
  std::string last_sqlstate_;
};

// BEGIN on construction, ROLLBACK on destruction unless commit() succeeded.
class Transaction {
 public:
  static Result<Transaction> begin(Connection& conn);
  Transaction(Transaction&& other) noexcept : conn_(other.conn_) { other.conn_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(Connection& conn) : conn_(&conn) {}
  Connection* conn_;
};

// Up to `max_connections` connections, opened when needed and kept while
// they work; a lost connection is dropped and the next borrow opens a new
// one, so a restarted server is used again without anyone noticing.
class Pool {
 public:
  Pool(std::string uri, std::string description, int max_connections);

  class Lease {
   public:
    Lease(Pool& pool, std::unique_ptr<Connection> conn) : pool_(&pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept = default;
    ~Lease();
    Connection& operator*() { return *conn_; }
    Connection* operator->() { return conn_.get(); }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  // A connection; unavailable when none can be opened, or when all are
  // busy for longer than `wait`.
  Result<Lease> borrow(std::chrono::milliseconds wait = std::chrono::seconds(30));

  const std::string& uri() const { return uri_; }
  const std::string& description() const { return description_; }

 private:
  void give_back(std::unique_ptr<Connection> conn);

  std::string uri_;
  std::string description_;
  int max_connections_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;  // connections lent out or idle
};

// Seconds a client should wait before retrying while the server is
// unreachable or restarting.
inline constexpr int kRetryAfterSeconds = 5;

}  // namespace visor::jobs::pg

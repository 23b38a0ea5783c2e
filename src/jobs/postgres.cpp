#include "jobs/postgres.hpp"

#include <libpq-fe.h>

#include <array>
#include <cstdio>
#include <cstdlib>

namespace visor::jobs::pg {
namespace {

// Defaults a URI may override: connecting gives up after a few seconds,
// and keepalives notice a peer that vanished (a crashed host, a cut
// network) instead of waiting on its socket forever.
constexpr std::array<std::pair<const char*, const char*>, 6> kConnectionDefaults{{
    {"connect_timeout", "5"},
    {"keepalives", "1"},
    {"keepalives_idle", "10"},
    {"keepalives_interval", "5"},
    {"keepalives_count", "3"},
    {"application_name", "visor"},
}};

std::string trimmed(std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

// SQLSTATE classes and codes that mean "the server cannot do it now", not
// "the request is wrong": connection exceptions, insufficient resources
// (disk full, out of memory, too many connections), operator intervention
// (shutdown, restart), a read-only standby.
bool is_unavailable_state(std::string_view state) {
  return state.starts_with("08") || state.starts_with("53") || state.starts_with("57P") || state == "25006";
}

}  // namespace

Params& Params::push(const char* value, int length, int format) {
  values_.push_back(value);
  lengths_.push_back(length);
  formats_.push_back(format);
  return *this;
}

Params& Params::add(std::string_view text) {
  const std::string& owned = owned_.emplace_back(text);
  return push(owned.c_str(), static_cast<int>(owned.size()), 0);
}

Params& Params::add(std::int64_t value) {
  const std::string& owned = owned_.emplace_back(std::to_string(value));
  return push(owned.c_str(), static_cast<int>(owned.size()), 0);
}

Params& Params::add(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", value);
  return add(std::string_view(text));
}

Params& Params::add(const std::optional<std::string>& text_or_null) {
  return text_or_null ? add(std::string_view(*text_or_null)) : add_null();
}

Params& Params::add_null() { return push(nullptr, 0, 0); }

Params& Params::add_bytes(std::string_view bytes) {
  return push(bytes.data(), static_cast<int>(bytes.size()), 1);
}

void Rows::Clear::operator()(pg_result* result) const { PQclear(result); }

int Rows::size() const { return PQntuples(result_.get()); }

bool Rows::is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }

std::string Rows::text(int row, int column) const {
  if (is_null(row, column)) return {};
  return std::string(PQgetvalue(result_.get(), row, column),
                     static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

std::int64_t Rows::integer(int row, int column) const {
  return std::strtoll(PQgetvalue(result_.get(), row, column), nullptr, 10);
}

double Rows::number(int row, int column) const { return std::strtod(PQgetvalue(result_.get(), row, column), nullptr); }

std::int64_t Rows::affected() const { return std::strtoll(PQcmdTuples(result_.get()), nullptr, 10); }

void Connection::Finisher::operator()(pg_conn* conn) const { PQfinish(conn); }

Result<Connection> Connection::open(const std::string& uri, const std::string& description) {
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (const auto& [keyword, value] : kConnectionDefaults) {
    keywords.push_back(keyword);
    values.push_back(value);
  }
  // Expanded in place: what the URI says wins over the defaults before it.
  keywords.push_back("dbname");
  values.push_back(uri.c_str());
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  Connection conn(PQconnectdbParams(keywords.data(), values.data(), 1), description);
  if (conn.conn_ == nullptr) return Error::unavailable("Cannot connect to the job store: out of memory");
  if (PQstatus(conn.conn_.get()) != CONNECTION_OK) {
    return Error::unavailable("Cannot connect to the job store at " + description + ": " +
                              trimmed(PQerrorMessage(conn.conn_.get())))
        .retry_after(kRetryAfterSeconds);
  }
  // Notices (e.g. "relation already exists, skipping") are not for users.
  PQsetNoticeProcessor(conn.conn_.get(), [](void*, const char*) {}, nullptr);
  return conn;
}

Error Connection::failure(pg_result* result, std::string_view action) {
  const std::string message =
      trimmed(result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn_.get()));
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = state != nullptr ? state : "";
  const std::string text = "Job store error while " + std::string(action) + " (" + description_ + "): " + message;
  if (broken() || is_unavailable_state(last_sqlstate_)) {
    return Error::unavailable(text).retry_after(kRetryAfterSeconds);
  }
  if (last_sqlstate_ == "23505") return Error::conflict(text);
  return Error::internal(text);
}

Result<Rows> Connection::checked(pg_result* result, std::string_view action) {
  Rows rows(result);
  const auto status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    last_sqlstate_.clear();
    return rows;
  }
  return failure(result, action);
}

Result<Rows> Connection::run(const Statement& statement, const Params& params) {
  if (!prepared_.contains(statement.name)) {
    auto prepared = checked(PQprepare(conn_.get(), statement.name.c_str(), statement.sql.c_str(), 0, nullptr),
                            "preparing " + statement.name);
    if (!prepared) return prepared.take_error();
    prepared_.insert(statement.name);
  }
  return checked(PQexecPrepared(conn_.get(), statement.name.c_str(), params.size(), params.values(),
                                params.lengths(), params.formats(), 0),
                 "running " + statement.name);
}

Result<Rows> Connection::query(std::string_view sql, const Params& params, bool binary_results) {
  const std::string owned(sql);
  return checked(PQexecParams(conn_.get(), owned.c_str(), params.size(), nullptr, params.values(), params.lengths(),
                              params.formats(), binary_results ? 1 : 0),
                 "running a query");
}

Status Connection::exec(std::string_view sql) {
  const std::string owned(sql);
  auto done = checked(PQexec(conn_.get(), owned.c_str()), "running statements");
  if (!done) return done.take_error();
  return {};
}

bool Connection::broken() const { return PQstatus(conn_.get()) != CONNECTION_OK; }

int Connection::socket() const { return PQsocket(conn_.get()); }

Result<std::vector<Notification>> Connection::take_notifications() {
  if (PQconsumeInput(conn_.get()) == 0) return failure(nullptr, "waiting for notifications");
  std::vector<Notification> notifications;
  while (PGnotify* notify = PQnotifies(conn_.get())) {
    notifications.push_back({notify->relname, notify->extra});
    PQfreemem(notify);
  }
  return notifications;
}

Result<Transaction> Transaction::begin(Connection& conn) {
  if (Status s = conn.exec("BEGIN"); !s) return s.take_error();
  return Transaction(conn);
}

Transaction::~Transaction() {
  if (conn_ != nullptr && !conn_->broken()) (void)conn_->exec("ROLLBACK");
}

Status Transaction::commit() {
  Status s = conn_->exec("COMMIT");
  conn_ = nullptr;  // committed, or failed and rolled back by the server
  return s;
}

Pool::Pool(std::string uri, std::string description, int max_connections)
    : uri_(std::move(uri)), description_(std::move(description)), max_connections_(max_connections) {}

Pool::Lease::~Lease() {
  if (conn_) pool_->give_back(std::move(conn_));
}

Result<Pool::Lease> Pool::borrow(std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::unique_lock lock(mutex_);
  for (;;) {
    while (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      if (!conn->broken()) return Lease(*this, std::move(conn));
      --open_;
    }
    if (open_ < max_connections_) {
      ++open_;
      lock.unlock();
      auto conn = Connection::open(uri_, description_);
      if (conn) return Lease(*this, std::make_unique<Connection>(std::move(*conn)));
      lock.lock();
      --open_;
      returned_.notify_one();
      return conn.take_error();
    }
    if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= max_connections_) {
      return Error::unavailable("All " + std::to_string(max_connections_) + " connections to the job store at " +
                                description_ + " stayed busy")
          .retry_after(kRetryAfterSeconds);
    }
  }
}

void Pool::give_back(std::unique_ptr<Connection> conn) {
  const std::lock_guard lock(mutex_);
  if (conn->broken()) {
    // Most often the server restarted, and the idle connections are lost
    // too without knowing it yet: new ones spare the next borrowers a
    // failed request each.
    open_ -= 1 + static_cast<int>(idle_.size());
    idle_.clear();
  } else {
    idle_.push_back(std::move(conn));
  }
  returned_.notify_all();
}

}  // namespace visor::jobs::pg

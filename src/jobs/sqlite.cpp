#include "jobs/sqlite.hpp"

#include <sqlite3.h>

namespace visor::jobs::sqlite {
namespace {

constexpr int kBusyTimeoutMs = 15000;

Error error_from(sqlite3* db, int code, std::string_view action) {
  std::string message = "Job store error while " + std::string(action) + ": " +
                        (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code));
  switch (code & 0xff) {
    case SQLITE_FULL:
      return Error::unavailable(message + " (the disk is full, or the store reached its size limit)");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
      return Error::unavailable(std::move(message));
    case SQLITE_CONSTRAINT:
      return Error::conflict(std::move(message));
    default:
      return Error::internal(std::move(message));
  }
}

}  // namespace

void Database::Closer::operator()(sqlite3* db) const { sqlite3_close_v2(db); }

Result<Database> Database::open(const std::string& path, Durability durability) {
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Database db(raw);
  if (rc != SQLITE_OK) return error_from(raw, rc, "opening " + path);
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  const std::string synchronous = durability == Durability::durable ? "FULL" : "NORMAL";
  if (Status s = db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=" + synchronous + "; PRAGMA foreign_keys=ON;");
      !s) {
    return s.take_error();
  }
  return db;
}

Status Database::exec(std::string_view sql) {
  const std::string owned(sql);
  const int rc = sqlite3_exec(db_.get(), owned.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return error_from(db_.get(), rc, "executing a statement");
  return {};
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return error_from(db_.get(), rc, "preparing a statement");
  return Statement(db_.get(), stmt);
}

std::int64_t Database::changes() const { return sqlite3_changes64(db_.get()); }

void Statement::Finalizer::operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }

Statement& Statement::bind(int index, std::string_view text) {
  const int rc = sqlite3_bind_text64(stmt_.get(), index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_status_.ok()) bind_status_ = error_from(db_, rc, "binding a value");
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_.get(), index, value);
  if (rc != SQLITE_OK && bind_status_.ok()) bind_status_ = error_from(db_, rc, "binding a value");
  return *this;
}

Statement& Statement::bind(int index, double value) {
  const int rc = sqlite3_bind_double(stmt_.get(), index, value);
  if (rc != SQLITE_OK && bind_status_.ok()) bind_status_ = error_from(db_, rc, "binding a value");
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
  // SQLITE_STATIC: the caller's bytes outlive the statement's step.
  const int rc = sqlite3_bind_blob64(stmt_.get(), index, bytes.data(), bytes.size(), SQLITE_STATIC);
  if (rc != SQLITE_OK && bind_status_.ok()) bind_status_ = error_from(db_, rc, "binding a document");
  return *this;
}

Statement& Statement::bind_null(int index) {
  const int rc = sqlite3_bind_null(stmt_.get(), index);
  if (rc != SQLITE_OK && bind_status_.ok()) bind_status_ = error_from(db_, rc, "binding a value");
  return *this;
}

Result<bool> Statement::step() {
  if (!bind_status_) return bind_status_.error();
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return error_from(db_, rc, "running a statement");
}

Status Statement::run() {
  for (;;) {
    auto row = step();
    if (!row) return row.take_error();
    if (!*row) return {};
  }
}

Status Statement::reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
  bind_status_ = {};
  return {};
}

std::int64_t Statement::column_int(int index) const { return sqlite3_column_int64(stmt_.get(), index); }

double Statement::column_double(int index) const { return sqlite3_column_double(stmt_.get(), index); }

std::string Statement::column_text(int index) const {
  const auto* text = sqlite3_column_blob(stmt_.get(), index);
  const int size = sqlite3_column_bytes(stmt_.get(), index);
  if (text == nullptr) return {};
  return std::string(static_cast<const char*>(text), static_cast<std::size_t>(size));
}

bool Statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_.get(), index) == SQLITE_NULL;
}

Result<Transaction> Transaction::begin(Database& db) {
  if (Status s = db.exec("BEGIN IMMEDIATE"); !s) return s.take_error();
  return Transaction(db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)db_->exec("ROLLBACK");
}

Status Transaction::commit() {
  Status s = db_->exec("COMMIT");
  if (s) db_ = nullptr;
  return s;
}

}  // namespace visor::jobs::sqlite

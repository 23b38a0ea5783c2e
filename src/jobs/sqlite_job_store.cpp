// The embedded job store: one SQLite file in WAL mode. Every state change is
// one IMMEDIATE transaction, so a process killed at any point leaves either
// the old state or the new one.

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

#include "jobs/page_result.hpp"
#include "jobs/sqlite.hpp"
#include "jobs/sqlite_job_store.hpp"
#include "jobs/sqlite_schema.hpp"
#include "jobs/store_policy.hpp"
#include "util/ulid.hpp"

namespace visor::jobs {
namespace {

constexpr std::string_view kJobColumns =
    "id, owner, filename, model, dpi, total_pages, status, pages_done, error, "
    "submitted_at, started_at, completed_at, expires_at, ocr_mode, pages, document_pages, webhook_url, webhook_pages, "
    "tenant, priority";

constexpr std::string_view kDeliveryColumns =
    "id, job_id, owner, event, page_index, url, created_at, state, payload, attempts, last_error, "
    "last_attempt_at, next_attempt_at, delivered_at, lease_token";

Job job_from_row(const sqlite::Statement& row) {
  Job job;
  job.id = row.column_text(0);
  job.owner = row.column_text(1);
  job.filename = row.column_text(2);
  job.model = row.column_text(3);
  job.dpi = static_cast<int>(row.column_int(4));
  job.total_pages = static_cast<int>(row.column_int(5));
  job.status = parse_status(row.column_text(6)).value_or(JobStatus::failed);
  job.pages_done = static_cast<int>(row.column_int(7));
  job.error = row.column_text(8);
  job.submitted_at = row.column_int(9);
  job.started_at = row.column_int(10);
  job.completed_at = row.column_int(11);
  job.expires_at = row.column_int(12);
  job.ocr_mode = row.column_text(13);
  job.pages = row.column_text(14);
  job.document_pages = static_cast<int>(row.column_int(15));
  job.webhook.url = row.column_text(16);
  job.webhook.pages = row.column_int(17) != 0;
  job.tenant = row.column_text(18);
  job.priority = static_cast<JobPriority>(std::clamp<std::int64_t>(row.column_int(19), 0, 2));
  return job;
}

WebhookDelivery delivery_from_row(const sqlite::Statement& row) {
  WebhookDelivery delivery;
  delivery.id = row.column_text(0);
  delivery.job_id = row.column_text(1);
  delivery.owner = row.column_text(2);
  delivery.event = row.column_text(3);
  delivery.page_index = static_cast<int>(row.column_int(4));
  delivery.url = row.column_text(5);
  delivery.created_at = row.column_int(6);
  delivery.state = parse_delivery_state(row.column_text(7));
  delivery.payload = row.column_text(8);
  delivery.attempts = static_cast<int>(row.column_int(9));
  delivery.last_error = row.column_text(10);
  delivery.last_attempt_at = row.column_int(11);
  delivery.next_attempt_at = row.column_int(12);
  delivery.delivered_at = row.column_int(13);
  delivery.lease_token = row.column_text(14);
  return delivery;
}

// Connections are expensive to open and not thread-safe, so each call
// borrows one from a pool and returns it when done.
class ConnectionPool {
 public:
  ConnectionPool(std::string path, std::int64_t max_bytes, sqlite::Durability durability)
      : path_(std::move(path)), max_bytes_(max_bytes), durability_(durability) {}

  class Borrowed {
   public:
    Borrowed(ConnectionPool& pool, std::unique_ptr<sqlite::Database> db) : pool_(pool), db_(std::move(db)) {}
    Borrowed(Borrowed&&) = default;
    ~Borrowed() {
      if (db_) pool_.give_back(std::move(db_));
    }
    sqlite::Database& operator*() { return *db_; }
    sqlite::Database* operator->() { return db_.get(); }

   private:
    ConnectionPool& pool_;
    std::unique_ptr<sqlite::Database> db_;
  };

  Result<Borrowed> borrow() {
    {
      const std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        auto db = std::move(idle_.back());
        idle_.pop_back();
        return Borrowed(*this, std::move(db));
      }
    }
    auto db = sqlite::Database::open(path_, durability_);
    if (!db) return db.take_error();
    if (Status s = limit_size(*db); !s) return s.take_error();
    return Borrowed(*this, std::make_unique<sqlite::Database>(std::move(*db)));
  }

 private:
  void give_back(std::unique_ptr<sqlite::Database> db) {
    const std::lock_guard lock(mutex_);
    idle_.push_back(std::move(db));
  }

  // max_page_count is a per-connection setting: each connection enforces
  // the byte limit in pages of the file's page size.
  Status limit_size(sqlite::Database& db) const {
    if (max_bytes_ <= 0) return {};
    auto page_size = db.prepare("PRAGMA page_size");
    if (!page_size) return page_size.take_error();
    auto row = page_size->step();
    if (!row) return row.take_error();
    const std::int64_t bytes_per_page = *row ? page_size->column_int(0) : 4096;
    const std::int64_t pages = std::max<std::int64_t>(1, max_bytes_ / std::max<std::int64_t>(512, bytes_per_page));
    auto limit = db.prepare("PRAGMA max_page_count = " + std::to_string(pages));
    if (!limit) return limit.take_error();
    return limit->run();
  }

  std::string path_;
  std::int64_t max_bytes_;
  sqlite::Durability durability_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<sqlite::Database>> idle_;
};

class SqliteJobStore final : public JobStore {
 public:
  SqliteJobStore(const std::string& path, StoreOptions options)
      : pool_(path, options.max_bytes, sqlite::Durability::durable),
        ephemeral_pool_(path, options.max_bytes, sqlite::Durability::ephemeral),
        policy_(options) {}

  Status migrate() {
    auto db = pool_.borrow();
    if (!db) return db.take_error();
    auto tx = sqlite::Transaction::begin(**db);
    if (!tx) return tx.take_error();
    auto current = read_schema_version(**db);
    if (!current) return current.take_error();
    auto pending = pending_migrations(sqlite_migrations(), *current);
    if (!pending) return pending.take_error();
    for (const Migration& migration : *pending) {
      if (Status s = (*db)->exec(migration.sql); !s) return s;
      if (Status s = (*db)->exec("PRAGMA user_version=" + std::to_string(migration.version)); !s) return s;
    }
    return tx->commit();
  }

  // Opens a connection, which opens the file, without touching the schema.
  Status ping_file() {
    auto db = pool_.borrow();
    if (!db) return db.take_error();
    return {};
  }

  Result<int> schema_version() override {
    auto db = pool_.borrow();
    if (!db) return db.take_error();
    return read_schema_version(**db);
  }

  Status create_job(const NewJob& job) override {
    return write([&](sqlite::Database& db) -> Status {
      if (Status room = check_room_for(db, job.document->size()); !room) return room;
      if (Status queue = check_tenant_queue(db, job); !queue) return queue;
      auto insert_job = db.prepare(
          "INSERT INTO jobs (id, owner, filename, model, dpi, total_pages, status, submitted_at, ocr_mode, pages, "
          "document_pages, webhook_url, webhook_pages, tenant, priority) VALUES (?, ?, ?, ?, ?, ?, " +
          sql().pending + ", ?, ?, ?, ?, ?, ?, ?, ?)");
      if (!insert_job) return insert_job.take_error();
      insert_job->bind(1, job.id).bind(2, job.owner).bind(3, job.filename).bind(4, job.model);
      insert_job->bind(5, std::int64_t{job.dpi}).bind(6, std::int64_t{job.total_pages}).bind(7, job.submitted_at);
      insert_job->bind(8, job.ocr_mode).bind(9, job.pages).bind(10, std::int64_t{job.document_pages});
      insert_job->bind(11, job.webhook.url).bind(12, std::int64_t{job.webhook.pages ? 1 : 0});
      insert_job->bind(13, job.tenant).bind(14, static_cast<std::int64_t>(job.priority));
      if (Status s = insert_job->run(); !s) return s;

      auto insert_document = db.prepare("INSERT INTO documents (job_id, bytes) VALUES (?, ?)");
      if (!insert_document) return insert_document.take_error();
      insert_document->bind(1, job.id).bind_blob(2, *job.document);
      if (Status s = insert_document->run(); !s) return s;

      auto insert_page = db.prepare("INSERT INTO pages (job_id, page_index, state) VALUES (?, ?, 'queued')");
      if (!insert_page) return insert_page.take_error();
      for (const int page : pages_to_process(job)) {
        (void)insert_page->reset();
        insert_page->bind(1, job.id).bind(2, std::int64_t{page});
        if (Status s = insert_page->run(); !s) return s;
      }
      if (job.idempotency_key.empty()) return {};
      return remember_idempotency_key(db, job);
    });
  }

  Result<std::optional<std::string>> find_idempotent_job(std::string_view owner, std::string_view key,
                                                         std::string_view fingerprint, std::int64_t now_ms) override {
    auto db = pool_.borrow();
    if (!db) return db.take_error();
    auto select = (*db)->prepare(
        "SELECT fingerprint, job_id FROM idempotency WHERE owner = ? AND key = ? AND created_at > ?");
    if (!select) return select.take_error();
    select->bind(1, owner).bind(2, key).bind(3, policy_.idempotency_cutoff(now_ms));
    auto row = select->step();
    if (!row) return row.take_error();
    if (!*row) return std::optional<std::string>();
    if (select->column_text(0) != fingerprint) return StorePolicy::idempotency_key_reused(select->column_text(1));
    return std::optional<std::string>(select->column_text(1));
  }

  Status cancel_job(std::string_view job_id, std::string_view reason, std::int64_t now_ms) override {
    return write([&](sqlite::Database& db) -> Status {
      auto job = load_job(db, job_id);
      if (!job) return job.take_error();
      if (job->status == JobStatus::cancelled) return {};
      if (job->finished() || job->status == JobStatus::expired) return StorePolicy::nothing_to_cancel(*job);
      return end_job(db, job_id, JobStatus::cancelled, reason, now_ms);
    });
  }

  Result<Job> get_job(std::string_view job_id) override {
    auto db = pool_.borrow();
    if (!db) return db.take_error();
    return load_job(**db, job_id);
  }

  Result<std::shared_ptr<const std::string>> read_document(std::string_view job_id) override {
    auto db = pool_.borrow();
    if (!db) return db.take_error();
    auto select = (*db)->prepare("SELECT bytes FROM documents WHERE job_id = ?");
    if (!select) return select.take_error();
    select->bind(1, job_id);
    auto row = select->step();
    if (!row) return row.take_error();
    if (!*row) return StorePolicy::document_gone(job_id);
    return std::make_shared<const std::string>(select->column_text(0));
  }

  Result<std::vector<PageRecord>> read_pages(std::string_view job_id) override {
    auto db = pool_.borrow();
    if (!db) return db.take_error();
    auto select = (*db)->prepare(
        "SELECT page_index, state, result, engine FROM pages WHERE job_id = ? ORDER BY page_index");
    if (!select) return select.take_error();
    select->bind(1, job_id);
    std::vector<PageRecord> pages;
    for (;;) {
      auto row = select->step();
      if (!row) return row.take_error();
      if (!*row) break;
      PageRecord page;
      page.page_index = static_cast<int>(select->column_int(0));
      page.finished = select->column_text(1) == "done";
      page.result_json = select->column_text(2);
      page.engine = select->column_text(3);
      pages.push_back(std::move(page));
    }
    if (pages.empty()) return StorePolicy::pages_gone(job_id);
    return pages;
  }

  Result<std::optional<PageTask>> lease_page(const LeaseRequest& request) override {
    std::optional<PageTask> leased;
    Status s = write([&](sqlite::Database& db) -> Status {
      if (Status e = finish_lapsed_pages(db, request.now_ms); !e) return e;
      auto task = pick_page(db, request);
      if (!task) return task.take_error();
      if (!*task) return {};
      if (Status e = take_lease(db, **task, request); !e) return e;
      leased = std::move(*task);
      return {};
    });
    if (!s) return s.take_error();
    return leased;
  }

  Status renew_lease(const PageTask& task, std::int64_t now_ms, std::chrono::milliseconds duration) override {
    return write([&](sqlite::Database& db) -> Status {
      auto update = db.prepare(
          "UPDATE pages SET lease_expires_at = ? WHERE job_id = ? AND page_index = ? "
          "AND state = 'leased' AND lease_token = ?");
      if (!update) return update.take_error();
      update->bind(1, now_ms + duration.count()).bind(2, task.job_id);
      update->bind(3, std::int64_t{task.page_index}).bind(4, task.lease_token);
      if (Status e = update->run(); !e) return e;
      if (db.changes() == 0) return StorePolicy::lost_lease(task);
      return {};
    });
  }

  Status complete_page(const PageTask& task, std::string_view result_json, std::string_view engine,
                       std::int64_t now_ms) override {
    return write([&](sqlite::Database& db) -> Status {
      return finish_page(db, task, result_json, engine, now_ms);
    });
  }

  Status fail_page(const PageTask& task, std::string_view error, std::int64_t now_ms) override {
    return write([&](sqlite::Database& db) -> Status { return give_up(db, task, error, now_ms); });
  }

  Result<int> release_worker_leases(std::string_view worker_prefix, std::string_view reason,
                                    std::int64_t now_ms) override {
    int released = 0;
    Status s = write([&](sqlite::Database& db) -> Status {
      auto select = db.prepare(
          "SELECT job_id, page_index, lease_token, attempts FROM pages "
          "WHERE state = 'leased' AND substr(lease_owner, 1, length(?1)) = ?1");
      if (!select) return select.take_error();
      select->bind(1, worker_prefix);
      auto held = read_tasks(*select);
      if (!held) return held.take_error();
      for (const PageTask& task : *held) {
        if (Status e = give_up(db, task, reason, now_ms); !e) return e;
      }
      released = static_cast<int>(held->size());
      return {};
    });
    if (!s) return s.take_error();
    return released;
  }

  Result<int> return_worker_leases(std::string_view worker_prefix) override {
    int returned = 0;
    Status s = write([&](sqlite::Database& db) -> Status {
      auto update = db.prepare(
          "UPDATE pages SET state = 'queued', lease_token = '', lease_expires_at = 0, "
          "attempts = MAX(attempts - 1, 0) "
          "WHERE state = 'leased' AND substr(lease_owner, 1, length(?1)) = ?1");
      if (!update) return update.take_error();
      update->bind(1, worker_prefix);
      if (Status e = update->run(); !e) return e;
      returned = static_cast<int>(db.changes());
      return {};
    });
    if (!s) return s.take_error();
    return returned;
  }

  Result<std::vector<std::string>> lease_holders() override {
    auto db = pool_.borrow();
    if (!db) return db.take_error();
    auto select = (*db)->prepare("SELECT DISTINCT lease_owner FROM pages WHERE state = 'leased'");
    if (!select) return select.take_error();
    return read_texts(*select);
  }

  Status fail_job(std::string_view job_id, std::string_view error, std::int64_t now_ms) override {
    return write([&](sqlite::Database& db) -> Status {
      return end_job(db, job_id, JobStatus::failed, error, now_ms);
    });
  }

  Result<JobList> list_jobs(const ListQuery& query) override {
    auto db = pool_.borrow();
    if (!db) return db.take_error();
    // One row more than asked tells whether another page follows.
    auto select = (*db)->prepare("SELECT " + std::string(kJobColumns) +
                                 " FROM jobs WHERE (?1 = '' OR id < ?1) AND (?3 IS NULL OR owner = ?3) AND " +
                                 effective_status_condition(query.status, query.now_ms) +
                                 " ORDER BY id DESC LIMIT ?2");
    if (!select) return select.take_error();
    select->bind(1, query.before_id).bind(2, std::int64_t{query.limit} + 1);
    if (query.owner) {
      select->bind(3, *query.owner);
    } else {
      select->bind_null(3);
    }
    JobList list;
    for (;;) {
      auto row = select->step();
      if (!row) return row.take_error();
      if (!*row) break;
      if (static_cast<int>(list.jobs.size()) == query.limit) {
        list.more = true;
        break;
      }
      list.jobs.push_back(job_from_row(*select));
    }
    return list;
  }

  Result<StoreStats> stats(std::int64_t now_ms) override {
    auto db = pool_.borrow();
    if (!db) return db.take_error();
    StoreStats stats;
    auto by_status = (*db)->prepare("SELECT status, COUNT(*) FROM jobs GROUP BY status");
    if (!by_status) return by_status.take_error();
    for (;;) {
      auto row = by_status->step();
      if (!row) return row.take_error();
      if (!*row) break;
      if (auto status = parse_status(by_status->column_text(0))) {
        stats.jobs_by_status[static_cast<std::size_t>(*status)] = by_status->column_int(1);
      }
    }
    auto queue = (*db)->prepare(
        "SELECT (SELECT COUNT(*) FROM pages p JOIN jobs j ON j.id = p.job_id "
        "        WHERE p.state = 'queued' AND j.status IN " + sql().active + "), "
        "  (SELECT COALESCE(MIN(j.submitted_at), 0) FROM pages p JOIN jobs j ON j.id = p.job_id "
        "        WHERE p.state = 'queued' AND j.status IN " + sql().active + "), "
        "  (SELECT COUNT(*) FROM pages WHERE state = 'leased' AND lease_expires_at >= ?1), "
        "  (SELECT COALESCE(SUM(threads), 0) FROM workers WHERE heartbeat_at + timeout_ms > ?1)");
    if (!queue) return queue.take_error();
    queue->bind(1, now_ms);
    auto row = queue->step();
    if (!row) return row.take_error();
    if (*row) {
      stats.queued_pages = queue->column_int(0);
      stats.oldest_queued_submitted_at = queue->column_int(1);
      stats.leased_pages = queue->column_int(2);
      stats.live_worker_threads = queue->column_int(3);
    }
    return stats;
  }

  Status ping() override {
    auto db = pool_.borrow();
    if (!db) return db.take_error();
    auto select = (*db)->prepare("SELECT COUNT(*) FROM jobs WHERE id = ''");
    if (!select) return select.take_error();
    auto row = select->step();
    if (!row) return row.take_error();
    return {};
  }

  Result<int> expire_jobs(std::int64_t now_ms) override {
    int expired = 0;
    Status s = write([&](sqlite::Database& db) -> Status {
      // Dependent rows first: the job row stays so the id answers "expired".
      for (std::string_view table : {"documents", "pages"}) {
        auto drop = db.prepare("DELETE FROM " + std::string(table) +
                               " WHERE job_id IN (SELECT id FROM jobs WHERE status IN " + sql().finished +
                               " AND expires_at <= ?)");
        if (!drop) return drop.take_error();
        drop->bind(1, now_ms);
        if (Status e = drop->run(); !e) return e;
      }
      auto update = db.prepare("UPDATE jobs SET status = " + sql().expired + " WHERE status IN " + sql().finished +
                               " AND expires_at <= ?");
      if (!update) return update.take_error();
      update->bind(1, now_ms);
      if (Status e = update->run(); !e) return e;
      expired = static_cast<int>(db.changes());
      auto settled = db.prepare("DELETE FROM webhook_deliveries WHERE state != 'pending' AND job_id IN "
                                "(SELECT id FROM jobs WHERE status = " + sql().expired + ")");
      if (!settled) return settled.take_error();
      if (Status e = settled->run(); !e) return e;
      auto forget = db.prepare("DELETE FROM idempotency WHERE created_at <= ?");
      if (!forget) return forget.take_error();
      forget->bind(1, policy_.idempotency_cutoff(now_ms));
      return forget->run();
    });
    if (!s) return s.take_error();
    return expired;
  }

  Result<std::optional<WebhookDelivery>> claim_webhook_delivery(std::int64_t now_ms,
                                                                std::chrono::milliseconds lease) override {
    std::optional<WebhookDelivery> claimed;
    Status s = write([&](sqlite::Database& db) -> Status {
      auto update = db.prepare(
          "UPDATE webhook_deliveries SET lease_token = ?1, lease_expires_at = ?2 WHERE id = ("
          "  SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= ?3"
          "  AND lease_expires_at < ?3 ORDER BY next_attempt_at LIMIT 1) RETURNING " + std::string(kDeliveryColumns));
      if (!update) return update.take_error();
      update->bind(1, util::make_ulid(now_ms)).bind(2, now_ms + lease.count()).bind(3, now_ms);
      auto row = update->step();
      if (!row) return row.take_error();
      if (*row) claimed = delivery_from_row(*update);
      return {};
    });
    if (!s) return s.take_error();
    return claimed;
  }

  Status record_webhook_attempt(const WebhookDelivery& claimed, const DeliveryAttempt& attempt) override {
    return write([&](sqlite::Database& db) -> Status {
      auto update = db.prepare(
          "UPDATE webhook_deliveries SET attempts = attempts + 1, payload = ?, last_error = ?, last_attempt_at = ?, "
          "state = ?, next_attempt_at = ?, delivered_at = ?, lease_token = '', lease_expires_at = 0 "
          "WHERE id = ? AND lease_token = ?");
      if (!update) return update.take_error();
      const bool delivered = attempt.state == DeliveryState::delivered;
      update->bind(1, attempt.payload).bind(2, attempt.error).bind(3, attempt.attempted_at);
      update->bind(4, delivery_state_name(attempt.state)).bind(5, attempt.retry_at);
      update->bind(6, delivered ? attempt.attempted_at : std::int64_t{0});
      update->bind(7, claimed.id).bind(8, claimed.lease_token);
      if (Status e = update->run(); !e) return e;
      if (db.changes() == 0) return StorePolicy::lost_delivery_lease(claimed);
      return {};
    });
  }

  Result<std::vector<WebhookDelivery>> list_webhook_deliveries(std::string_view job_id) override {
    auto db = pool_.borrow();
    if (!db) return db.take_error();
    auto select = (*db)->prepare("SELECT " + std::string(kDeliveryColumns) +
                                 " FROM webhook_deliveries WHERE job_id = ? ORDER BY created_at, page_index < 0, page_index, id");
    if (!select) return select.take_error();
    select->bind(1, job_id);
    std::vector<WebhookDelivery> deliveries;
    for (;;) {
      auto row = select->step();
      if (!row) return row.take_error();
      if (!*row) return deliveries;
      deliveries.push_back(delivery_from_row(*select));
    }
  }

  Status register_worker(const WorkerRecord& worker, std::int64_t now_ms) override {
    return write_ephemeral([&](sqlite::Database& db) -> Status {
      auto upsert = db.prepare(
          "INSERT OR REPLACE INTO workers (id, host, threads, started_at, heartbeat_at, timeout_ms) "
          "VALUES (?, ?, ?, ?, ?, ?)");
      if (!upsert) return upsert.take_error();
      upsert->bind(1, worker.id).bind(2, worker.host).bind(3, std::int64_t{worker.threads});
      upsert->bind(4, worker.started_at).bind(5, now_ms).bind(6, std::int64_t{worker.heartbeat_timeout.count()});
      return upsert->run();
    });
  }

  Status heartbeat(std::string_view worker_id, std::int64_t now_ms) override {
    return write_ephemeral([&](sqlite::Database& db) -> Status {
      auto update = db.prepare("UPDATE workers SET heartbeat_at = MAX(heartbeat_at, ?) WHERE id = ?");
      if (!update) return update.take_error();
      update->bind(1, now_ms).bind(2, worker_id);
      if (Status e = update->run(); !e) return e;
      if (db.changes() == 0) return Error::not_found("Worker " + std::string(worker_id) + " is not registered");
      return {};
    });
  }

  Status deregister_worker(std::string_view worker_id) override {
    return write_ephemeral([&](sqlite::Database& db) -> Status {
      auto drop = db.prepare("DELETE FROM workers WHERE id = ?");
      if (!drop) return drop.take_error();
      drop->bind(1, worker_id);
      return drop->run();
    });
  }

  Result<std::vector<WorkerRecord>> remove_silent_workers(std::int64_t now_ms) override {
    std::vector<WorkerRecord> silent;
    Status s = write_ephemeral([&](sqlite::Database& db) -> Status {
      auto select = db.prepare(
          "SELECT id, host, threads, started_at, timeout_ms FROM workers WHERE heartbeat_at + timeout_ms <= ?");
      if (!select) return select.take_error();
      select->bind(1, now_ms);
      for (;;) {
        auto row = select->step();
        if (!row) return row.take_error();
        if (!*row) break;
        silent.push_back({select->column_text(0), select->column_text(1), static_cast<int>(select->column_int(2)),
                          select->column_int(3), std::chrono::milliseconds(select->column_int(4))});
      }
      auto drop = db.prepare("DELETE FROM workers WHERE heartbeat_at + timeout_ms <= ?");
      if (!drop) return drop.take_error();
      drop->bind(1, now_ms);
      return drop->run();
    });
    if (!s) return s.take_error();
    return silent;
  }

  Result<std::optional<std::chrono::milliseconds>> take_token(std::string_view key, const util::TokenBucketRule& rule,
                                                             std::int64_t now_ms) override {
    std::optional<std::chrono::milliseconds> wait;
    Status s = write_ephemeral([&](sqlite::Database& db) -> Status {
      auto select = db.prepare("SELECT tokens, updated_at FROM rate_buckets WHERE key = ?");
      if (!select) return select.take_error();
      select->bind(1, key);
      auto row = select->step();
      if (!row) return row.take_error();
      const util::TokenBucket kept = *row ? util::TokenBucket{select->column_double(0), select->column_int(1)}
                                          : rule.full(now_ms);
      const auto taken = rule.take(kept, now_ms);
      auto store = db.prepare("INSERT OR REPLACE INTO rate_buckets (key, tokens, updated_at, full_at) VALUES (?, ?, ?, ?)");
      if (!store) return store.take_error();
      store->bind(1, key).bind(2, taken.bucket.tokens).bind(3, taken.bucket.updated_ms);
      store->bind(4, rule.full_at(taken.bucket));
      if (Status e = store->run(); !e) return e;
      wait = taken.wait;
      return {};
    });
    if (!s) return s.take_error();
    return wait;
  }

  Result<SlotAdmission> open_stream_slot(const StreamSlotRequest& request) override {
    SlotAdmission admission = SlotAdmission::admitted;
    Status s = write_ephemeral([&](sqlite::Database& db) -> Status {
      auto held = db.prepare(
          "SELECT COUNT(*), COALESCE(SUM(owner = ?2), 0) FROM stream_slots WHERE expires_at > ?1");
      if (!held) return held.take_error();
      held->bind(1, request.now_ms);
      if (request.owner) {
        held->bind(2, *request.owner);
      } else {
        held->bind_null(2);
      }
      auto row = held->step();
      if (!row) return row.take_error();
      admission = StorePolicy::slot_admission(request, held->column_int(0), held->column_int(1));
      if (admission != SlotAdmission::admitted) return {};
      auto insert = db.prepare("INSERT INTO stream_slots (id, node_id, owner, expires_at) VALUES (?, ?, ?, ?)");
      if (!insert) return insert.take_error();
      insert->bind(1, request.slot_id).bind(2, request.node_id).bind(4, request.now_ms + request.ttl.count());
      if (request.owner) {
        insert->bind(3, *request.owner);
      } else {
        insert->bind_null(3);
      }
      return insert->run();
    });
    if (!s) return s.take_error();
    return admission;
  }

  Status close_stream_slot(std::string_view slot_id) override {
    return write_ephemeral([&](sqlite::Database& db) -> Status {
      auto drop = db.prepare("DELETE FROM stream_slots WHERE id = ?");
      if (!drop) return drop.take_error();
      drop->bind(1, slot_id);
      return drop->run();
    });
  }

  Status renew_stream_slots(std::string_view node_id, std::int64_t now_ms, std::chrono::milliseconds ttl) override {
    return write_ephemeral([&](sqlite::Database& db) -> Status {
      auto update = db.prepare("UPDATE stream_slots SET expires_at = ? WHERE node_id = ?");
      if (!update) return update.take_error();
      update->bind(1, now_ms + ttl.count()).bind(2, node_id);
      return update->run();
    });
  }

  Result<bool> hold_leadership(std::string_view name, std::string_view holder, std::int64_t now_ms,
                               std::chrono::milliseconds ttl) override {
    bool leads = false;
    Status s = write_ephemeral([&](sqlite::Database& db) -> Status {
      auto take = db.prepare(
          "INSERT INTO leaders (name, holder, expires_at) VALUES (?1, ?2, ?3) "
          "ON CONFLICT (name) DO UPDATE SET holder = ?2, expires_at = ?3 "
          "WHERE leaders.holder = ?2 OR leaders.expires_at <= ?4");
      if (!take) return take.take_error();
      take->bind(1, name).bind(2, holder).bind(3, now_ms + ttl.count()).bind(4, now_ms);
      if (Status e = take->run(); !e) return e;
      leads = db.changes() > 0;
      return {};
    });
    if (!s) return s.take_error();
    return leads;
  }

  Status forget_idle_state(std::int64_t now_ms) override {
    return write_ephemeral([&](sqlite::Database& db) -> Status {
      auto slots = db.prepare("DELETE FROM stream_slots WHERE expires_at <= ?");
      if (!slots) return slots.take_error();
      slots->bind(1, now_ms);
      if (Status e = slots->run(); !e) return e;
      auto buckets = db.prepare("DELETE FROM rate_buckets WHERE full_at <= ?");
      if (!buckets) return buckets.take_error();
      buckets->bind(1, now_ms);
      return buckets->run();
    });
  }

 private:
  static const StatusSql& sql() { return status_sql(); }

  // Runs `body` in one IMMEDIATE transaction on a pooled connection of
  // `pool` (durable by default).
  template <class Body>
  Status write(Body&& body) {
    return write_in(pool_, std::forward<Body>(body));
  }

  // For what the fleet coordinates through and can lose without harm (a
  // heartbeat, a stream slot, a rate bucket, a leadership): commits that
  // skip the fsync, so a thousand streams opening do not take a thousand
  // disk flushes from the submissions.
  template <class Body>
  Status write_ephemeral(Body&& body) {
    return write_in(ephemeral_pool_, std::forward<Body>(body));
  }

  template <class Body>
  static Status write_in(ConnectionPool& pool, Body&& body) {
    auto db = pool.borrow();
    if (!db) return db.take_error();
    auto tx = sqlite::Transaction::begin(**db);
    if (!tx) return tx.take_error();
    if (Status s = body(**db); !s) return s;
    return tx->commit();
  }

  static Result<int> read_schema_version(sqlite::Database& db) {
    auto select = db.prepare("PRAGMA user_version");
    if (!select) return select.take_error();
    auto row = select->step();
    if (!row) return row.take_error();
    return *row ? static_cast<int>(select->column_int(0)) : 0;
  }

  // Every first column of `select`'s rows as text.
  static Result<std::vector<std::string>> read_texts(sqlite::Statement& select) {
    std::vector<std::string> texts;
    for (;;) {
      auto row = select.step();
      if (!row) return row.take_error();
      if (!*row) return texts;
      texts.push_back(select.column_text(0));
    }
  }

  Status check_room_for(sqlite::Database& db, std::size_t document_bytes) const {
    if (policy_.options().max_bytes <= 0) return {};
    auto used = db.prepare(
        "SELECT (SELECT page_count FROM pragma_page_count()) - (SELECT freelist_count FROM pragma_freelist_count()), "
        "(SELECT page_size FROM pragma_page_size())");
    if (!used) return used.take_error();
    auto row = used->step();
    if (!row) return row.take_error();
    const std::int64_t used_bytes = *row ? used->column_int(0) * used->column_int(1) : 0;
    return policy_.check_room_for(used_bytes, document_bytes);
  }

  // Refuses `job` when its tenant's unfinished pages would pass its limit.
  Status check_tenant_queue(sqlite::Database& db, const NewJob& job) const {
    if (job.max_queued_pages_per_tenant <= 0) return {};
    auto count = db.prepare("SELECT COALESCE(SUM(total_pages - pages_done), 0) FROM jobs WHERE tenant = ? AND status IN " +
                            sql().active);
    if (!count) return count.take_error();
    count->bind(1, job.tenant);
    auto row = count->step();
    if (!row) return row.take_error();
    return StorePolicy::check_tenant_queue(*row ? count->column_int(0) : 0, job);
  }

  // Records job.idempotency_key; a stale record of the same key (outside
  // the window, not yet swept) is replaced, a live one is a conflict.
  Status remember_idempotency_key(sqlite::Database& db, const NewJob& job) {
    auto stale = db.prepare("DELETE FROM idempotency WHERE owner = ? AND key = ? AND created_at <= ?");
    if (!stale) return stale.take_error();
    stale->bind(1, job.owner).bind(2, job.idempotency_key).bind(3, policy_.idempotency_cutoff(job.submitted_at));
    if (Status s = stale->run(); !s) return s;
    auto insert = db.prepare(
        "INSERT INTO idempotency (owner, key, fingerprint, job_id, created_at) VALUES (?, ?, ?, ?, ?)");
    if (!insert) return insert.take_error();
    insert->bind(1, job.owner).bind(2, job.idempotency_key).bind(3, job.fingerprint).bind(4, job.id);
    insert->bind(5, job.submitted_at);
    return insert->run();
  }

  // Ends a pending or running job as failed or cancelled; pages not
  // finished are dropped, so a worker still on one loses its lease.
  Status end_job(sqlite::Database& db, std::string_view job_id, JobStatus status, std::string_view reason,
                 std::int64_t now_ms) {
    auto update = db.prepare(
        "UPDATE jobs SET status = ?, error = ?, completed_at = ?, expires_at = ? "
        "WHERE id = ? AND status IN " + sql().active);
    if (!update) return update.take_error();
    update->bind(1, status_name(status)).bind(2, reason).bind(3, now_ms).bind(4, policy_.expiry_after(now_ms));
    update->bind(5, job_id);
    if (Status e = update->run(); !e) return e;
    if (db.changes() == 0) return {};
    if (Status e = record_job_event(db, job_id, status, now_ms); !e) return e;
    auto drop = db.prepare("DELETE FROM pages WHERE job_id = ? AND state != 'done'");
    if (!drop) return drop.take_error();
    drop->bind(1, job_id);
    return drop->run();
  }

  static Result<Job> load_job(sqlite::Database& db, std::string_view job_id) {
    auto select = db.prepare("SELECT " + std::string(kJobColumns) + " FROM jobs WHERE id = ?");
    if (!select) return select.take_error();
    select->bind(1, job_id);
    auto row = select->step();
    if (!row) return row.take_error();
    if (!*row) return StorePolicy::job_not_found(job_id);
    return job_from_row(*select);
  }

  // Queues a leased page again, or finishes it as a page error once its
  // attempts are used up.
  Status give_up(sqlite::Database& db, const PageTask& task, std::string_view error, std::int64_t now_ms) {
    if (policy_.attempts_used_up(task.attempt)) return finish_page(db, task, page_error_text(error), "", now_ms);
    auto requeue = db.prepare(
        "UPDATE pages SET state = 'queued', lease_token = '', lease_expires_at = 0, last_error = ? "
        "WHERE job_id = ? AND page_index = ? AND state = 'leased' AND lease_token = ?");
    if (!requeue) return requeue.take_error();
    requeue->bind(1, error).bind(2, task.job_id).bind(3, std::int64_t{task.page_index}).bind(4, task.lease_token);
    if (Status e = requeue->run(); !e) return e;
    if (db.changes() == 0) return StorePolicy::lost_lease(task);
    return {};
  }

  // job_id, page_index, lease_token, attempts rows as leased tasks.
  static Result<std::vector<PageTask>> read_tasks(sqlite::Statement& select) {
    std::vector<PageTask> tasks;
    for (;;) {
      auto row = select.step();
      if (!row) return row.take_error();
      if (!*row) return tasks;
      PageTask task;
      task.job_id = select.column_text(0);
      task.page_index = static_cast<int>(select.column_int(1));
      task.lease_token = select.column_text(2);
      task.attempt = static_cast<int>(select.column_int(3));
      tasks.push_back(std::move(task));
    }
  }

  // Pages whose lease ended with every attempt used: their workers crashed
  // or hung each time, so the page becomes a page error.
  Status finish_lapsed_pages(sqlite::Database& db, std::int64_t now_ms) {
    auto select = db.prepare(
        "SELECT job_id, page_index, lease_token, attempts FROM pages WHERE state = 'leased' "
        "AND lease_expires_at < ? AND attempts >= ?");
    if (!select) return select.take_error();
    select->bind(1, now_ms).bind(2, std::int64_t{policy_.options().max_attempts});
    auto lapsed = read_tasks(*select);
    if (!lapsed) return lapsed.take_error();
    for (const PageTask& task : *lapsed) {
      const std::string error = page_error_text(StorePolicy::lapsed_attempts_error(task.attempt));
      if (Status s = finish_page(db, task, error, "", now_ms); !s) return s;
    }
    return {};
  }

  // The job whose tenant has the fewest live leases first (tenants share
  // the workers in turn; between equals, the tenant served least
  // recently), then
  // within that tenant the highest priority, the fewest live leases of the
  // job, the oldest; in that job, its lowest page that is queued or whose
  // lease has ended.
  static Result<std::optional<PageTask>> pick_page(sqlite::Database& db, const LeaseRequest& request) {
    auto jobs = db.prepare(
        "WITH flying AS ("
        "  SELECT q.job_id, COUNT(*) AS n FROM pages q WHERE q.state = 'leased' AND q.lease_expires_at >= ?1"
        "  GROUP BY q.job_id"
        "), tenants AS ("
        "  SELECT k.tenant, MAX(k.last_leased_at) AS served, COALESCE(SUM(f.n), 0) AS n FROM jobs k"
        "  LEFT JOIN flying f ON f.job_id = k.id WHERE k.status IN " + sql().active + " GROUP BY k.tenant"
        ") "
        "SELECT j.id, j.model, j.dpi, j.ocr_mode, COALESCE(f.n, 0) AS in_flight "
        "FROM jobs j JOIN tenants t ON t.tenant = j.tenant LEFT JOIN flying f ON f.job_id = j.id "
        "WHERE j.status IN " + sql().active + " AND COALESCE(f.n, 0) < ?2 "
        "ORDER BY t.n, t.served, j.priority, in_flight, j.id");
    if (!jobs) return jobs.take_error();
    jobs->bind(1, request.now_ms).bind(2, std::int64_t{request.max_pages_in_flight_per_job});
    auto page = db.prepare(
        "SELECT page_index, attempts FROM pages WHERE job_id = ?1 "
        "AND (state = 'queued' OR (state = 'leased' AND lease_expires_at < ?2)) ORDER BY page_index LIMIT 1");
    if (!page) return page.take_error();
    for (;;) {
      auto row = jobs->step();
      if (!row) return row.take_error();
      if (!*row) return std::optional<PageTask>();
      (void)page->reset();
      page->bind(1, jobs->column_text(0)).bind(2, request.now_ms);
      auto found = page->step();
      if (!found) return found.take_error();
      if (!*found) continue;
      PageTask task;
      task.job_id = jobs->column_text(0);
      task.model = jobs->column_text(1);
      task.dpi = static_cast<int>(jobs->column_int(2));
      task.ocr_mode = jobs->column_text(3);
      task.page_index = static_cast<int>(page->column_int(0));
      task.attempt = static_cast<int>(page->column_int(1)) + 1;
      return std::optional<PageTask>(std::move(task));
    }
  }

  static Status take_lease(sqlite::Database& db, PageTask& task, const LeaseRequest& request) {
    task.lease_token = util::make_ulid(request.now_ms);
    auto update = db.prepare(
        "UPDATE pages SET state = 'leased', attempts = ?, lease_token = ?, lease_owner = ?, "
        "lease_expires_at = ? WHERE job_id = ? AND page_index = ?");
    if (!update) return update.take_error();
    update->bind(1, std::int64_t{task.attempt}).bind(2, task.lease_token).bind(3, request.worker_id);
    update->bind(4, request.now_ms + request.lease_duration.count()).bind(5, task.job_id);
    update->bind(6, std::int64_t{task.page_index});
    if (Status s = update->run(); !s) return s;
    // A pending job starts running; every lease records when its tenant was served.
    auto start = db.prepare(
        "UPDATE jobs SET last_leased_at = ?1, "
        "  started_at = CASE WHEN status = " + sql().pending + " THEN ?1 ELSE started_at END, "
        "  status = CASE WHEN status = " + sql().pending + " THEN " + sql().running + " ELSE status END "
        "WHERE id = ?2");
    if (!start) return start.take_error();
    start->bind(1, request.now_ms).bind(2, task.job_id);
    return start->run();
  }

  // Marks a leased page done with `result_json` and advances its job,
  // completing the job with its last page.
  Status finish_page(sqlite::Database& db, const PageTask& task, std::string_view result_json,
                     std::string_view engine, std::int64_t now_ms) {
    auto update = db.prepare(
        "UPDATE pages SET state = 'done', result = ?, engine = ?, lease_token = '', lease_expires_at = 0 "
        "WHERE job_id = ? AND page_index = ? AND state = 'leased' AND lease_token = ?");
    if (!update) return update.take_error();
    update->bind(1, result_json).bind(2, engine).bind(3, task.job_id);
    update->bind(4, std::int64_t{task.page_index}).bind(5, task.lease_token);
    if (Status s = update->run(); !s) return s;
    if (db.changes() == 0) return StorePolicy::lost_lease(task);

    auto advance = db.prepare(
        "UPDATE jobs SET pages_done = pages_done + 1, "
        "  status = CASE WHEN pages_done + 1 >= total_pages THEN " + sql().completed + " ELSE status END, "
        "  completed_at = CASE WHEN pages_done + 1 >= total_pages THEN ?1 ELSE completed_at END, "
        "  expires_at = CASE WHEN pages_done + 1 >= total_pages THEN ?2 ELSE expires_at END "
        "WHERE id = ?3 AND status IN " + sql().active);
    if (!advance) return advance.take_error();
    advance->bind(1, now_ms).bind(2, policy_.expiry_after(now_ms)).bind(3, task.job_id);
    if (Status e = advance->run(); !e) return e;
    if (db.changes() == 0) return {};
    if (Status e = record_page_event(db, task.job_id, task.page_index, now_ms); !e) return e;
    // Only the page that finished the job can find it completed here: every
    // other page of it was done before.
    return record_job_event(db, task.job_id, JobStatus::completed, now_ms);
  }

  // The outbox row of a job that ended as `ended_as`, when it has a webhook.
  Status record_job_event(sqlite::Database& db, std::string_view job_id, JobStatus ended_as, std::int64_t now_ms) {
    return record_webhook_event(db, job_id, job_event_name(ended_as), -1, "status = ?6", status_name(ended_as),
                                now_ms);
  }

  // The outbox row of a finished page, when its job's webhook asked for pages.
  Status record_page_event(sqlite::Database& db, std::string_view job_id, int page_index, std::int64_t now_ms) {
    return record_webhook_event(db, job_id, kPageCompletedEvent, page_index, "webhook_pages = ?6", "1", now_ms);
  }

  // Inserts the delivery of `event` for the job if it has a webhook and
  // `condition` (on its row, with ?6 bound to `value`) holds.
  Status record_webhook_event(sqlite::Database& db, std::string_view job_id, std::string_view event, int page_index,
                              std::string_view condition, std::string_view value, std::int64_t now_ms) {
    auto insert = db.prepare(
        "INSERT INTO webhook_deliveries (id, job_id, owner, event, page_index, url, created_at, next_attempt_at) "
        "SELECT ?1, id, owner, ?2, ?3, webhook_url, ?4, ?4 FROM jobs WHERE id = ?5 AND webhook_url != '' AND " +
        std::string(condition));
    if (!insert) return insert.take_error();
    insert->bind(1, new_delivery_id(now_ms)).bind(2, event).bind(3, std::int64_t{page_index});
    insert->bind(4, now_ms).bind(5, job_id).bind(6, value);
    return insert->run();
  }

  ConnectionPool pool_;
  ConnectionPool ephemeral_pool_;
  StorePolicy policy_;
};

}  // namespace

Result<std::unique_ptr<JobStore>> open_sqlite_job_store(const std::string& path, StoreOptions options, bool migrate) {
  auto store = std::make_unique<SqliteJobStore>(path, options);
  if (Status s = migrate ? store->migrate() : store->ping_file(); !s) {
    return Error::unavailable("Cannot open the job store at " + path + ": " + s.error().message);
  }
  return std::unique_ptr<JobStore>(std::move(store));
}

}  // namespace visor::jobs

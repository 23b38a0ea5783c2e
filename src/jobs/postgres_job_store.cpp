// The shared job store on PostgreSQL. Every state change is one transaction
// (most are one statement), so a process killed at any point, or a
// connection lost at any point, leaves either the old state or the new one.
//
// Locking: a statement that changes a page's state first locks its job's
// row, then the page's, so two such statements never wait on each other
// in opposite orders. Claims lock the job row with SKIP LOCKED: claimers
// never queue behind each other, each takes another job, and one that
// finds every runnable job held by others tries again a moment later.

#include <algorithm>
#include <atomic>
#include <thread>
#include <utility>
#include <vector>

#include "jobs/page_result.hpp"
#include "jobs/postgres.hpp"
#include "jobs/postgres_job_store.hpp"
#include "jobs/postgres_notifier.hpp"
#include "jobs/postgres_schema.hpp"
#include "jobs/store_policy.hpp"
#include "util/ulid.hpp"

namespace visor::jobs {
namespace {

// Connections one process may hold: its threads that use the store at
// once (HTTP blocking pool, worker threads, lease keeper, watcher,
// maintenance), with room to spare.
constexpr int kMaxConnections = 16;

// Serialises migrations of nodes that start at once (any fixed number).
constexpr std::int64_t kMigrationLock = 0x76697330;  // "vis0"
// Serialises the count-then-insert of stream slots across nodes.
constexpr std::int64_t kStreamSlotLock = 0x76697331;

// Expired leases looked at per claim; more wait for the next claims.
constexpr int kLapsedJobsPerClaim = 8;
// Claims tried while runnable jobs are all held by other claims.
constexpr int kClaimAttempts = 20;
// How often, in request time, claims look for lapsed leases (beside
// whenever nothing else is runnable).
constexpr std::int64_t kLapseCheckInterval = 250;

constexpr std::string_view kJobColumns =
    "id, owner, filename, model, dpi, total_pages, status, pages_done, error, "
    "submitted_at, started_at, completed_at, expires_at, ocr_mode, pages, document_pages, webhook_url, webhook_pages, "
    "tenant, priority";

constexpr std::string_view kDeliveryColumns =
    "id, job_id, owner, event, page_index, url, created_at, state, payload, attempts, last_error, "
    "last_attempt_at, next_attempt_at, delivered_at, lease_token";

Job job_from_row(const pg::Rows& rows, int row) {
  Job job;
  job.id = rows.text(row, 0);
  job.owner = rows.text(row, 1);
  job.filename = rows.text(row, 2);
  job.model = rows.text(row, 3);
  job.dpi = static_cast<int>(rows.integer(row, 4));
  job.total_pages = static_cast<int>(rows.integer(row, 5));
  job.status = parse_status(rows.text(row, 6)).value_or(JobStatus::failed);
  job.pages_done = static_cast<int>(rows.integer(row, 7));
  job.error = rows.text(row, 8);
  job.submitted_at = rows.integer(row, 9);
  job.started_at = rows.integer(row, 10);
  job.completed_at = rows.integer(row, 11);
  job.expires_at = rows.integer(row, 12);
  job.ocr_mode = rows.text(row, 13);
  job.pages = rows.text(row, 14);
  job.document_pages = static_cast<int>(rows.integer(row, 15));
  job.webhook.url = rows.text(row, 16);
  job.webhook.pages = rows.integer(row, 17) != 0;
  job.tenant = rows.text(row, 18);
  job.priority = static_cast<JobPriority>(std::clamp<std::int64_t>(rows.integer(row, 19), 0, 2));
  return job;
}

WebhookDelivery delivery_from_row(const pg::Rows& rows, int row) {
  WebhookDelivery delivery;
  delivery.id = rows.text(row, 0);
  delivery.job_id = rows.text(row, 1);
  delivery.owner = rows.text(row, 2);
  delivery.event = rows.text(row, 3);
  delivery.page_index = static_cast<int>(rows.integer(row, 4));
  delivery.url = rows.text(row, 5);
  delivery.created_at = rows.integer(row, 6);
  delivery.state = parse_delivery_state(rows.text(row, 7));
  delivery.payload = rows.text(row, 8);
  delivery.attempts = static_cast<int>(rows.integer(row, 9));
  delivery.last_error = rows.text(row, 10);
  delivery.last_attempt_at = rows.integer(row, 11);
  delivery.next_attempt_at = rows.integer(row, 12);
  delivery.delivered_at = rows.integer(row, 13);
  delivery.lease_token = rows.text(row, 14);
  return delivery;
}

// "0,1,5": the page indexes as insert_pages reads them.
std::string comma_separated(const std::vector<int>& indexes) {
  std::string out;
  for (const int index : indexes) out += (out.empty() ? "" : ",") + std::to_string(index);
  return out;
}

// job_id, page_index, lease_token, attempts rows as leased tasks.
std::vector<PageTask> tasks_from(const pg::Rows& rows) {
  std::vector<PageTask> tasks;
  for (int row = 0; row < rows.size(); ++row) {
    PageTask task;
    task.job_id = rows.text(row, 0);
    task.page_index = static_cast<int>(rows.integer(row, 1));
    task.lease_token = rows.text(row, 2);
    task.attempt = static_cast<int>(rows.integer(row, 3));
    tasks.push_back(std::move(task));
  }
  return tasks;
}

std::vector<std::string> first_column(const pg::Rows& rows) {
  std::vector<std::string> texts;
  for (int row = 0; row < rows.size(); ++row) texts.push_back(rows.text(row, 0));
  return texts;
}

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

// The statements, built once from the status names and channel names.
struct Statements {
  const StatusSql& s = status_sql();
  const std::string notify_work = "pg_notify(" + quoted(pg::kWorkChannel) + ", '')";
  // pg_notify on the job channel for the job id `id_sql`: it progressed,
  // or with `stopped`, it was cancelled or failed.
  // An INSERT of one webhook delivery, id `id` and event `event`, for
  // each row `a` of `source` (with id, owner and webhook_url) that has a
  // webhook and meets `condition`; created at `now`, due at once.
  static std::string insert_delivery(std::string_view id, std::string_view event, std::string_view page,
                                     std::string_view now, std::string_view source, std::string_view condition) {
    return "INSERT INTO webhook_deliveries (id, job_id, owner, event, page_index, url, created_at, next_attempt_at)"
           " SELECT " + std::string(id) + ", a.id, a.owner, " + std::string(event) + ", " + std::string(page) +
           ", a.webhook_url, " + std::string(now) + ", " + std::string(now) + " FROM " + std::string(source) +
           " a WHERE a.webhook_url <> '' AND " + std::string(condition);
  }

  static std::string notify_job(std::string_view id_sql, bool stopped) {
    return "pg_notify(" + quoted(pg::kJobChannel) + ", " + std::string(id_sql) +
           (stopped ? " || " + quoted(pg::kJobStoppedSuffix) : "") + ")";
  }

  const pg::Statement get_job{"get_job", "SELECT " + std::string(kJobColumns) + " FROM jobs WHERE id = $1"};
  const pg::Statement lock_job{"lock_job",
                               "SELECT " + std::string(kJobColumns) + " FROM jobs WHERE id = $1 FOR UPDATE"};

  const pg::Statement insert_job{
      "insert_job",
      "INSERT INTO jobs (id, owner, filename, model, dpi, total_pages, status, pages_queued, submitted_at, ocr_mode, "
      "pages, document_pages, webhook_url, webhook_pages, tenant, priority) VALUES ($1, $2, $3, $4, $5, $6, " +
      s.pending + ", $6, $7, $8, $9, $10, $11, $12, $13, $14)"};
  // Serialises the count-then-insert of one tenant's jobs across nodes.
  const pg::Statement lock_tenant{"lock_tenant", "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"};
  const pg::Statement tenant_queue{
      "tenant_queue",
      "SELECT COALESCE(SUM(total_pages - pages_done), 0) FROM jobs WHERE tenant = $1 AND status IN " + s.active};
  const pg::Statement insert_document{"insert_document", "INSERT INTO documents (job_id, bytes) VALUES ($1, $2)"};
  const pg::Statement insert_pages{
      "insert_pages",
      "INSERT INTO pages (job_id, page_index, state) "
      "SELECT $1, unnest(string_to_array($2, ','))::integer, 'queued'"};
  const pg::Statement forget_stale_key{
      "forget_stale_key", "DELETE FROM idempotency WHERE owner = $1 AND key = $2 AND created_at <= $3"};
  const pg::Statement remember_key{
      "remember_key",
      "INSERT INTO idempotency (owner, key, fingerprint, job_id, created_at) VALUES ($1, $2, $3, $4, $5)"};
  const pg::Statement find_key{
      "find_key", "SELECT fingerprint, job_id FROM idempotency WHERE owner = $1 AND key = $2 AND created_at > $3"};
  const pg::Statement announce_work{"announce_work", "SELECT " + notify_work};
  const pg::Statement database_size{"database_size", "SELECT pg_database_size(current_database())"};

  const pg::Statement read_pages{
      "read_pages", "SELECT page_index, state, result, engine FROM pages WHERE job_id = $1 ORDER BY page_index"};

  // Claims one queued page: of the runnable job whose tenant has the
  // fewest leased pages (tenants share the workers in turn; between
  // equals, the tenant served least recently), then within that tenant of
  // the highest priority, the fewest leased pages, the oldest,
  // whose row no other claim holds; marks the job running and counts the lease. $1 token, $2 owner, $3 lease end,
  // $4 max pages leased per job, $5 now. Row locks re-read rows changed
  // since the statement's snapshot (READ COMMITTED), and every condition
  // that matters is checked again on what they find.
  const pg::Statement claim{
      "claim",
      "WITH job AS ("
      "  SELECT id, model, dpi, ocr_mode FROM jobs"
      "  WHERE status IN " + s.active + " AND pages_queued > 0 AND pages_leased < $4"
      "  ORDER BY (SELECT COALESCE(SUM(t.pages_leased), 0) FROM jobs t WHERE t.tenant = jobs.tenant"
      "    AND t.status IN " + s.active + "),"
      "    (SELECT MAX(t.last_leased_at) FROM jobs t WHERE t.tenant = jobs.tenant AND t.status IN " + s.active + "),"
      "    priority, pages_leased, id LIMIT 1 FOR UPDATE SKIP LOCKED"
      "), page AS ("
      "  SELECT p.job_id, p.page_index FROM pages p JOIN job ON p.job_id = job.id"
      "  WHERE p.state = 'queued' ORDER BY p.page_index LIMIT 1 FOR UPDATE OF p SKIP LOCKED"
      "), claimed AS ("
      "  UPDATE pages p SET state = 'leased', attempts = p.attempts + 1, lease_token = $1, lease_owner = $2,"
      "    lease_expires_at = $3"
      "  FROM page WHERE p.job_id = page.job_id AND p.page_index = page.page_index AND p.state = 'queued'"
      "  RETURNING p.job_id, p.page_index, p.attempts"
      "), counted AS ("
      "  UPDATE jobs j SET pages_queued = j.pages_queued - 1, pages_leased = j.pages_leased + 1,"
      "    status = " + s.running + ", started_at = CASE WHEN j.started_at = 0 THEN $5 ELSE j.started_at END,"
      "    last_leased_at = $5"
      "  FROM claimed WHERE j.id = claimed.job_id RETURNING j.id"
      ")"
      " SELECT c.job_id, c.page_index, c.attempts, job.model, job.dpi, job.ocr_mode FROM claimed c, job, counted"};

  // Whether some job is runnable; $1 max pages leased per job.
  const pg::Statement any_runnable{
      "any_runnable", "SELECT EXISTS (SELECT 1 FROM jobs WHERE status IN " + s.active +
                          " AND pages_queued > 0 AND pages_leased < $1)"};

  // Jobs with pages whose lease lapsed (their worker stopped renewing).
  const pg::Statement lapsed_jobs{
      "lapsed_jobs",
      "SELECT DISTINCT job_id FROM pages WHERE state = 'leased' AND lease_expires_at < $1 LIMIT " +
          std::to_string(kLapsedJobsPerClaim)};
  const pg::Statement try_lock_job{
      "try_lock_job", "SELECT id FROM jobs WHERE id = $1 AND status IN " + s.active + " FOR UPDATE SKIP LOCKED"};
  // Under the job's lock: lapsed pages with attempts left go back to the
  // queue. $1 job, $2 now, $3 max attempts.
  const pg::Statement requeue_lapsed{
      "requeue_lapsed",
      "WITH back AS ("
      "  UPDATE pages SET state = 'queued', lease_token = '', lease_expires_at = 0"
      "  WHERE job_id = $1 AND state = 'leased' AND lease_expires_at < $2 AND attempts < $3 RETURNING 1"
      "), n AS (SELECT count(*) AS moved FROM back)"
      " UPDATE jobs SET pages_queued = pages_queued + n.moved, pages_leased = pages_leased - n.moved"
      " FROM n WHERE id = $1 AND n.moved > 0 RETURNING n.moved, " + notify_work};
  const pg::Statement exhausted_lapsed{
      "exhausted_lapsed",
      "SELECT job_id, page_index, lease_token, attempts FROM pages"
      " WHERE job_id = $1 AND state = 'leased' AND lease_expires_at < $2 AND attempts >= $3"};

  const pg::Statement renew{
      "renew",
      "UPDATE pages SET lease_expires_at = $1 WHERE job_id = $2 AND page_index = $3 AND state = 'leased'"
      " AND lease_token = $4"};

  // Records a leased page's result (fenced by its lease token) and
  // advances the job, completing it with its last page; writes the
  // webhook outbox rows its subscription wants (page_event_id $8, with
  // $9 the page event's name; job_event_id $10 and name $11 when it
  // completed); announces the progress of a watched job. $1 result,
  // $2 engine, $3 job, $4 page, $5 token, $6 now, $7 expiry.
  const pg::Statement finish{
      "finish",
      "WITH job AS (SELECT id FROM jobs WHERE id = $3 FOR UPDATE"
      "), done AS ("
      "  UPDATE pages p SET state = 'done', result = $1, engine = $2, lease_token = '', lease_expires_at = 0"
      "  FROM job WHERE p.job_id = job.id AND p.page_index = $4 AND p.state = 'leased' AND p.lease_token = $5"
      "  RETURNING p.job_id"
      "), advanced AS ("
      "  UPDATE jobs j SET pages_done = j.pages_done + 1, pages_leased = j.pages_leased - 1,"
      "    status = CASE WHEN j.pages_done + 1 >= j.total_pages THEN " + s.completed + " ELSE j.status END,"
      "    completed_at = CASE WHEN j.pages_done + 1 >= j.total_pages THEN $6 ELSE j.completed_at END,"
      "    expires_at = CASE WHEN j.pages_done + 1 >= j.total_pages THEN $7 ELSE j.expires_at END"
      "  FROM done WHERE j.id = done.job_id AND j.status IN " + s.active +
      "  RETURNING j.id, j.watched_until, j.status, j.owner, j.webhook_url, j.webhook_pages"
      "), page_event AS (" + insert_delivery("$8", "$9", "$4", "$6", "advanced", "a.webhook_pages = 1") +
      "), job_event AS (" + insert_delivery("$10", "$11", "-1", "$6", "advanced", "a.status = " + s.completed) +
      ")"
      " SELECT (SELECT count(*) FROM done),"
      "   (SELECT " + notify_job("a.id", false) + " FROM advanced a WHERE a.watched_until >= $6)"};
  const pg::Statement watch_progress{
      "watch_progress",
      "UPDATE jobs SET watched_until = GREATEST(watched_until, $2) WHERE id = ANY($1::text[])"};

  // Queues a leased page again (fenced). $1 error, $2 job, $3 page, $4 token.
  const pg::Statement requeue{
      "requeue",
      "WITH job AS (SELECT id FROM jobs WHERE id = $2 FOR UPDATE"
      "), back AS ("
      "  UPDATE pages p SET state = 'queued', lease_token = '', lease_expires_at = 0, last_error = $1"
      "  FROM job WHERE p.job_id = job.id AND p.page_index = $3 AND p.state = 'leased' AND p.lease_token = $4"
      "  RETURNING p.job_id"
      "), counted AS ("
      "  UPDATE jobs j SET pages_queued = j.pages_queued + 1, pages_leased = j.pages_leased - 1"
      "  FROM back WHERE j.id = back.job_id RETURNING j.id"
      ")"
      " SELECT (SELECT count(*) FROM back), (SELECT " + notify_work + " FROM counted)"};

  const pg::Statement held_by{
      "held_by",
      "SELECT job_id, page_index, lease_token, attempts FROM pages"
      " WHERE state = 'leased' AND starts_with(lease_owner, $1)"};
  const pg::Statement jobs_held_by{
      "jobs_held_by", "SELECT DISTINCT job_id FROM pages WHERE state = 'leased' AND starts_with(lease_owner, $1)"};
  // Under the job's lock: gives back, without counting the attempt, the
  // pages of a job held by workers named $2... $1 job.
  const pg::Statement return_held{
      "return_held",
      "WITH back AS ("
      "  UPDATE pages SET state = 'queued', lease_token = '', lease_expires_at = 0,"
      "    attempts = GREATEST(attempts - 1, 0)"
      "  WHERE job_id = $1 AND state = 'leased' AND starts_with(lease_owner, $2) RETURNING 1"
      "), n AS (SELECT count(*) AS moved FROM back)"
      " UPDATE jobs SET pages_queued = pages_queued + n.moved, pages_leased = pages_leased - n.moved"
      " FROM n WHERE id = $1 AND n.moved > 0 RETURNING n.moved, " + notify_work};
  const pg::Statement lease_holders{"lease_holders",
                                    "SELECT DISTINCT lease_owner FROM pages WHERE state = 'leased'"};

  // Ends an active job as $2 with $3 (failed or cancelled), drops its
  // unfinished pages and writes its webhook outbox row (id $6, event
  // $7). $1 job, $4 now, $5 expiry.
  const pg::Statement end_job{
      "end_job",
      "WITH ended AS ("
      "  UPDATE jobs SET status = $2, error = $3, completed_at = $4, expires_at = $5, pages_queued = 0,"
      "    pages_leased = 0 WHERE id = $1 AND status IN " + s.active +
      "  RETURNING id, owner, webhook_url"
      "), dropped AS (DELETE FROM pages WHERE job_id IN (SELECT id FROM ended) AND state != 'done')"
      ", job_event AS (" + insert_delivery("$6", "$7", "-1", "$4", "ended", "true") + ")"
      " SELECT " + notify_job("id", true) + " FROM ended"};

  const pg::Statement expire_documents{
      "expire_documents",
      "DELETE FROM documents WHERE job_id IN (SELECT id FROM jobs WHERE status IN " + s.finished +
          " AND expires_at <= $1)"};
  const pg::Statement expire_pages{
      "expire_pages", "DELETE FROM pages WHERE job_id IN (SELECT id FROM jobs WHERE status IN " + s.finished +
                          " AND expires_at <= $1)"};
  const pg::Statement expire_jobs{
      "expire_jobs",
      "UPDATE jobs SET status = " + s.expired + " WHERE status IN " + s.finished + " AND expires_at <= $1"};
  const pg::Statement forget_keys{"forget_keys", "DELETE FROM idempotency WHERE created_at <= $1"};
  const pg::Statement forget_settled_deliveries{
      "forget_settled_deliveries",
      "DELETE FROM webhook_deliveries WHERE state != 'pending' AND job_id IN (SELECT id FROM jobs WHERE status = " +
          s.expired + ")"};

  // Leases the pending delivery due longest ago that no live lease holds;
  // concurrent claims skip each other's rows. $1 token, $2 lease end, $3 now.
  const pg::Statement claim_delivery{
      "claim_delivery",
      "UPDATE webhook_deliveries SET lease_token = $1, lease_expires_at = $2 WHERE id = ("
      "  SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $3"
      "  AND lease_expires_at < $3 ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)"
      " RETURNING " + std::string(kDeliveryColumns)};
  // Records an attempt, fenced by the lease token. $1 payload, $2 error,
  // $3 attempted at, $4 state, $5 next attempt, $6 delivered at, $7 id, $8 token.
  const pg::Statement record_delivery{
      "record_delivery",
      "UPDATE webhook_deliveries SET attempts = attempts + 1, payload = $1, last_error = $2, last_attempt_at = $3,"
      " state = $4, next_attempt_at = $5, delivered_at = $6, lease_token = '', lease_expires_at = 0"
      " WHERE id = $7 AND lease_token = $8"};
  const pg::Statement job_deliveries{
      "job_deliveries", "SELECT " + std::string(kDeliveryColumns) +
                            " FROM webhook_deliveries WHERE job_id = $1"
                            " ORDER BY created_at, page_index < 0, page_index, id"};

  const pg::Statement jobs_by_status{"jobs_by_status", "SELECT status, count(*) FROM jobs GROUP BY status"};
  const pg::Statement queue{
      "queue",
      "SELECT (SELECT COALESCE(SUM(pages_queued), 0) FROM jobs WHERE status IN " + s.active + "),"
      "  (SELECT COALESCE(MIN(submitted_at), 0) FROM jobs WHERE status IN " + s.active + " AND pages_queued > 0),"
      "  (SELECT count(*) FROM pages WHERE state = 'leased' AND lease_expires_at >= $1),"
      "  (SELECT COALESCE(SUM(threads), 0) FROM workers WHERE heartbeat_at + timeout_ms > $1)"};
  const pg::Statement ping{"ping", "SELECT 1"};

  const pg::Statement register_worker{
      "register_worker",
      "INSERT INTO workers (id, host, threads, started_at, heartbeat_at, timeout_ms) VALUES ($1, $2, $3, $4, $5, $6)"
      " ON CONFLICT (id) DO UPDATE SET host = $2, threads = $3, started_at = $4, heartbeat_at = $5, timeout_ms = $6"};
  const pg::Statement heartbeat{
      "heartbeat", "UPDATE workers SET heartbeat_at = GREATEST(heartbeat_at, $1) WHERE id = $2"};
  const pg::Statement deregister_worker{"deregister_worker", "DELETE FROM workers WHERE id = $1"};
  const pg::Statement remove_silent{
      "remove_silent",
      "DELETE FROM workers WHERE heartbeat_at + timeout_ms <= $1 RETURNING id, host, threads, started_at, timeout_ms"};

  const pg::Statement new_bucket{
      "new_bucket",
      "INSERT INTO rate_buckets (key, tokens, updated_at, full_at) VALUES ($1, $2, $3, $3)"
      " ON CONFLICT (key) DO NOTHING"};
  const pg::Statement lock_bucket{"lock_bucket",
                                  "SELECT tokens, updated_at FROM rate_buckets WHERE key = $1 FOR UPDATE"};
  const pg::Statement store_bucket{
      "store_bucket", "UPDATE rate_buckets SET tokens = $2, updated_at = $3, full_at = $4 WHERE key = $1"};

  const pg::Statement lock_slots{"lock_slots", "SELECT pg_advisory_xact_lock(" + std::to_string(kStreamSlotLock) + ")"};
  const pg::Statement count_slots{
      "count_slots",
      "SELECT count(*), count(*) FILTER (WHERE owner = $2) FROM stream_slots WHERE expires_at > $1"};
  const pg::Statement insert_slot{
      "insert_slot", "INSERT INTO stream_slots (id, node_id, owner, expires_at) VALUES ($1, $2, $3, $4)"};
  const pg::Statement close_slot{"close_slot", "DELETE FROM stream_slots WHERE id = $1"};
  const pg::Statement renew_slots{"renew_slots", "UPDATE stream_slots SET expires_at = $2 WHERE node_id = $1"};
  const pg::Statement forget_slots{"forget_slots", "DELETE FROM stream_slots WHERE expires_at <= $1"};
  const pg::Statement forget_buckets{"forget_buckets", "DELETE FROM rate_buckets WHERE full_at <= $1"};

  const pg::Statement lead{
      "lead",
      "INSERT INTO leaders (name, holder, expires_at) VALUES ($1, $2, $3)"
      " ON CONFLICT (name) DO UPDATE SET holder = $2, expires_at = $3"
      " WHERE leaders.holder = $2 OR leaders.expires_at <= $4"};
};

const Statements& sql() {
  static const Statements statements;
  return statements;
}

class PostgresJobStore final : public JobStore {
 public:
  PostgresJobStore(const std::string& uri, const std::string& description, StoreOptions options)
      : pool_(uri, description, kMaxConnections), policy_(options), notifier_(uri, description) {}

  Status migrate() {
    return transaction([&](pg::Connection& conn) -> Status {
      if (Status s = conn.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLock) + ")"); !s) return s;
      if (Status s = conn.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                               "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
          !s) {
        return s;
      }
      auto current = read_schema_version(conn);
      if (!current) return current.take_error();
      auto pending = pending_migrations(postgres_migrations(), *current);
      if (!pending) return pending.take_error();
      for (const Migration& migration : *pending) {
        if (Status s = conn.exec(migration.sql); !s) return s;
        auto recorded = conn.query("INSERT INTO schema_migrations (version) VALUES ($1)",
                                   pg::Params().add(migration.version));
        if (!recorded) return recorded.take_error();
      }
      return {};
    });
  }

  Result<int> schema_version() override {
    return using_connection([&](pg::Connection& conn) { return read_schema_version(conn); });
  }

  Status create_job(const NewJob& job) override {
    return transaction([&](pg::Connection& conn) -> Status {
      if (Status room = check_room_for(conn, job.document->size()); !room) return room;
      if (Status queue = check_tenant_queue(conn, job); !queue) return queue;
      if (auto s = conn.run(sql().insert_job, pg::Params()
                                                  .add(job.id)
                                                  .add(job.owner)
                                                  .add(job.filename)
                                                  .add(job.model)
                                                  .add(job.dpi)
                                                  .add(job.total_pages)
                                                  .add(job.submitted_at)
                                                  .add(job.ocr_mode)
                                                  .add(job.pages)
                                                  .add(job.document_pages)
                                                  .add(job.webhook.url)
                                                  .add(job.webhook.pages ? 1 : 0)
                                                  .add(job.tenant)
                                                  .add(static_cast<int>(job.priority)));
          !s) {
        return s.take_error();
      }
      if (auto s = conn.run(sql().insert_document, pg::Params().add(job.id).add_bytes(*job.document)); !s) {
        return s.take_error();
      }
      if (auto s = conn.run(sql().insert_pages, pg::Params().add(job.id).add(comma_separated(pages_to_process(job))));
          !s) {
        return s.take_error();
      }
      if (!job.idempotency_key.empty()) {
        if (Status s = remember_idempotency_key(conn, job); !s) return s;
      }
      return discard(conn.run(sql().announce_work));
    });
  }

  Result<std::optional<std::string>> find_idempotent_job(std::string_view owner, std::string_view key,
                                                         std::string_view fingerprint, std::int64_t now_ms) override {
    return using_connection([&](pg::Connection& conn) -> Result<std::optional<std::string>> {
      auto rows = conn.run(sql().find_key, pg::Params().add(owner).add(key).add(policy_.idempotency_cutoff(now_ms)));
      if (!rows) return rows.take_error();
      if (rows->empty()) return std::optional<std::string>();
      if (rows->text(0, 0) != fingerprint) return StorePolicy::idempotency_key_reused(rows->text(0, 1));
      return std::optional<std::string>(rows->text(0, 1));
    });
  }

  Status cancel_job(std::string_view job_id, std::string_view reason, std::int64_t now_ms) override {
    return transaction([&](pg::Connection& conn) -> Status {
      auto rows = conn.run(sql().lock_job, pg::Params().add(job_id));
      if (!rows) return rows.take_error();
      if (rows->empty()) return StorePolicy::job_not_found(job_id);
      const Job job = job_from_row(*rows, 0);
      if (job.status == JobStatus::cancelled) return {};
      if (job.finished() || job.status == JobStatus::expired) return StorePolicy::nothing_to_cancel(job);
      return end_job(conn, job_id, JobStatus::cancelled, reason, now_ms);
    });
  }

  Result<Job> get_job(std::string_view job_id) override {
    return using_connection([&](pg::Connection& conn) -> Result<Job> {
      auto rows = conn.run(sql().get_job, pg::Params().add(job_id));
      if (!rows) return rows.take_error();
      if (rows->empty()) return StorePolicy::job_not_found(job_id);
      return job_from_row(*rows, 0);
    });
  }

  Result<std::shared_ptr<const std::string>> read_document(std::string_view job_id) override {
    return using_connection([&](pg::Connection& conn) -> Result<std::shared_ptr<const std::string>> {
      auto rows = conn.query("SELECT bytes FROM documents WHERE job_id = $1", pg::Params().add(job_id), true);
      if (!rows) return rows.take_error();
      if (rows->empty()) return StorePolicy::document_gone(job_id);
      return std::make_shared<const std::string>(rows->text(0, 0));
    });
  }

  Result<std::vector<PageRecord>> read_pages(std::string_view job_id) override {
    return using_connection([&](pg::Connection& conn) -> Result<std::vector<PageRecord>> {
      auto rows = conn.run(sql().read_pages, pg::Params().add(job_id));
      if (!rows) return rows.take_error();
      if (rows->empty()) return StorePolicy::pages_gone(job_id);
      std::vector<PageRecord> pages;
      for (int row = 0; row < rows->size(); ++row) {
        pages.push_back({static_cast<int>(rows->integer(row, 0)), rows->text(row, 1) == "done", rows->text(row, 2),
                         rows->text(row, 3)});
      }
      return pages;
    });
  }

  Result<std::optional<PageTask>> lease_page(const LeaseRequest& request) override {
    // Lapsed leases are looked for every so often, and whenever nothing
    // else is runnable.
    bool lapsed_looked_for = false;
    if (request.now_ms >= next_lapse_check_ms_.exchange(request.now_ms + kLapseCheckInterval)) {
      auto taken_back = take_back_lapsed_leases(request.now_ms);
      if (!taken_back) return taken_back.take_error();
      lapsed_looked_for = true;
    }
    // A claim skips the jobs other claims hold at that instant: when it
    // finds nothing while a job is runnable, it tries again shortly, so
    // nullopt means nothing is runnable.
    for (int attempt = 1;; ++attempt) {
      auto task = claim(request);
      if (!task || task->has_value() || attempt == kClaimAttempts) return task;
      auto runnable = using_connection([&](pg::Connection& conn) -> Result<bool> {
        auto rows = conn.run(sql().any_runnable, pg::Params().add(request.max_pages_in_flight_per_job));
        if (!rows) return rows.take_error();
        return rows->text(0, 0) == "t";
      });
      if (!runnable) return runnable.take_error();
      if (*runnable) {
        std::this_thread::sleep_for(std::chrono::milliseconds(attempt));
        continue;
      }
      if (lapsed_looked_for) return task;
      auto taken_back = take_back_lapsed_leases(request.now_ms);
      if (!taken_back) return taken_back.take_error();
      if (*taken_back == 0) return task;
      lapsed_looked_for = true;
    }
  }

  Status renew_lease(const PageTask& task, std::int64_t now_ms, std::chrono::milliseconds duration) override {
    return using_connection([&](pg::Connection& conn) -> Status {
      auto rows = conn.run(sql().renew, pg::Params()
                                            .add(now_ms + duration.count())
                                            .add(task.job_id)
                                            .add(task.page_index)
                                            .add(task.lease_token));
      if (!rows) return rows.take_error();
      if (rows->affected() == 0) return StorePolicy::lost_lease(task);
      return {};
    });
  }

  Status complete_page(const PageTask& task, std::string_view result_json, std::string_view engine,
                       std::int64_t now_ms) override {
    return using_connection([&](pg::Connection& conn) { return finish_page(conn, task, result_json, engine, now_ms); });
  }

  Status fail_page(const PageTask& task, std::string_view error, std::int64_t now_ms) override {
    return using_connection([&](pg::Connection& conn) { return give_up(conn, task, error, now_ms); });
  }

  Result<int> release_worker_leases(std::string_view worker_prefix, std::string_view reason,
                                    std::int64_t now_ms) override {
    auto held = using_connection([&](pg::Connection& conn) -> Result<std::vector<PageTask>> {
      auto rows = conn.run(sql().held_by, pg::Params().add(worker_prefix));
      if (!rows) return rows.take_error();
      return tasks_from(*rows);
    });
    if (!held) return held.take_error();
    int released = 0;
    for (const PageTask& task : *held) {
      Status s = using_connection([&](pg::Connection& conn) { return give_up(conn, task, reason, now_ms); });
      if (s) {
        ++released;
      } else if (s.error().kind != Error::Kind::conflict) {
        return s.take_error();
      }
    }
    return released;
  }

  Result<int> return_worker_leases(std::string_view worker_prefix) override {
    auto jobs = using_connection([&](pg::Connection& conn) -> Result<std::vector<std::string>> {
      auto rows = conn.run(sql().jobs_held_by, pg::Params().add(worker_prefix));
      if (!rows) return rows.take_error();
      return first_column(*rows);
    });
    if (!jobs) return jobs.take_error();
    int returned = 0;
    for (const std::string& job_id : *jobs) {
      auto moved = using_connection([&](pg::Connection& conn) -> Result<int> {
        auto rows = conn.run(sql().return_held, pg::Params().add(job_id).add(worker_prefix));
        if (!rows) return rows.take_error();
        return rows->empty() ? 0 : static_cast<int>(rows->integer(0, 0));
      });
      if (!moved) return moved.take_error();
      returned += *moved;
    }
    return returned;
  }

  Result<std::vector<std::string>> lease_holders() override {
    return using_connection([&](pg::Connection& conn) -> Result<std::vector<std::string>> {
      auto rows = conn.run(sql().lease_holders);
      if (!rows) return rows.take_error();
      return first_column(*rows);
    });
  }

  Status fail_job(std::string_view job_id, std::string_view error, std::int64_t now_ms) override {
    return using_connection(
        [&](pg::Connection& conn) { return end_job(conn, job_id, JobStatus::failed, error, now_ms); });
  }

  Result<int> expire_jobs(std::int64_t now_ms) override {
    int expired = 0;
    Status s = transaction([&](pg::Connection& conn) -> Status {
      // Dependent rows first: the job row stays so the id answers "expired".
      for (const pg::Statement* statement : {&sql().expire_documents, &sql().expire_pages}) {
        if (auto rows = conn.run(*statement, pg::Params().add(now_ms)); !rows) return rows.take_error();
      }
      auto marked = conn.run(sql().expire_jobs, pg::Params().add(now_ms));
      if (!marked) return marked.take_error();
      expired = static_cast<int>(marked->affected());
      if (auto rows = conn.run(sql().forget_settled_deliveries); !rows) return rows.take_error();
      return discard(conn.run(sql().forget_keys, pg::Params().add(policy_.idempotency_cutoff(now_ms))));
    });
    if (!s) return s.take_error();
    return expired;
  }

  Result<JobList> list_jobs(const ListQuery& query) override {
    return using_connection([&](pg::Connection& conn) -> Result<JobList> {
      // One row more than asked tells whether another page follows.
      auto rows = conn.query("SELECT " + std::string(kJobColumns) +
                                 " FROM jobs WHERE ($1::text = '' OR id < $1::text)"
                                 " AND ($3::text IS NULL OR owner = $3::text) AND " +
                                 effective_status_condition(query.status, query.now_ms) +
                                 " ORDER BY id DESC LIMIT $2::bigint",
                             pg::Params().add(query.before_id).add(query.limit + 1).add(query.owner));
      if (!rows) return rows.take_error();
      JobList list;
      for (int row = 0; row < rows->size(); ++row) {
        if (row == query.limit) {
          list.more = true;
          break;
        }
        list.jobs.push_back(job_from_row(*rows, row));
      }
      return list;
    });
  }

  Result<StoreStats> stats(std::int64_t now_ms) override {
    return using_connection([&](pg::Connection& conn) -> Result<StoreStats> {
      StoreStats stats;
      auto by_status = conn.run(sql().jobs_by_status);
      if (!by_status) return by_status.take_error();
      for (int row = 0; row < by_status->size(); ++row) {
        if (auto status = parse_status(by_status->text(row, 0))) {
          stats.jobs_by_status[static_cast<std::size_t>(*status)] = by_status->integer(row, 1);
        }
      }
      auto queue = conn.run(sql().queue, pg::Params().add(now_ms));
      if (!queue) return queue.take_error();
      stats.queued_pages = queue->integer(0, 0);
      stats.oldest_queued_submitted_at = queue->integer(0, 1);
      stats.leased_pages = queue->integer(0, 2);
      stats.live_worker_threads = queue->integer(0, 3);
      return stats;
    });
  }

  Status ping() override {
    return using_connection([&](pg::Connection& conn) { return discard(conn.run(sql().ping)); });
  }

  Result<std::optional<WebhookDelivery>> claim_webhook_delivery(std::int64_t now_ms,
                                                                std::chrono::milliseconds lease) override {
    return using_connection([&](pg::Connection& conn) -> Result<std::optional<WebhookDelivery>> {
      auto rows = conn.run(sql().claim_delivery,
                           pg::Params().add(util::make_ulid(now_ms)).add(now_ms + lease.count()).add(now_ms));
      if (!rows) return rows.take_error();
      if (rows->empty()) return std::optional<WebhookDelivery>();
      return std::optional<WebhookDelivery>(delivery_from_row(*rows, 0));
    });
  }

  Status record_webhook_attempt(const WebhookDelivery& claimed, const DeliveryAttempt& attempt) override {
    return using_connection([&](pg::Connection& conn) -> Status {
      const bool delivered = attempt.state == DeliveryState::delivered;
      auto rows = conn.run(sql().record_delivery, pg::Params()
                                                      .add(attempt.payload)
                                                      .add(attempt.error)
                                                      .add(attempt.attempted_at)
                                                      .add(delivery_state_name(attempt.state))
                                                      .add(attempt.retry_at)
                                                      .add(delivered ? attempt.attempted_at : std::int64_t{0})
                                                      .add(claimed.id)
                                                      .add(claimed.lease_token));
      if (!rows) return rows.take_error();
      if (rows->affected() == 0) return StorePolicy::lost_delivery_lease(claimed);
      return {};
    });
  }

  Result<std::vector<WebhookDelivery>> list_webhook_deliveries(std::string_view job_id) override {
    return using_connection([&](pg::Connection& conn) -> Result<std::vector<WebhookDelivery>> {
      auto rows = conn.run(sql().job_deliveries, pg::Params().add(job_id));
      if (!rows) return rows.take_error();
      std::vector<WebhookDelivery> deliveries;
      for (int row = 0; row < rows->size(); ++row) deliveries.push_back(delivery_from_row(*rows, row));
      return deliveries;
    });
  }

  Status register_worker(const WorkerRecord& worker, std::int64_t now_ms) override {
    return using_connection([&](pg::Connection& conn) {
      return discard(conn.run(sql().register_worker, pg::Params()
                                                         .add(worker.id)
                                                         .add(worker.host)
                                                         .add(worker.threads)
                                                         .add(worker.started_at)
                                                         .add(now_ms)
                                                         .add(std::int64_t{worker.heartbeat_timeout.count()})));
    });
  }

  Status heartbeat(std::string_view worker_id, std::int64_t now_ms) override {
    return using_connection([&](pg::Connection& conn) -> Status {
      auto rows = conn.run(sql().heartbeat, pg::Params().add(now_ms).add(worker_id));
      if (!rows) return rows.take_error();
      if (rows->affected() == 0) return Error::not_found("Worker " + std::string(worker_id) + " is not registered");
      return {};
    });
  }

  Status deregister_worker(std::string_view worker_id) override {
    return using_connection(
        [&](pg::Connection& conn) { return discard(conn.run(sql().deregister_worker, pg::Params().add(worker_id))); });
  }

  Result<std::vector<WorkerRecord>> remove_silent_workers(std::int64_t now_ms) override {
    return using_connection([&](pg::Connection& conn) -> Result<std::vector<WorkerRecord>> {
      auto rows = conn.run(sql().remove_silent, pg::Params().add(now_ms));
      if (!rows) return rows.take_error();
      std::vector<WorkerRecord> silent;
      for (int row = 0; row < rows->size(); ++row) {
        silent.push_back({rows->text(row, 0), rows->text(row, 1), static_cast<int>(rows->integer(row, 2)),
                          rows->integer(row, 3), std::chrono::milliseconds(rows->integer(row, 4))});
      }
      return silent;
    });
  }

  Result<std::optional<std::chrono::milliseconds>> take_token(std::string_view key, const util::TokenBucketRule& rule,
                                                             std::int64_t now_ms) override {
    std::optional<std::chrono::milliseconds> wait;
    Status s = transaction([&](pg::Connection& conn) -> Status {
      const util::TokenBucket fresh = rule.full(now_ms);
      if (auto rows = conn.run(sql().new_bucket, pg::Params().add(key).add(fresh.tokens).add(now_ms)); !rows) {
        return rows.take_error();
      }
      auto kept = conn.run(sql().lock_bucket, pg::Params().add(key));
      if (!kept) return kept.take_error();
      const util::TokenBucket bucket = kept->empty() ? fresh : util::TokenBucket{kept->number(0, 0), kept->integer(0, 1)};
      const auto taken = rule.take(bucket, now_ms);
      wait = taken.wait;
      return discard(conn.run(sql().store_bucket, pg::Params()
                                                      .add(key)
                                                      .add(taken.bucket.tokens)
                                                      .add(taken.bucket.updated_ms)
                                                      .add(rule.full_at(taken.bucket))));
    });
    if (!s) return s.take_error();
    return wait;
  }

  Result<SlotAdmission> open_stream_slot(const StreamSlotRequest& request) override {
    SlotAdmission admission = SlotAdmission::admitted;
    Status s = transaction([&](pg::Connection& conn) -> Status {
      if (auto locked = conn.run(sql().lock_slots); !locked) return locked.take_error();
      auto held = conn.run(sql().count_slots, pg::Params().add(request.now_ms).add(request.owner));
      if (!held) return held.take_error();
      admission = StorePolicy::slot_admission(request, held->integer(0, 0), held->integer(0, 1));
      if (admission != SlotAdmission::admitted) return {};
      return discard(conn.run(sql().insert_slot, pg::Params()
                                                     .add(request.slot_id)
                                                     .add(request.node_id)
                                                     .add(request.owner)
                                                     .add(request.now_ms + request.ttl.count())));
    });
    if (!s) return s.take_error();
    return admission;
  }

  Status close_stream_slot(std::string_view slot_id) override {
    return using_connection(
        [&](pg::Connection& conn) { return discard(conn.run(sql().close_slot, pg::Params().add(slot_id))); });
  }

  Status renew_stream_slots(std::string_view node_id, std::int64_t now_ms, std::chrono::milliseconds ttl) override {
    return using_connection([&](pg::Connection& conn) {
      return discard(conn.run(sql().renew_slots, pg::Params().add(node_id).add(now_ms + ttl.count())));
    });
  }

  Result<bool> hold_leadership(std::string_view name, std::string_view holder, std::int64_t now_ms,
                               std::chrono::milliseconds ttl) override {
    return using_connection([&](pg::Connection& conn) -> Result<bool> {
      auto rows =
          conn.run(sql().lead, pg::Params().add(name).add(holder).add(now_ms + ttl.count()).add(now_ms));
      if (!rows) return rows.take_error();
      return rows->affected() > 0;
    });
  }

  Status forget_idle_state(std::int64_t now_ms) override {
    return using_connection([&](pg::Connection& conn) -> Status {
      if (auto rows = conn.run(sql().forget_slots, pg::Params().add(now_ms)); !rows) return rows.take_error();
      return discard(conn.run(sql().forget_buckets, pg::Params().add(now_ms)));
    });
  }

  bool notifies() const override { return true; }

  Subscription subscribe(StoreListener& listener) override { return notifier_.subscribe(listener); }

  Status watch_progress(const std::vector<std::string>& job_ids, std::int64_t until_ms) override {
    if (job_ids.empty()) return {};
    // A text[] literal; job ids are "fc-" and base32, nothing to escape.
    std::string ids = "{";
    for (const std::string& id : job_ids) ids += (ids.size() > 1 ? "," : "") + id;
    ids += "}";
    return using_connection([&](pg::Connection& conn) {
      return discard(conn.run(sql().watch_progress, pg::Params().add(ids).add(until_ms)));
    });
  }

 private:
  Result<std::optional<PageTask>> claim(const LeaseRequest& request) {
    return using_connection([&](pg::Connection& conn) -> Result<std::optional<PageTask>> {
      const std::string token = util::make_ulid(request.now_ms);
      auto rows = conn.run(sql().claim, pg::Params()
                                            .add(token)
                                            .add(request.worker_id)
                                            .add(request.now_ms + request.lease_duration.count())
                                            .add(request.max_pages_in_flight_per_job)
                                            .add(request.now_ms));
      if (!rows) return rows.take_error();
      if (rows->empty()) return std::optional<PageTask>();
      PageTask task;
      task.job_id = rows->text(0, 0);
      task.page_index = static_cast<int>(rows->integer(0, 1));
      task.attempt = static_cast<int>(rows->integer(0, 2));
      task.model = rows->text(0, 3);
      task.dpi = static_cast<int>(rows->integer(0, 4));
      task.ocr_mode = rows->text(0, 5);
      task.lease_token = token;
      return std::optional<PageTask>(std::move(task));
    });
  }

  static Status discard(Result<pg::Rows> rows) {
    if (!rows) return rows.take_error();
    return {};
  }

  // Runs `body` on a pooled connection. When the connection turns out to
  // be lost (the server restarted since it was last used), `body` runs once
  // more on a new one: for reads that is free, and every write `body` makes
  // this way is one statement, which a lost connection either ran whole
  // or not at all; rerunning it at worst finds its effect there (a lease
  // taken, a result recorded) and answers as after a lost race.
  template <class Body>
  auto using_connection(Body&& body) -> decltype(body(std::declval<pg::Connection&>())) {
    for (int attempt = 1;; ++attempt) {
      auto conn = pool_.borrow();
      if (!conn) return conn.take_error();
      auto result = body(**conn);
      if (result.ok() || attempt == 2 || !(*conn)->broken()) return result;
    }
  }

  // Runs `body` in one transaction. It runs again, on a new connection,
  // when the connection was lost before COMMIT was sent (nothing was
  // written), and after a deadlock (the server rolled it back); a
  // connection lost during COMMIT leaves the outcome unknown, which is
  // reported as unavailable.
  template <class Body>
  Status transaction(Body&& body) {
    constexpr int kAttempts = 3;
    for (int attempt = 1;; ++attempt) {
      auto conn = pool_.borrow();
      if (!conn) return conn.take_error();
      bool committing = false;
      std::string failed_state;  // read before the rollback clears it
      Status done = [&]() -> Status {
        auto tx = pg::Transaction::begin(**conn);
        if (!tx) return tx.take_error();
        Status s = body(**conn);
        if (s) {
          committing = true;
          s = tx->commit();
        }
        if (!s) failed_state = (*conn)->last_sqlstate();
        return s;
      }();
      const bool deadlocked = failed_state == "40P01" || failed_state == "40001";
      const bool lost_before_commit = (*conn)->broken() && !committing;
      if (done || attempt == kAttempts || !(deadlocked || lost_before_commit)) return done;
    }
  }

  static Result<int> read_schema_version(pg::Connection& conn) {
    auto rows = conn.query(
        "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0 "
        "ELSE (SELECT COALESCE(MAX(version), 0) FROM schema_migrations) END");
    if (!rows) {
      // The subquery is planned even when the table is missing.
      if (conn.last_sqlstate() == "42P01") return 0;
      return rows.take_error();
    }
    return static_cast<int>(rows->integer(0, 0));
  }

  Status check_room_for(pg::Connection& conn, std::size_t document_bytes) const {
    if (policy_.options().max_bytes <= 0) return {};
    auto used = conn.run(sql().database_size);
    if (!used) return used.take_error();
    return policy_.check_room_for(used->integer(0, 0), document_bytes);
  }

  // Records job.idempotency_key; a stale record of the same key (outside
  // the window, not yet swept) is replaced, a live one is a conflict.
  // Refuses `job` when its tenant's unfinished pages would pass its limit;
  // the tenant's lock makes the count and the insert one step fleet-wide.
  Status check_tenant_queue(pg::Connection& conn, const NewJob& job) const {
    if (job.max_queued_pages_per_tenant <= 0) return {};
    if (auto locked = conn.run(sql().lock_tenant, pg::Params().add(job.tenant)); !locked) return locked.take_error();
    auto rows = conn.run(sql().tenant_queue, pg::Params().add(job.tenant));
    if (!rows) return rows.take_error();
    return StorePolicy::check_tenant_queue(rows->integer(0, 0), job);
  }

  Status remember_idempotency_key(pg::Connection& conn, const NewJob& job) {
    auto stale = conn.run(sql().forget_stale_key, pg::Params()
                                                      .add(job.owner)
                                                      .add(job.idempotency_key)
                                                      .add(policy_.idempotency_cutoff(job.submitted_at)));
    if (!stale) return stale.take_error();
    return discard(conn.run(sql().remember_key, pg::Params()
                                                    .add(job.owner)
                                                    .add(job.idempotency_key)
                                                    .add(job.fingerprint)
                                                    .add(job.id)
                                                    .add(job.submitted_at)));
  }

  Status end_job(pg::Connection& conn, std::string_view job_id, JobStatus status, std::string_view reason,
                 std::int64_t now_ms) {
    return discard(conn.run(sql().end_job, pg::Params()
                                               .add(job_id)
                                               .add(status_name(status))
                                               .add(reason)
                                               .add(now_ms)
                                               .add(policy_.expiry_after(now_ms))
                                               .add(new_delivery_id(now_ms))
                                               .add(job_event_name(status))));
  }

  Status finish_page(pg::Connection& conn, const PageTask& task, std::string_view result_json,
                     std::string_view engine, std::int64_t now_ms) {
    auto rows = conn.run(sql().finish, pg::Params()
                                           .add(result_json)
                                           .add(engine)
                                           .add(task.job_id)
                                           .add(task.page_index)
                                           .add(task.lease_token)
                                           .add(now_ms)
                                           .add(policy_.expiry_after(now_ms))
                                           .add(new_delivery_id(now_ms))
                                           .add(kPageCompletedEvent)
                                           .add(new_delivery_id(now_ms))
                                           .add(job_event_name(JobStatus::completed)));
    if (!rows) return rows.take_error();
    if (rows->integer(0, 0) == 0) return StorePolicy::lost_lease(task);
    return {};
  }

  // Queues a leased page again, or finishes it as a page error once its
  // attempts are used up.
  Status give_up(pg::Connection& conn, const PageTask& task, std::string_view error, std::int64_t now_ms) {
    if (policy_.attempts_used_up(task.attempt)) return finish_page(conn, task, page_error_text(error), "", now_ms);
    auto rows = conn.run(sql().requeue,
                         pg::Params().add(error).add(task.job_id).add(task.page_index).add(task.lease_token));
    if (!rows) return rows.take_error();
    if (rows->integer(0, 0) == 0) return StorePolicy::lost_lease(task);
    return {};
  }

  // Pages whose lease lapsed are runnable again: queued, or with their
  // attempts used up, page errors. Done per job under its lock; a job
  // another claim holds is left for a later claim. Returns how many pages
  // became runnable or were finished.
  Result<int> take_back_lapsed_leases(std::int64_t now_ms) {
    auto jobs = using_connection([&](pg::Connection& conn) -> Result<std::vector<std::string>> {
      auto rows = conn.run(sql().lapsed_jobs, pg::Params().add(now_ms));
      if (!rows) return rows.take_error();
      return first_column(*rows);
    });
    if (!jobs) return jobs.take_error();
    const int max_attempts = policy_.options().max_attempts;
    int taken_back = 0;
    for (const std::string& job_id : *jobs) {
      int in_job = 0;
      Status s = transaction([&](pg::Connection& conn) -> Status {
        in_job = 0;
        auto locked = conn.run(sql().try_lock_job, pg::Params().add(job_id));
        if (!locked) return locked.take_error();
        if (locked->empty()) return {};
        auto queued = conn.run(sql().requeue_lapsed, pg::Params().add(job_id).add(now_ms).add(max_attempts));
        if (!queued) return queued.take_error();
        if (!queued->empty()) in_job += static_cast<int>(queued->integer(0, 0));
        auto exhausted = conn.run(sql().exhausted_lapsed, pg::Params().add(job_id).add(now_ms).add(max_attempts));
        if (!exhausted) return exhausted.take_error();
        for (const PageTask& task : tasks_from(*exhausted)) {
          const std::string error = page_error_text(StorePolicy::lapsed_attempts_error(task.attempt));
          if (Status e = finish_page(conn, task, error, "", now_ms); !e) return e;
          ++in_job;
        }
        return {};
      });
      if (!s) return s.take_error();
      taken_back += in_job;
    }
    return taken_back;
  }

  pg::Pool pool_;
  StorePolicy policy_;
  pg::Notifier notifier_;
  // When lease_page next looks for lapsed leases, in request time.
  std::atomic<std::int64_t> next_lapse_check_ms_{0};
};

}  // namespace

Result<std::unique_ptr<JobStore>> open_postgres_job_store(const std::string& uri, const std::string& description,
                                                          StoreOptions options, bool migrate) {
  auto store = std::make_unique<PostgresJobStore>(uri, description, options);
  const Status ready = migrate ? store->migrate() : store->ping();
  if (!ready) return Error::unavailable("Cannot open the job store at " + description + ": " + ready.error().message);
  return std::unique_ptr<JobStore>(std::move(store));
}

}  // namespace visor::jobs

#pragma once
// The job store: the only place job state lives. The API, the workers and
// the retention sweeper share nothing in memory; they meet here. Any number
// of processes may use one store at once (SQLite: on one host; PostgreSQL:
// across hosts).
//
// Thread safety: every method may be called from any thread concurrently.
// Errors: Kind::not_found for unknown ids, Kind::conflict for a lost lease,
// Kind::unavailable when the storage cannot be used (disk full, locked too
// long, connection lost); nothing is half-written on error.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jobs/job.hpp"
#include "jobs/webhook_delivery.hpp"
#include "util/rate_limit.hpp"
#include "util/result.hpp"

namespace visor::jobs {

struct StoreOptions {
  // How long results stay after a job finishes, before they expire.
  std::chrono::seconds result_ttl{std::chrono::hours(24 * 7)};
  // Attempts per page; a page whose lease ran out this many times (the
  // worker crashed or hung) or that failed this many times becomes a page error.
  int max_attempts = 3;
  // How long an Idempotency-Key keeps naming the job it created.
  std::chrono::seconds idempotency_window{std::chrono::hours(24)};
  // The most the store may grow to, in bytes; 0 for no limit but the disk.
  // Writes past it fail as unavailable, like a full disk.
  std::int64_t max_bytes = 0;
};

struct LeaseRequest {
  std::string worker_id;  // for logs and diagnosis only
  std::int64_t now_ms = 0;
  std::chrono::milliseconds lease_duration{30000};
  int max_pages_in_flight_per_job = 8;
};

// A page of GET /ocr/jobs: newest first, optionally one status only.
struct ListQuery {
  // Only jobs whose effective status at `now_ms` is this one (a finished
  // job past its expiry counts as expired even before the sweeper ran).
  std::optional<JobStatus> status;
  std::int64_t now_ms = 0;
  // Only jobs older than this id (the last id of the previous page);
  // empty for the first page.
  std::string before_id;
  // Only this owner's jobs; every owner's when nullopt.
  std::optional<std::string> owner;
  int limit = 20;  // REQUIRES: > 0
};

struct JobList {
  std::vector<Job> jobs;
  // True when more jobs match after the last one returned.
  bool more = false;
};

// What an operator watches, read in one snapshot.
struct StoreStats {
  // Jobs per status as stored (expiry applied by the sweeper), indexed by
  // static_cast<std::size_t>(JobStatus).
  std::array<std::int64_t, kJobStatusCount> jobs_by_status{};
  // Pages queued for a worker (not leased, not done) of pending and running jobs.
  std::int64_t queued_pages = 0;
  // Submission time of the oldest job that still has queued pages; 0 when none.
  std::int64_t oldest_queued_submitted_at = 0;
  // Pages leased under a live lease: worker threads busy, fleet-wide.
  std::int64_t leased_pages = 0;
  // Worker threads of the processes with a live heartbeat, fleet-wide.
  std::int64_t live_worker_threads = 0;
};

// A worker process, as it registers itself (see register_worker).
struct WorkerRecord {
  std::string id;    // the node id "host:pid" its threads' lease owners start with
  std::string host;  // for operators
  int threads = 0;
  std::int64_t started_at = 0;
  // Silent for this long after a heartbeat, the worker is taken for dead:
  // it no longer counts as live, and maintenance gives its pages back.
  // Each worker says its own (--heartbeat-timeout), as only it knows how
  // often it beats.
  std::chrono::milliseconds heartbeat_timeout{10000};
};

// An open SSE stream, counted against the fleet-wide caps.
struct StreamSlotRequest {
  std::string slot_id;  // unique, chosen by the caller
  std::string node_id;  // the process holding it, which renews it
  // The API key's owner id; nullopt when keys are off (counted in the total only).
  std::optional<std::string> owner;
  int per_owner_limit = 0;  // 0: no limit of that kind
  int total_limit = 0;
  std::int64_t now_ms = 0;
  // How long the slot counts without a renewal (its node may have died).
  std::chrono::milliseconds ttl{20000};
};

enum class SlotAdmission { admitted, owner_full, total_full };

// Receives what other processes sharing the store change, as it happens.
// Best effort: notifications can be lost (the store's connection dropped),
// so listeners also poll; missed_changes() says when some may have been.
// Called on a thread of the store; must return quickly and not call back
// into the store on that thread.
class StoreListener {
 public:
  virtual ~StoreListener() = default;
  // Pages became runnable (a job was created, a page queued again).
  virtual void work_queued() {}
  // The job's progress or status changed; `stopped` when it was cancelled
  // or failed, so that its unfinished pages are nobody's any more.
  virtual void job_changed(std::string_view /*job_id*/, bool /*stopped*/) {}
  // Notifications may have been lost: re-read what matters.
  virtual void missed_changes() {}
};

// Keeps a listener subscribed; unsubscribes when destroyed, after which
// the listener is never called again.
class Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::function<void()> unsubscribe) : unsubscribe_(std::move(unsubscribe)) {}
  Subscription(Subscription&& other) noexcept : unsubscribe_(std::exchange(other.unsubscribe_, nullptr)) {}
  Subscription& operator=(Subscription&& other) noexcept {
    if (this != &other) {
      reset();
      unsubscribe_ = std::exchange(other.unsubscribe_, nullptr);
    }
    return *this;
  }
  ~Subscription() { reset(); }
  void reset() {
    if (unsubscribe_) std::exchange(unsubscribe_, nullptr)();
  }

 private:
  std::function<void()> unsubscribe_;
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  // Records the job, its document, one queued task per page to process
  // (pages_to_process) and, with an idempotency key, the key, in one
  // transaction; get_job then gives back its pages and document_pages. conflict when the key is
  // already recorded (a concurrent request won: look it up again);
  // too_many when its tenant's unfinished pages would pass
  // job.max_queued_pages_per_tenant (counted atomically with the insert,
  // across every process of the store).
  // REQUIRES: job.total_pages > 0, job.document non-null, page_indexes
  // empty or total_pages long.
  virtual Status create_job(const NewJob& job) = 0;

  // The job an earlier request created with (owner, key) within the
  // idempotency window; nullopt when there is none. conflict when that
  // request's fingerprint differs (the key was reused for other content).
  virtual Result<std::optional<std::string>> find_idempotent_job(std::string_view owner, std::string_view key,
                                                                 std::string_view fingerprint,
                                                                 std::int64_t now_ms) = 0;

  // Cancels a pending or running job: pages not finished are dropped (a
  // worker still on one loses its lease and its result is discarded), the
  // job becomes cancelled with `reason` and expires like a finished job.
  // No-op for a job already cancelled; conflict, naming the status, for
  // one that completed, failed or expired; not_found for unknown ids.
  virtual Status cancel_job(std::string_view job_id, std::string_view reason, std::int64_t now_ms) = 0;

  virtual Result<Job> get_job(std::string_view job_id) = 0;

  // The uploaded document. not_found once the job has expired.
  virtual Result<std::shared_ptr<const std::string>> read_document(std::string_view job_id) = 0;

  // One record per page, in page order. not_found once expired.
  virtual Result<std::vector<PageRecord>> read_pages(std::string_view job_id) = 0;

  // Leases the next runnable page: a queued page, or a leased one whose lease
  // has ended, of a pending or running job with fewer than
  // max_pages_in_flight_per_job live leases. Fair share first: the jobs of
  // the tenant with the fewest pages in flight (between equals, the tenant
  // whose last page was leased longest ago); within it the highest
  // priority, then the job with the fewest pages in flight, then the
  // oldest. Priority never ranks one tenant's jobs against another's. Marks the job running. A page whose
  // lease ended max_attempts times becomes a page error instead. The lease
  // token is unique: every renewal and result of the page is fenced by it.
  // Returns nullopt when nothing is runnable (on a store shared by many
  // claimers, also when every runnable job stayed held by other claims
  // through a few retries; callers look again later anyway).
  virtual Result<std::optional<PageTask>> lease_page(const LeaseRequest& request) = 0;

  // Extends a live lease; conflict when the lease was lost.
  virtual Status renew_lease(const PageTask& task, std::int64_t now_ms,
                             std::chrono::milliseconds lease_duration) = 0;

  // Stores a page's result (the API page shape, as JSON text) and, when it
  // is the last page, completes the job. conflict when the lease was lost
  // (the result is then discarded: another worker owns the page).
  virtual Status complete_page(const PageTask& task, std::string_view result_json,
                               std::string_view engine, std::int64_t now_ms) = 0;

  // Records a failed attempt. Before max_attempts the page is queued again;
  // at max_attempts it is finished as a page error carrying `error`.
  virtual Status fail_page(const PageTask& task, std::string_view error, std::int64_t now_ms) = 0;

  // Gives up the leases held by workers whose id starts with
  // `worker_prefix` (a worker process that died): each such page is queued
  // again, or, when its attempts are used up, finished as a page error
  // carrying `reason`. Returns how many leases were released.
  virtual Result<int> release_worker_leases(std::string_view worker_prefix, std::string_view reason,
                                            std::int64_t now_ms) = 0;

  // Queues again, without counting the attempt, the pages leased by workers
  // whose id starts with `worker_prefix`: for workers that died through no
  // fault of their page (their server was killed). Returns how many.
  virtual Result<int> return_worker_leases(std::string_view worker_prefix) = 0;

  // The distinct worker ids holding leases now (live or ended).
  virtual Result<std::vector<std::string>> lease_holders() = 0;

  // Fails the whole job (the document cannot be processed at all); pages not
  // finished are dropped. No-op for a job already finished.
  virtual Status fail_job(std::string_view job_id, std::string_view error, std::int64_t now_ms) = 0;

  // Marks finished jobs whose expiry has passed as expired and deletes their
  // documents and page results and the deliveries of expired jobs that are
  // no longer pending, and forgets idempotency keys older than the window.
  // Returns how many jobs expired.
  virtual Result<int> expire_jobs(std::int64_t now_ms) = 0;

  // Jobs newest first (by id, which sorts by submission time), at most
  // query.limit of them.
  virtual Result<JobList> list_jobs(const ListQuery& query) = 0;

  // Counters for metrics at `now_ms`; a few aggregate queries, no scan of
  // page results.
  virtual Result<StoreStats> stats(std::int64_t now_ms) = 0;

  // A cheap round trip that proves the storage answers (readiness checks).
  virtual Status ping() = 0;

  // --- Webhook outbox ------------------------------------------------------
  //
  // Jobs created with an active webhook subscription get a pending delivery
  // written in the transaction that ends them (job_event_name of their end:
  // completed by their last page, failed by fail_job, cancelled by
  // cancel_job), and, with `pages`, one for every page that finishes
  // (kPageCompletedEvent, page_index set), whether with a result or a page
  // error. Each is created due at once.

  // Leases the pending delivery due longest ago (next_attempt_at <= now_ms)
  // that no live lease holds, until now_ms + lease: nobody else gets it
  // meanwhile. nullopt when none is due.
  virtual Result<std::optional<WebhookDelivery>> claim_webhook_delivery(std::int64_t now_ms,
                                                                        std::chrono::milliseconds lease) = 0;

  // Records an attempt at a claimed delivery (fenced by its lease token):
  // attempts + 1, its payload, error and time, and its new state; a
  // pending one waits until attempt.retry_at. conflict when the lease was
  // lost (another holder may be delivering it).
  virtual Status record_webhook_attempt(const WebhookDelivery& claimed, const DeliveryAttempt& attempt) = 0;

  // The job's deliveries, oldest first (of one instant, pages in order
  // before the job's end). Deliveries outlive nothing: once
  // their job has expired, those no longer pending are forgotten by
  // expire_jobs (pending ones go on until delivered or given up).
  virtual Result<std::vector<WebhookDelivery>> list_webhook_deliveries(std::string_view job_id) = 0;

  // --- Workers -----------------------------------------------------------

  // Records a worker process as alive at `now_ms` (replacing an earlier
  // record of the same id).
  virtual Status register_worker(const WorkerRecord& worker, std::int64_t now_ms) = 0;

  // Records that the worker is alive at `now_ms`; not_found when its record
  // is gone (maintenance took it for dead): it should register again.
  virtual Status heartbeat(std::string_view worker_id, std::int64_t now_ms) = 0;

  // Forgets a worker that stops (its leases are not touched).
  virtual Status deregister_worker(std::string_view worker_id) = 0;

  // Forgets the workers silent at `now_ms` for at least their heartbeat
  // timeout and returns them (id and timeout), so the caller can release
  // their leases.
  virtual Result<std::vector<WorkerRecord>> remove_silent_workers(std::int64_t now_ms) = 0;

  // --- Shared limits and coordination -------------------------------------

  // Takes one token from `key`'s bucket under `rule`, shared by every
  // process of the store: nullopt when admitted, else how long until a token
  // would be there. REQUIRES: !rule.unlimited().
  virtual Result<std::optional<std::chrono::milliseconds>> take_token(std::string_view key,
                                                                     const util::TokenBucketRule& rule,
                                                                     std::int64_t now_ms) = 0;

  // Records an open stream unless its owner already holds per_owner_limit
  // live slots or the fleet total_limit. Slots whose ttl passed without a
  // renewal no longer count.
  virtual Result<SlotAdmission> open_stream_slot(const StreamSlotRequest& request) = 0;
  virtual Status close_stream_slot(std::string_view slot_id) = 0;
  // Extends every slot of `node_id` to now_ms + ttl.
  virtual Status renew_stream_slots(std::string_view node_id, std::int64_t now_ms,
                                    std::chrono::milliseconds ttl) = 0;

  // Takes, or keeps, the leadership named `name` for `holder` until
  // now_ms + ttl, when it is free, has lapsed or is already `holder`'s.
  // True when `holder` leads: periodic maintenance runs on one node at a
  // time this way, whichever nodes are alive.
  virtual Result<bool> hold_leadership(std::string_view name, std::string_view holder, std::int64_t now_ms,
                                       std::chrono::milliseconds ttl) = 0;

  // Forgets what only occupies space: stream slots past their ttl, rate
  // buckets that are full again.
  virtual Status forget_idle_state(std::int64_t now_ms) = 0;

  // --- Notifications -------------------------------------------------------

  // Whether subscribe() delivers changes made by other processes. When it
  // does not, callers must poll at the rate they need.
  virtual bool notifies() const { return false; }

  // Calls `listener` for changes until the subscription ends. REQUIRES:
  // `listener` outlives the subscription.
  virtual Subscription subscribe(StoreListener& /*listener*/) { return {}; }

  // Somebody follows these jobs' progress until `until_ms`: a store that
  // notifies announces each page they finish until then. Other jobs'
  // progress goes unannounced (announcing every page of every job costs a
  // shared store much of its throughput); that a job stopped is always
  // announced.
  virtual Status watch_progress(const std::vector<std::string>& /*job_ids*/, std::int64_t /*until_ms*/) {
    return {};
  }

  // The version of the schema the store holds now (0: none yet).
  virtual Result<int> schema_version() = 0;
};

}  // namespace visor::jobs

#pragma once
// The rules of a job's life that are not storage, shared by every JobStore
// implementation so that they behave alike and each adds only SQL: which
// statuses are active or finished, which stored jobs an effective-status
// filter keeps, when results and idempotency keys expire, when a page has
// used up its attempts and what its page error says, how much of a
// size-limited store new documents may fill, and the errors the stores
// return. Pure functions of their inputs.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "jobs/job.hpp"
#include "jobs/job_store.hpp"
#include "util/result.hpp"

namespace visor::jobs {

// Jobs whose pages workers may still take.
inline constexpr std::array<JobStatus, 2> kActiveStatuses{JobStatus::pending, JobStatus::running};
// Jobs to which nothing happens any more but expiry.
inline constexpr std::array<JobStatus, 3> kFinishedStatuses{JobStatus::completed, JobStatus::failed,
                                                            JobStatus::cancelled};

// "('completed', 'failed', 'cancelled')": the names as a SQL list, for
// `status IN ...` in either store's SQL.
std::string sql_status_list(std::span<const JobStatus> statuses);
// "'running'".
std::string sql_status(JobStatus status);

// The statuses as both stores' SQL spells them, built once from the names
// in job.cpp, so no status is written as a literal in a store.
struct StatusSql {
  std::string active = sql_status_list(kActiveStatuses);      // ('pending', 'running')
  std::string finished = sql_status_list(kFinishedStatuses);  // ('completed', 'failed', 'cancelled')
  std::string pending = sql_status(JobStatus::pending);
  std::string running = sql_status(JobStatus::running);
  std::string completed = sql_status(JobStatus::completed);
  std::string expired = sql_status(JobStatus::expired);
};
const StatusSql& status_sql();

// A SQL condition over the columns `status` and `expires_at` that keeps
// the jobs whose effective_status() at `now_ms` is `status` (a finished job
// past its expiry is expired before the sweeper has marked it); a condition
// that keeps every job for nullopt. Valid in SQLite and PostgreSQL alike.
std::string effective_status_condition(std::optional<JobStatus> status, std::int64_t now_ms);

class StorePolicy {
 public:
  explicit StorePolicy(StoreOptions options) : options_(options) {}
  const StoreOptions& options() const { return options_; }

  // When the results of a job finishing at `now_ms` expire.
  std::int64_t expiry_after(std::int64_t now_ms) const;
  // Idempotency keys recorded at or before this time no longer name a job.
  std::int64_t idempotency_cutoff(std::int64_t now_ms) const;

  // Whether a page whose attempt number `attempt` failed, or whose lease
  // ended, is finished as a page error rather than queued again.
  bool attempts_used_up(int attempt) const { return attempt >= options_.max_attempts; }
  // The page error of a page whose lease ended on each of its `attempts`
  // (its worker crashed or hung every time).
  static std::string lapsed_attempts_error(int attempts);

  // With a size limit (max_bytes), new documents may fill only 80 % of it:
  // the rest is kept for the page results of jobs already accepted, so a
  // full store still finishes its jobs, and they expire and free space in
  // turn. unavailable, naming --max-store-size, when `document_bytes` more
  // would not fit beside `used_bytes`.
  Status check_room_for(std::int64_t used_bytes, std::size_t document_bytes) const;

  // too_many, with a Retry-After, when `job` would take its tenant past
  // job.max_queued_pages_per_tenant beside the `queued` pages (queued or in
  // flight) its tenant has now.
  static Status check_tenant_queue(std::int64_t queued, const NewJob& job);

  // Whether a new stream slot fits beside `held_total` live slots in the
  // fleet, `held_by_owner` of them its owner's.
  static SlotAdmission slot_admission(const StreamSlotRequest& request, std::int64_t held_total,
                                      std::int64_t held_by_owner);

  // The errors stores answer with.
  static Error lost_lease(const PageTask& task);
  static Error lost_delivery_lease(const WebhookDelivery& delivery);
  static Error nothing_to_cancel(const Job& job);
  static Error idempotency_key_reused(std::string_view earlier_job_id);
  static Error job_not_found(std::string_view job_id);
  static Error document_gone(std::string_view job_id);
  static Error pages_gone(std::string_view job_id);

 private:
  StoreOptions options_;
};

}  // namespace visor::jobs

#include "jobs/store_policy.hpp"

namespace visor::jobs {
namespace {

std::int64_t milliseconds(std::chrono::milliseconds duration) { return duration.count(); }

}  // namespace

std::string sql_status(JobStatus status) { return "'" + std::string(status_name(status)) + "'"; }

std::string sql_status_list(std::span<const JobStatus> statuses) {
  std::string list = "(";
  for (const JobStatus status : statuses) list += (list.size() > 1 ? ", " : "") + sql_status(status);
  return list + ")";
}

const StatusSql& status_sql() {
  static const StatusSql names;
  return names;
}

std::string effective_status_condition(std::optional<JobStatus> status, std::int64_t now_ms) {
  if (!status) return "1 = 1";
  const std::string now = std::to_string(now_ms);
  switch (*status) {
    case JobStatus::pending:
    case JobStatus::running:
      return "status = " + sql_status(*status);
    case JobStatus::completed:
    case JobStatus::failed:
    case JobStatus::cancelled:
      return "(status = " + sql_status(*status) + " AND expires_at > " + now + ")";
    case JobStatus::expired:
      return "(status = " + sql_status(JobStatus::expired) + " OR (status IN " + sql_status_list(kFinishedStatuses) +
             " AND expires_at <= " + now + "))";
  }
  return "1 = 1";
}

std::int64_t StorePolicy::expiry_after(std::int64_t now_ms) const {
  return now_ms + milliseconds(options_.result_ttl);
}

std::int64_t StorePolicy::idempotency_cutoff(std::int64_t now_ms) const {
  return now_ms - milliseconds(options_.idempotency_window);
}

std::string StorePolicy::lapsed_attempts_error(int attempts) {
  return "Page processing did not finish after " + std::to_string(attempts) +
         " attempts (the worker crashed or ran out of time)";
}

Status StorePolicy::check_room_for(std::int64_t used_bytes, std::size_t document_bytes) const {
  constexpr std::int64_t kPercentForDocuments = 80;
  if (options_.max_bytes <= 0) return {};
  const std::int64_t allowed = options_.max_bytes / 100 * kPercentForDocuments;
  if (used_bytes + static_cast<std::int64_t>(document_bytes) <= allowed) return {};
  return Error::unavailable("The job store is full (" + std::to_string(used_bytes >> 10) + " KiB used of " +
                            std::to_string(options_.max_bytes >> 10) +
                            " KiB, --max-store-size): space returns as finished jobs expire");
}

SlotAdmission StorePolicy::slot_admission(const StreamSlotRequest& request, std::int64_t held_total,
                                          std::int64_t held_by_owner) {
  if (request.total_limit > 0 && held_total >= request.total_limit) return SlotAdmission::total_full;
  if (request.owner && request.per_owner_limit > 0 && held_by_owner >= request.per_owner_limit) {
    return SlotAdmission::owner_full;
  }
  return SlotAdmission::admitted;
}

Error StorePolicy::lost_lease(const PageTask& task) {
  return Error::conflict("The lease on page " + std::to_string(task.page_index) + " of job " + task.job_id +
                         " is no longer this worker's: the job was cancelled or has ended, or another worker took "
                         "the page over");
}

Status StorePolicy::check_tenant_queue(std::int64_t queued, const NewJob& job) {
  // Long enough for some of the queue to drain; a client retrying sooner only gets refused again.
  constexpr int kRetryAfterSeconds = 30;
  if (job.max_queued_pages_per_tenant <= 0 || queued + job.total_pages <= job.max_queued_pages_per_tenant) return {};
  return Error::too_many("This API key (or client, without keys) already has " + std::to_string(queued) +
                             " pages waiting or in progress; " + std::to_string(job.total_pages) +
                             " more would pass its limit of " + std::to_string(job.max_queued_pages_per_tenant) +
                             " (--max-queued-pages-per-key). Retry when some have finished",
                         kRetryAfterSeconds);
}

Error StorePolicy::lost_delivery_lease(const WebhookDelivery& delivery) {
  return Error::conflict("The lease on webhook delivery " + delivery.id + " of job " + delivery.job_id +
                         " ran out before its attempt was recorded; another node may be delivering it");
}

Error StorePolicy::nothing_to_cancel(const Job& job) {
  const std::string ended = job.status == JobStatus::expired ? std::string("expired")
                                                             : "ended as " + std::string(status_name(job.status));
  return Error::conflict("Job " + job.id + " has already " + ended + "; there is nothing to cancel");
}

Error StorePolicy::idempotency_key_reused(std::string_view earlier_job_id) {
  return Error::invalid_request("This Idempotency-Key was already used for a different request (job " +
                                std::string(earlier_job_id) +
                                "); use a new key for a new document or parameters");
}

Error StorePolicy::job_not_found(std::string_view job_id) {
  return Error::not_found("Job " + std::string(job_id) + " not found");
}

Error StorePolicy::document_gone(std::string_view job_id) {
  return Error::not_found("The document of job " + std::string(job_id) + " is no longer stored");
}

Error StorePolicy::pages_gone(std::string_view job_id) {
  return Error::not_found("No page results are stored for job " + std::string(job_id));
}

}  // namespace visor::jobs

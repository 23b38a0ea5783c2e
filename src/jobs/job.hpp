#pragma once
// The job model shared by the API, the workers and the stores.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace visor::jobs {

// New values go last: stats index arrays by the enum's value.
enum class JobStatus { pending, running, completed, failed, expired, cancelled };
inline constexpr std::size_t kJobStatusCount = 6;

std::string_view status_name(JobStatus status);
std::optional<JobStatus> parse_status(std::string_view name);

// How a job's pages rank among its tenant's other jobs: never against
// another tenant's (they share workers fairly whatever their priorities).
// Stored as its value: lower goes first.
enum class JobPriority { high = 0, normal = 1, low = 2 };
std::string_view priority_name(JobPriority priority);
std::optional<JobPriority> parse_priority(std::string_view name);  // "high", "normal", "low"
inline constexpr std::string_view kPriorityNames = "high, normal, low";

// Where a job's webhook events go (empty url: nowhere) and whether every
// finished page is announced, not only the job's end.
struct WebhookSubscription {
  std::string url;
  bool pages = false;

  bool active() const { return !url.empty(); }
};

// A job as stored. Timestamps are Unix milliseconds; 0 means "not yet".
struct Job {
  std::string id;        // "fc-" + ULID
  std::string owner;     // the API key that created it; empty when keys are off
  std::string filename;  // as uploaded; never used as a path
  std::string model;     // "dotsocr" | "lightonocr"
  int dpi = 200;
  int total_pages = 0;
  JobStatus status = JobStatus::pending;
  int pages_done = 0;  // pages finished, successfully or with a page error
  std::string error;   // why the job failed or was cancelled
  std::int64_t submitted_at = 0;
  std::int64_t started_at = 0;
  std::int64_t completed_at = 0;  // completion or failure time
  std::int64_t expires_at = 0;    // when results are deleted; 0 while unfinished
  std::string ocr_mode = "auto";  // "auto" | "ocr" | "text": how its pages are read
  // The pages asked for, canonical and 1-based ("2-3,7", util/page_selection.hpp);
  // empty when every page is. total_pages counts the selected pages.
  std::string pages;
  // Pages in the uploaded document; 0 for jobs stored before it was kept
  // (they selected every page, so it equals total_pages).
  int document_pages = 0;
  WebhookSubscription webhook;
  // Who the job's pages are shared out for (workers serve tenants in
  // turn): its API key's owner id, or "addr <client address>" without keys.
  std::string tenant;
  JobPriority priority = JobPriority::normal;

  int document_page_count() const { return document_pages > 0 ? document_pages : total_pages; }

  // Nothing more will happen to it but expiry.
  bool finished() const {
    return status == JobStatus::completed || status == JobStatus::failed || status == JobStatus::cancelled;
  }
};

// The status a reader must report at `now`: a finished job past its expiry
// is expired even before the retention sweeper has deleted its results.
JobStatus effective_status(const Job& job, std::int64_t now_ms);

// Everything needed to create a job; the document bytes are stored with it.
struct NewJob {
  std::string id;
  std::string owner;
  std::string filename;
  std::string model;
  int dpi = 200;
  int total_pages = 0;  // pages to process: page_indexes.size() when given
  std::string ocr_mode = "auto";
  // The document pages to process, 0-based, ascending, unique, each below
  // document_pages; empty: every page, 0..total_pages-1.
  std::vector<int> page_indexes;
  std::string pages;  // their canonical text (Job::pages); empty for every page
  int document_pages = 0;
  std::int64_t submitted_at = 0;
  std::shared_ptr<const std::string> document;
  // With a non-empty key, the store remembers (owner, key) -> this job for
  // the idempotency window; `fingerprint` identifies the request's content.
  std::string idempotency_key;
  std::string fingerprint;
  WebhookSubscription webhook;
  std::string tenant;  // Job::tenant
  JobPriority priority = JobPriority::normal;
  // Refuse the job (too_many) when its tenant would then have more than
  // this many pages queued or in flight; 0 for no limit.
  int max_queued_pages_per_tenant = 0;
};

// The page indexes a store creates tasks for: job.page_indexes, or every
// page when it is empty.
std::vector<int> pages_to_process(const NewJob& job);

// A page leased to one worker. The lease token proves ownership: results
// and renewals from a worker whose lease was taken over are refused.
struct PageTask {
  std::string job_id;
  int page_index = 0;
  int attempt = 1;  // 1 for the first try
  std::string lease_token;
  std::string model;
  int dpi = 200;
  std::string ocr_mode = "auto";
};

// A page's stored outcome, in the API's page shape.
struct PageRecord {
  int page_index = 0;
  bool finished = false;
  std::string result_json;  // {"status":"success","data":...} or {"status":"error","error":...}
  std::string engine;       // which engine produced it
};

// "fc-" followed by a ULID.
std::string new_job_id(std::int64_t now_ms);
bool is_valid_job_id(std::string_view id);

}  // namespace visor::jobs

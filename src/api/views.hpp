#pragma once
// The JSON bodies of the API, built from stored jobs. Pure functions: the
// same inputs always give the same body, so tests can check them directly.
// Field names and values follow ../shared/seed/JOB_QUEUE_API.md.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobs/job.hpp"
#include "jobs/webhook_delivery.hpp"

namespace visor::api {

// Bodies keep their fields in the seed's order, which is easier to read
// than alphabetical order.
using Json = nlohmann::ordered_json;

// "Job results have expired (>7 days old)" for a TTL of 7 days.
std::string expired_message(std::chrono::seconds result_ttl);

// Reply to POST /ocr/submit.
Json submit_body(const jobs::Job& job);

// Reply to GET /ocr/status/{id}; `status` is the effective status.
Json status_body(const jobs::Job& job, jobs::JobStatus status, std::chrono::seconds result_ttl);

// The "webhook" object of a status body: {"url", "pages", "deliveries":
// [{"id", "event", "page_index" (page events), "state", "attempts",
// "last_error", "last_attempt_at", "next_attempt_at", "delivered_at"}]}.
Json webhook_object(const jobs::WebhookSubscription& webhook, const std::vector<jobs::WebhookDelivery>& deliveries);

// One page in the API's page shape; unfinished pages are page errors.
Json page_object(const jobs::PageRecord& page);

// page_object() of each page, in page order, running headers and footers
// marked across the document: what results_object() keys by page.
std::vector<Json> page_objects(const std::vector<jobs::PageRecord>& pages);

// {"page_0": {...}, "page_1": {...}} in page order; unfinished pages are
// reported as page errors (only reachable for failed jobs).
Json results_object(const std::vector<jobs::PageRecord>& pages);

// {"filename", "dpi", "engine", "submitted_at", "completed_at"}.
Json metadata_object(const jobs::Job& job, const std::vector<jobs::PageRecord>& pages);

// One entry of GET /ocr/jobs: what a job list shows, without results.
Json job_summary(const jobs::Job& job, jobs::JobStatus status);

// 200 body of GET /ocr/result for a completed job.
Json result_body(const jobs::Job& job, const std::vector<jobs::PageRecord>& pages,
                           Json annotated_images);

// 202 body while pending or running.
Json result_pending_body(const jobs::Job& job, jobs::JobStatus status);
// 404 body once expired.
Json result_expired_body(const jobs::Job& job, std::chrono::seconds result_ttl);
// 422 body for a failed job, 409 body for a cancelled one.
Json result_failed_body(const jobs::Job& job);

// SSE event payloads.
Json sse_status_event(const jobs::Job& job, jobs::JobStatus status, std::int64_t elapsed_seconds);
Json sse_result_event(const jobs::Job& job, const std::vector<jobs::PageRecord>& pages);
// The opt-in `page` event (?pages=true): one finished page.
Json sse_page_event(const jobs::Job& job, const jobs::PageRecord& page);
// `status` is "error", or "cancelled" for a cancelled job.
Json sse_error_event(const std::string& job_id, const std::string& error, std::string_view status = "error");
Json sse_timeout_event(const std::string& job_id, std::chrono::seconds limit);
// The `timeout` event that ends streams when the server shuts down.
Json sse_shutdown_event(const std::string& job_id);
Json sse_close_event();

}  // namespace visor::api

#include "api/views.hpp"

#include "jobs/page_result.hpp"
#include "ocr/running_margins.hpp"
#include "util/duration.hpp"
#include "util/page_selection.hpp"
#include "util/time.hpp"

namespace visor::api {
namespace {

using json = Json;

json progress_object(const jobs::Job& job) {
  return {{"pages_done", job.pages_done}, {"total_pages", job.total_pages}};
}

// The pages the job processes, as canonical 1-based ranges, and how many
// the document has.
void add_page_selection(json& body, const jobs::Job& job) {
  body["pages"] = job.pages.empty() ? util::PageSelection::all(job.document_page_count()).text() : job.pages;
  body["document_pages"] = job.document_page_count();
}

json optional_time(std::int64_t unix_ms) {
  return unix_ms == 0 ? json(nullptr) : json(util::format_iso8601(unix_ms));
}

std::string status_message(const jobs::Job& job, jobs::JobStatus status, std::chrono::seconds result_ttl) {
  switch (status) {
    case jobs::JobStatus::pending: return "Job is queued and waiting for a worker";
    case jobs::JobStatus::running: return "Job is currently being processed";
    case jobs::JobStatus::completed: return "Job completed successfully";
    case jobs::JobStatus::failed: return "Job failed: " + job.error;
    case jobs::JobStatus::expired: return expired_message(result_ttl);
    case jobs::JobStatus::cancelled: return job.error;
  }
  return "";
}

// The embedded engine judges running headers and footers over the whole
// document once its pages are together (ocr/running_margins.hpp): applied
// to the data of the successful pages it produced.
void mark_running_margins(const std::vector<jobs::PageRecord>& pages, std::vector<json>& objects) {
  std::vector<nlohmann::json> data(pages.size());
  std::vector<nlohmann::json*> marked(pages.size(), nullptr);
  for (std::size_t i = 0; i < pages.size(); ++i) {
    const json& object = objects[i];
    if (!jobs::is_page_success(object) || !ocr::marks_running_margins(pages[i].engine)) continue;
    data[i] = nlohmann::json(object["data"]);
    marked[i] = &data[i];
  }
  ocr::mark_running_margins(marked);
  for (std::size_t i = 0; i < pages.size(); ++i) {
    if (marked[i] != nullptr) objects[i]["data"] = json(data[i]);
  }
}

}  // namespace

std::string expired_message(std::chrono::seconds result_ttl) {
  return "Job results have expired (>" + util::describe_duration(result_ttl) + " old)";
}

json submit_body(const jobs::Job& job) {
  json body = {{"success", true},
          {"job_id", job.id},
          {"filename", job.filename},
          {"total_pages", job.total_pages},
          {"model", job.model},
          {"dpi", job.dpi},
          {"ocr_mode", job.ocr_mode},
          {"priority", jobs::priority_name(job.priority)},
          {"message",
           "Job submitted successfully. Use /ocr/status/{job_id} to check status or /ocr/stream/{job_id} for "
           "real-time updates."},
          {"submitted_at", util::format_iso8601(job.submitted_at)}};
  add_page_selection(body, job);
  return body;
}

json status_body(const jobs::Job& job, jobs::JobStatus status, std::chrono::seconds result_ttl) {
  json body = {{"job_id", job.id},
               {"status", jobs::status_name(status)},
               {"progress", progress_object(job)},
               {"message", status_message(job, status, result_ttl)},
               {"model", job.model},
               {"filename", job.filename},
               {"dpi", job.dpi},
               {"ocr_mode", job.ocr_mode},
               {"priority", jobs::priority_name(job.priority)},
               {"total_pages", job.total_pages},
               {"submitted_at", util::format_iso8601(job.submitted_at)},
               {"started_at", optional_time(job.started_at)},
               {"completed_at", optional_time(job.completed_at)}};
  add_page_selection(body, job);
  if (status == jobs::JobStatus::failed || status == jobs::JobStatus::cancelled) body["error"] = job.error;
  return body;
}

json webhook_object(const jobs::WebhookSubscription& webhook, const std::vector<jobs::WebhookDelivery>& deliveries) {
  json list = json::array();
  for (const auto& delivery : deliveries) {
    const bool pending = delivery.state == jobs::DeliveryState::pending;
    json entry = {{"id", delivery.id}, {"event", delivery.event}};
    if (delivery.page_index >= 0) entry["page_index"] = delivery.page_index;
    entry["state"] = jobs::delivery_state_name(delivery.state);
    entry["attempts"] = delivery.attempts;
    entry["last_error"] = delivery.last_error.empty() ? json(nullptr) : json(delivery.last_error);
    entry["last_attempt_at"] = optional_time(delivery.last_attempt_at);
    entry["next_attempt_at"] = pending ? optional_time(delivery.next_attempt_at) : json(nullptr);
    entry["delivered_at"] = optional_time(delivery.delivered_at);
    list.push_back(std::move(entry));
  }
  return {{"url", webhook.url}, {"pages", webhook.pages}, {"deliveries", std::move(list)}};
}

json page_object(const jobs::PageRecord& page) {
  if (!page.finished) return jobs::page_error("The page was not processed");
  json value = json::parse(page.result_json, nullptr, false);
  if (value.is_discarded()) return jobs::page_error("The stored page result is unreadable");
  return value;
}

std::vector<json> page_objects(const std::vector<jobs::PageRecord>& pages) {
  std::vector<json> objects;
  for (const auto& page : pages) objects.push_back(page_object(page));
  mark_running_margins(pages, objects);
  return objects;
}

json results_object(const std::vector<jobs::PageRecord>& pages) {
  std::vector<json> objects = page_objects(pages);
  json results = json::object();
  for (std::size_t i = 0; i < pages.size(); ++i) {
    results["page_" + std::to_string(pages[i].page_index)] = std::move(objects[i]);
  }
  return results;
}

// "engine" keeps its seed meaning (the engine of the first page that has
// one); "engines" lists every engine that made a page, in page order, since
// an auto job may read some pages from their text layer and OCR others.
json metadata_object(const jobs::Job& job, const std::vector<jobs::PageRecord>& pages) {
  json engines = json::array();
  for (const auto& page : pages) {
    if (page.engine.empty() || std::find(engines.begin(), engines.end(), page.engine) != engines.end()) continue;
    engines.push_back(page.engine);
  }
  json metadata = {{"filename", job.filename},
                   {"dpi", job.dpi},
                   {"ocr_mode", job.ocr_mode},
                   {"engine", engines.empty() ? std::string() : engines.front().get<std::string>()},
                   {"engines", std::move(engines)},
                   {"submitted_at", util::format_iso8601(job.submitted_at)},
                   {"completed_at", optional_time(job.completed_at)}};
  add_page_selection(metadata, job);
  return metadata;
}

json job_summary(const jobs::Job& job, jobs::JobStatus status) {
  json summary = {{"job_id", job.id},
                  {"status", jobs::status_name(status)},
                  {"filename", job.filename},
                  {"model", job.model},
                  {"dpi", job.dpi},
                  {"ocr_mode", job.ocr_mode},
                  {"priority", jobs::priority_name(job.priority)},
                  {"total_pages", job.total_pages},
                  {"progress", progress_object(job)},
                  {"submitted_at", util::format_iso8601(job.submitted_at)},
                  {"started_at", optional_time(job.started_at)},
                  {"completed_at", optional_time(job.completed_at)}};
  add_page_selection(summary, job);
  if (status == jobs::JobStatus::failed || status == jobs::JobStatus::cancelled) summary["error"] = job.error;
  return summary;
}

json result_body(const jobs::Job& job, const std::vector<jobs::PageRecord>& pages, json annotated_images) {
  json body = {{"success", true},
          {"job_id", job.id},
          {"status", "completed"},
          {"filename", job.filename},
          {"total_pages", job.total_pages},
          {"dpi", job.dpi},
          {"model", job.model},
          {"ocr_mode", job.ocr_mode},
          {"results", results_object(pages)},
          {"annotated_images", std::move(annotated_images)},
          {"metadata", metadata_object(job, pages)},
          {"message", "Job completed successfully"},
          {"completed_at", optional_time(job.completed_at)}};
  add_page_selection(body, job);
  return body;
}

json result_pending_body(const jobs::Job& job, jobs::JobStatus status) {
  return {{"success", false},
          {"job_id", job.id},
          {"status", jobs::status_name(status)},
          {"progress", progress_object(job)},
          {"message", "Job is still being processed. Please try again later."}};
}

json result_expired_body(const jobs::Job& job, std::chrono::seconds result_ttl) {
  return {{"success", false}, {"job_id", job.id}, {"status", "expired"}, {"message", expired_message(result_ttl)}};
}

json result_failed_body(const jobs::Job& job) {
  const bool cancelled = job.status == jobs::JobStatus::cancelled;
  return {{"success", false},
          {"job_id", job.id},
          {"status", cancelled ? "cancelled" : "failed"},
          {"error", job.error},
          {"message", cancelled ? job.error : "Job failed: " + job.error}};
}

json sse_status_event(const jobs::Job& job, jobs::JobStatus status, std::int64_t elapsed_seconds) {
  return {{"status", jobs::status_name(status)},
          {"job_id", job.id},
          {"elapsed", elapsed_seconds},
          {"progress", progress_object(job)}};
}

json sse_result_event(const jobs::Job& job, const std::vector<jobs::PageRecord>& pages) {
  return {{"job_id", job.id},
          {"status", "completed"},
          {"total_pages", job.total_pages},
          {"model", job.model},
          {"results", results_object(pages)},
          {"metadata", metadata_object(job, pages)}};
}

json sse_page_event(const jobs::Job& job, const jobs::PageRecord& page) {
  return {{"job_id", job.id},
          {"page_index", page.page_index},
          {"total_pages", job.total_pages},
          {"model", job.model},
          {"result", page_object(page)}};
}

json sse_error_event(const std::string& job_id, const std::string& error, std::string_view status) {
  return {{"status", status}, {"job_id", job_id}, {"error", error}};
}

json sse_timeout_event(const std::string& job_id, std::chrono::seconds limit) {
  return {{"status", "timeout"},
          {"job_id", job_id},
          {"message", "Job still running after " + util::describe_duration(limit)}};
}

json sse_shutdown_event(const std::string& job_id) {
  return {{"status", "timeout"},
          {"job_id", job_id},
          {"message", "The server is shutting down; the job goes on, reconnect to keep following it"}};
}

json sse_close_event() { return {{"message", "Stream complete"}}; }

}  // namespace visor::api

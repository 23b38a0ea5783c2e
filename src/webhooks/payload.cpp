#include "webhooks/payload.hpp"

#include <nlohmann/json.hpp>

#include "jobs/page_result.hpp"
#include "util/time.hpp"

namespace visor::webhooks {
namespace {

using Json = nlohmann::ordered_json;

bool is_page_error(const jobs::PageRecord& page) {
  return !jobs::is_page_success(jobs::PageJson::parse(page.result_json, nullptr, false));
}

Json links(const jobs::Job& job, std::string_view public_url) {
  std::string base(public_url);
  while (base.ends_with('/')) base.pop_back();
  Json downloads = Json::object();
  for (const char* format : {"pdf", "md", "txt", "json"}) {
    downloads[format] = base + "/ocr/download/" + job.id + "/" + format;
  }
  return {{"status", base + "/ocr/status/" + job.id},
          {"result", base + "/ocr/result/" + job.id},
          {"downloads", std::move(downloads)}};
}

}  // namespace

std::string delivery_payload(const jobs::WebhookDelivery& delivery, const jobs::Job& job,
                             const std::vector<jobs::PageRecord>& pages, std::string_view public_url) {
  Json data = {{"job_id", job.id},
               {"status", jobs::status_name(job.status)},
               {"filename", job.filename},
               {"model", job.model},
               {"total_pages", job.total_pages},
               {"pages_done", job.pages_done}};
  if (!pages.empty()) {
    int errors = 0;
    for (const auto& page : pages) errors += page.finished && is_page_error(page) ? 1 : 0;
    data["page_errors"] = errors;
  }
  if (job.status == jobs::JobStatus::failed || job.status == jobs::JobStatus::cancelled) data["error"] = job.error;
  if (delivery.page_index >= 0) {
    data["page_index"] = delivery.page_index;
    for (const auto& page : pages) {
      if (page.page_index == delivery.page_index && page.finished) {
        data["page_status"] = is_page_error(page) ? "error" : "success";
      }
    }
  }
  data["links"] = links(job, public_url);
  const Json body = {{"type", delivery.event},
                     {"timestamp", util::format_iso8601(delivery.created_at)},
                     {"data", std::move(data)}};
  return body.dump();
}

}  // namespace visor::webhooks

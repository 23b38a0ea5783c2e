#pragma once
// The body of a webhook delivery, in the Standard Webhooks shape:
//
//   {"type": "job.completed", "timestamp": "2026-12-07T10:00:00.000Z",
//    "data": {"job_id", "status", "filename", "model", "total_pages",
//             "pages_done", "page_errors", "error" (failed, cancelled),
//             "page_index", "page_status" (page events),
//             "links": {"status", "result", "downloads": {"pdf", "md", "txt", "json"}}}}
//
// It names the job and what happened, with links to fetch the rest; it
// never carries the results themselves. Pure.

#include <string>
#include <string_view>
#include <vector>

#include "jobs/job.hpp"
#include "jobs/webhook_delivery.hpp"

namespace visor::webhooks {

// `pages` are the job's page records, for the counts of page errors and
// the page's status; empty once they expired (both are then left out).
// Links are absolute under `public_url` ("https://ocr.example.com"), or
// paths when it is empty.
std::string delivery_payload(const jobs::WebhookDelivery& delivery, const jobs::Job& job,
                             const std::vector<jobs::PageRecord>& pages, std::string_view public_url);

}  // namespace visor::webhooks

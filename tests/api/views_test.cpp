#include <gtest/gtest.h>

#include "api/annotate.hpp"
#include "api/views.hpp"

namespace visor::api {
namespace {

using namespace std::chrono_literals;
using json = Json;

jobs::Job completed_job() {
  jobs::Job job;
  job.id = "fc-01JCFZ8X000000000000000000";
  job.filename = "document.pdf";
  job.model = "dotsocr";
  job.dpi = 200;
  job.total_pages = 2;
  job.status = jobs::JobStatus::completed;
  job.pages_done = 2;
  job.submitted_at = 1762425000000;
  job.started_at = 1762425001000;
  job.completed_at = 1762425300000;
  job.expires_at = job.completed_at + 7 * 86400000LL;
  return job;
}

std::vector<jobs::PageRecord> two_pages() {
  return {{0, true, R"({"status":"success","data":[{"bbox":[1,2,3,4],"category":"Title","text":"T"}]})", "tess"},
          {1, true, R"({"status":"error","error":"render failed"})", ""}};
}

TEST(ViewsTest, ExpiredMessageNamesTheRetention) {
  EXPECT_EQ(expired_message(7 * 24h), "Job results have expired (>7 days old)");
  EXPECT_EQ(expired_message(3s), "Job results have expired (>3 seconds old)");
}

TEST(ViewsTest, SubmitBodyHasTheSeedFields) {
  const json body = submit_body(completed_job());
  EXPECT_EQ(body["success"], true);
  EXPECT_EQ(body["job_id"], "fc-01JCFZ8X000000000000000000");
  EXPECT_EQ(body["total_pages"], 2);
  EXPECT_EQ(body["model"], "dotsocr");
  EXPECT_EQ(body["dpi"], 200);
  EXPECT_EQ(body["submitted_at"], "2025-11-06T10:30:00.000Z");
  EXPECT_TRUE(body["message"].get<std::string>().starts_with("Job submitted successfully."));
}

TEST(ViewsTest, StatusBodyCarriesProgressAndFailureReason) {
  jobs::Job job = completed_job();
  job.status = jobs::JobStatus::failed;
  job.error = "The PDF is damaged";
  const json body = status_body(job, jobs::JobStatus::failed, 7 * 24h);
  EXPECT_EQ(body["status"], "failed");
  EXPECT_EQ(body["progress"], json({{"pages_done", 2}, {"total_pages", 2}}));
  EXPECT_EQ(body["error"], "The PDF is damaged");
  EXPECT_FALSE(status_body(completed_job(), jobs::JobStatus::completed, 7 * 24h).contains("error"));
}

TEST(ViewsTest, ResultsAreKeyedByPageInOrderWithPageErrorsKept) {
  const json results = results_object(two_pages());
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results["page_0"]["status"], "success");
  EXPECT_EQ(results["page_0"]["data"][0]["category"], "Title");
  EXPECT_EQ(results["page_1"], json({{"status", "error"}, {"error", "render failed"}}));
}

TEST(ViewsTest, EmbeddedEnginePagesGetTheirRunningHeadersMarked) {
  // The same short text at the top of both pages: a running header, for the
  // embedded engine's pages; a remote model's output is passed on as it is.
  const auto page = [](int index, const char* engine) {
    return jobs::PageRecord{index, true,
                            R"({"status":"success","data":[{"bbox":[100,300,900,900],"category":"Text","text":"Body"},)"
                            R"({"bbox":[100,180,900,205],"category":"Text","text":"Annual Report"}]})",
                            engine};
  };
  const json embedded = results_object({page(0, "tesseract 5.3.0"), page(1, "tesseract 5.3.0")});
  EXPECT_EQ(embedded["page_1"]["data"][0]["category"], "Page-header");
  EXPECT_EQ(embedded["page_1"]["data"][0]["text"], "Annual Report");
  const json remote = results_object({page(0, "rednote-hilab/dots.ocr"), page(1, "rednote-hilab/dots.ocr")});
  EXPECT_EQ(remote["page_1"]["data"][1]["category"], "Text");
}

TEST(ViewsTest, UnfinishedPageOfAFailedJobIsReportedAsAnError) {
  const json results = results_object({{0, false, "", ""}});
  EXPECT_EQ(results["page_0"]["status"], "error");
}

TEST(ViewsTest, ResultBodyAndSseResultCarryMetadata) {
  const json body = result_body(completed_job(), two_pages(), json::array());
  EXPECT_EQ(body["status"], "completed");
  EXPECT_EQ(body["annotated_images"], json::array());
  EXPECT_EQ(body["metadata"]["engine"], "tess");
  EXPECT_EQ(body["completed_at"], "2025-11-06T10:35:00.000Z");
  const json event = sse_result_event(completed_job(), two_pages());
  EXPECT_EQ(event["metadata"]["filename"], "document.pdf");
  EXPECT_EQ(event["metadata"]["dpi"], 200);
  EXPECT_EQ(event["total_pages"], 2);
}

TEST(ViewsTest, ExpiredAndFailedResultBodiesFollowTheContract) {
  EXPECT_EQ(result_expired_body(completed_job(), 7 * 24h),
            json({{"success", false},
                  {"job_id", "fc-01JCFZ8X000000000000000000"},
                  {"status", "expired"},
                  {"message", "Job results have expired (>7 days old)"}}));
  jobs::Job failed = completed_job();
  failed.error = "boom";
  const json body = result_failed_body(failed);
  EXPECT_EQ(body["success"], false);
  EXPECT_EQ(body["status"], "failed");
  EXPECT_EQ(body["error"], "boom");
  jobs::Job cancelled = completed_job();
  cancelled.status = jobs::JobStatus::cancelled;
  cancelled.error = "Job cancelled at the client's request";
  EXPECT_EQ(result_failed_body(cancelled)["status"], "cancelled");
  EXPECT_EQ(result_failed_body(cancelled)["message"], cancelled.error);
  EXPECT_EQ(status_body(cancelled, jobs::JobStatus::cancelled, 7 * 24h)["error"], cancelled.error);
}

TEST(ViewsTest, SseEventsHaveTheSeedShapes) {
  const json status = sse_status_event(completed_job(), jobs::JobStatus::running, 15);
  EXPECT_EQ(status["status"], "running");
  EXPECT_EQ(status["elapsed"], 15);
  EXPECT_EQ(status["progress"]["total_pages"], 2);
  EXPECT_EQ(sse_timeout_event("fc-1", 600s)["message"], "Job still running after 10 minutes");
  EXPECT_EQ(sse_error_event("fc-1", "x"), json({{"status", "error"}, {"job_id", "fc-1"}, {"error", "x"}}));
  EXPECT_EQ(sse_close_event(), json({{"message", "Stream complete"}}));
  EXPECT_EQ(sse_error_event("fc-1", "stop", "cancelled")["status"], "cancelled");
  EXPECT_EQ(sse_shutdown_event("fc-1")["status"], "timeout");
}

TEST(AnnotateTest, BoxesTakeTheirCategoryColourAndSkipMalformedElements) {
  const json elements = json::parse(R"([
    {"bbox": [10, 20, 110, 60], "category": "Title", "text": "x"},
    {"bbox": [1, 2, 3], "category": "Text"},
    {"category": "Text"},
    {"bbox": [5, 5, 50, 50], "category": "Picture"},
    {"bbox": [5, 5, 50, 50], "category": "Mystery"}])");
  const auto boxes = annotations_for_page(elements);
  ASSERT_EQ(boxes.size(), 3u);
  EXPECT_EQ(boxes[0].x2, 110);
  EXPECT_EQ(boxes[0].rgb, 0xFF0000u);
  EXPECT_EQ(boxes[0].label, "Title");
  EXPECT_EQ(boxes[1].rgb, 0x00FFFFu);
  EXPECT_EQ(boxes[2].rgb, 0xFFFFFFu);
}

TEST(AnnotateTest, OutlineIsFourPixelsAt200Dpi) {
  EXPECT_EQ(outline_width_for(200), 4);
  EXPECT_EQ(outline_width_for(600), 12);
  EXPECT_EQ(outline_width_for(72), 1);
}

}  // namespace
}  // namespace visor::api

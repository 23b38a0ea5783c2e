#include <gtest/gtest.h>

#include "client/api_requests.hpp"
#include "client/backoff.hpp"

namespace visor::client {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

net::HttpReply reply(long status, std::string body) {
  net::HttpReply out;
  out.status = status;
  out.body = std::move(body);
  return out;
}

const Server kServer{"http://visor:8003", ""};

TEST(ApiRequestsTest, SubmitSendsOnlyTheParametersGivenEscaped) {
  const auto request = submit_request(kServer, {}, "a.pdf", "%PDF", "key-1");
  EXPECT_EQ(request.url, "http://visor:8003/ocr/submit");
  EXPECT_EQ(request.method, "POST");
  ASSERT_EQ(request.form.size(), 1U);
  EXPECT_EQ(request.form[0].name, "file");
  EXPECT_EQ(request.form[0].filename, "a.pdf");
  EXPECT_EQ(request.form[0].value, "%PDF");

  JobParameters parameters;
  parameters.model = "lightonocr";
  parameters.pages = "1-3,7";
  EXPECT_EQ(submit_request(kServer, parameters, "a.pdf", "", "k").url,
            "http://visor:8003/ocr/submit?model=lightonocr&pages=1-3%2C7");
}

TEST(ApiRequestsTest, DownloadAndStreamRoutes) {
  EXPECT_EQ(download_request(kServer, "fc-1", OutputFormat::searchable_pdf).url,
            "http://visor:8003/ocr/download/fc-1/pdf");
  EXPECT_EQ(download_request(kServer, "fc-1", OutputFormat::markdown).url, "http://visor:8003/ocr/download/fc-1/md");
  const auto stream = stream_request({"http://visor", "secret"}, "fc-1", "p:0-2");
  EXPECT_EQ(stream.url, "http://visor/ocr/stream/fc-1");
  EXPECT_EQ(stream.timeout.count(), 0);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"Authorization", "Bearer secret"}, {"Accept", "text/event-stream"}, {"Last-Event-ID", "p:0-2"}};
  EXPECT_EQ(stream.headers, expected);
}

TEST(ApiRequestsTest, RefusalMessageIsTheServersWords) {
  EXPECT_EQ(refusal_message(reply(400, R"({"detail":"The file is empty"})")), "The file is empty (HTTP 400)");
  // GET /ocr/result-style bodies: the error rather than the generic message.
  EXPECT_EQ(refusal_message(reply(422, R"({"success":false,"error":"No pages","message":"Job failed: No pages"})")),
            "No pages (HTTP 422)");
  EXPECT_EQ(refusal_message(reply(404, R"({"status":"expired","message":"Job results have expired"})")),
            "Job results have expired (HTTP 404)");
  EXPECT_EQ(refusal_message(reply(502, "<html>Bad gateway</html>\n")), "<html>Bad gateway</html> (HTTP 502)");
  EXPECT_EQ(refusal_message(reply(500, "")), "The server answered (HTTP 500)");
}

TEST(ApiRequestsTest, SubmittedJobNeedsAJobId) {
  const auto job = read_submitted_job(reply(200, R"({"job_id":"fc-1","total_pages":3})"));
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->job_id, "fc-1");
  EXPECT_EQ(job->total_pages, 3);
  EXPECT_FALSE(read_submitted_job(reply(200, "{}")).ok());
}

TEST(ApiRequestsTest, TemporaryRefusalsAndRetryAfter) {
  EXPECT_TRUE(is_temporary_refusal(503));
  EXPECT_TRUE(is_temporary_refusal(429));
  EXPECT_FALSE(is_temporary_refusal(400));
  EXPECT_FALSE(is_temporary_refusal(404));
  auto busy = reply(503, "");
  EXPECT_FALSE(retry_after(busy));
  busy.headers.emplace_back("retry-after", "7");
  EXPECT_EQ(retry_after(busy), seconds(7));
}

TEST(BackoffTest, DoublesUpToTheMaximumThenGivesUpAfterTheWindow) {
  Backoff backoff({milliseconds(100), milliseconds(300), milliseconds(1000)});
  const auto start = Backoff::Clock::now();
  EXPECT_EQ(backoff.after_failure(start), milliseconds(100));
  EXPECT_EQ(backoff.after_failure(start + milliseconds(100)), milliseconds(200));
  EXPECT_EQ(backoff.after_failure(start + milliseconds(300)), milliseconds(300));
  EXPECT_EQ(backoff.after_failure(start + milliseconds(600)), milliseconds(300));
  EXPECT_FALSE(backoff.after_failure(start + milliseconds(900)));
}

TEST(BackoffTest, SuccessStartsAfresh) {
  Backoff backoff({milliseconds(100), milliseconds(300), milliseconds(1000)});
  const auto start = Backoff::Clock::now();
  backoff.after_failure(start);
  backoff.after_failure(start + milliseconds(900));
  backoff.after_success();
  EXPECT_EQ(backoff.after_failure(start + milliseconds(5000)), milliseconds(100));
}

TEST(BackoffTest, RetryAfterReplacesTheDelayWithinTheWindow) {
  Backoff backoff({milliseconds(100), milliseconds(300), milliseconds(10000)});
  const auto start = Backoff::Clock::now();
  EXPECT_EQ(backoff.after_failure(start, seconds(2)), milliseconds(2000));
  EXPECT_FALSE(backoff.after_failure(start + milliseconds(2000), seconds(9)));
}

}  // namespace
}  // namespace visor::client

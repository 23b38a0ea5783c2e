#include <gtest/gtest.h>

#include "client/job_events.hpp"

namespace visor::client {
namespace {

StreamUpdate read(const std::string& event, const std::string& data) { return read_stream_event({"p:", event, data}); }

TEST(JobEventsTest, StatusEventGivesTheProgress) {
  const auto update =
      read("status", R"({"status":"running","job_id":"fc-1","elapsed":3,"progress":{"pages_done":2,"total_pages":5}})");
  EXPECT_EQ(update.kind, StreamUpdate::Kind::progress);
  EXPECT_EQ(update.progress, (JobProgress{"running", 2, 5}));
}

TEST(JobEventsTest, ResultEventCompletesTheJobWithoutReadingItsResults) {
  EXPECT_EQ(read("result", "{not even json").kind, StreamUpdate::Kind::completed);
}

TEST(JobEventsTest, ErrorEventFailsTheJobWithTheServersReason) {
  const auto failed = read("error", R"({"status":"error","job_id":"fc-1","error":"The document has no pages"})");
  EXPECT_EQ(failed.kind, StreamUpdate::Kind::failed);
  EXPECT_EQ(failed.message, "The document has no pages");
  const auto cancelled = read("error", R"({"status":"cancelled","job_id":"fc-1"})");
  EXPECT_EQ(cancelled.kind, StreamUpdate::Kind::failed);
  EXPECT_EQ(cancelled.message, "the job ended with status 'cancelled'");
}

TEST(JobEventsTest, TimeoutCloseAndOthers) {
  const auto timeout = read("timeout", R"({"status":"timeout","message":"The server is shutting down"})");
  EXPECT_EQ(timeout.kind, StreamUpdate::Kind::timeout);
  EXPECT_EQ(timeout.message, "The server is shutting down");
  EXPECT_EQ(read("close", "").kind, StreamUpdate::Kind::closed);
  EXPECT_EQ(read("page", R"({"page_index":0})").kind, StreamUpdate::Kind::ignored);
  EXPECT_EQ(read("status", "garbage").kind, StreamUpdate::Kind::ignored);
}

}  // namespace
}  // namespace visor::client

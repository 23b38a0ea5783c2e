#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "client/job_follower.hpp"

namespace visor::client {
namespace {

// One connection of a scripted server: the body in pieces, then the end
// of the response, or a transport error instead of a reply.
struct Connection {
  long status = 200;
  std::vector<std::string> pieces;
  std::optional<Error> error;  // after the pieces
  std::vector<std::pair<std::string, std::string>> headers;
};

Connection answered(std::vector<std::string> pieces) { return {200, std::move(pieces), std::nullopt, {}}; }

Connection dropped(std::vector<std::string> pieces, Error error) {
  return {200, std::move(pieces), std::move(error), {}};
}

Connection refused(long status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
  return {status, {std::move(body)}, std::nullopt, std::move(headers)};
}

class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<Connection> script) : script_(std::move(script)) {}

  Transport transport() {
    return [this](const net::HttpRequest& request) -> Result<net::HttpReply> {
      requests_.push_back(request);
      if (next_ >= script_.size()) return Error::unavailable("the script has no more connections");
      const Connection& connection = script_[next_++];
      for (const auto& piece : connection.pieces) {
        if (!request.on_body(piece)) return Error::conflict("ended by its reader");
      }
      if (connection.error) return *connection.error;
      net::HttpReply reply;
      reply.status = connection.status;
      reply.headers = connection.headers;
      return reply;
    };
  }

  // The Last-Event-ID header of request `i`; "" when absent.
  std::string last_event_id(std::size_t i) const {
    for (const auto& [name, value] : requests_.at(i).headers) {
      if (name == "Last-Event-ID") return value;
    }
    return {};
  }
  std::size_t requests() const { return requests_.size(); }
  const net::HttpRequest& request(std::size_t i) const { return requests_.at(i); }

 private:
  std::vector<Connection> script_;
  std::size_t next_ = 0;
  std::vector<net::HttpRequest> requests_;
};

std::string event(const std::string& id, const std::string& name, const std::string& data) {
  return "id: " + id + "\nevent: " + name + "\ndata: " + data + "\n\n";
}

std::string status_event(const std::string& id, const std::string& status, int done, int total) {
  return event(id, "status",
               R"({"status":")" + status + R"(","job_id":"fc-1","elapsed":0,"progress":{"pages_done":)" +
                   std::to_string(done) + R"(,"total_pages":)" + std::to_string(total) + "}}");
}

const std::string kResult = event("end", "result", R"({"job_id":"fc-1","status":"completed","results":{}})");
const std::string kClose = event("end", "close", R"({"message":"Stream complete"})");

FollowPolicy quick_policy() {
  FollowPolicy policy;
  policy.reconnect = {std::chrono::milliseconds(1), std::chrono::milliseconds(2), std::chrono::milliseconds(500)};
  return policy;
}

struct Followed {
  Status status;
  std::vector<JobProgress> progress;
  std::vector<std::string> reconnects;
};

Followed follow(ScriptedServer& server, FollowPolicy policy = quick_policy()) {
  Followed out;
  FollowCallbacks callbacks;
  callbacks.on_progress = [&](const JobProgress& p) { out.progress.push_back(p); };
  callbacks.on_reconnect = [&](const std::string& why) { out.reconnects.push_back(why); };
  out.status = follow_job(server.transport(), {"http://visor", "key-0123456789abcdef"}, "fc-1", policy, callbacks);
  return out;
}

TEST(JobFollowerTest, CompletedJobEndsOkWithItsProgress) {
  ScriptedServer server(
      {answered({status_event("p:", "pending", 0, 2) + status_event("p:", "running", 1, 2), kResult + kClose})});
  const auto followed = follow(server);
  EXPECT_TRUE(followed.status.ok());
  ASSERT_EQ(followed.progress.size(), 2U);
  EXPECT_EQ(followed.progress[1], (JobProgress{"running", 1, 2}));
  EXPECT_TRUE(followed.reconnects.empty());
  ASSERT_EQ(server.requests(), 1U);
  EXPECT_EQ(server.request(0).url, "http://visor/ocr/stream/fc-1");
  EXPECT_EQ(server.last_event_id(0), "");
  EXPECT_GT(server.request(0).idle_timeout.count(), 0);
}

TEST(JobFollowerTest, FailedJobEndsWithTheServersReason) {
  ScriptedServer server(
      {answered({event("end", "error", R"({"status":"error","job_id":"fc-1","error":"No pages"})"), kClose})});
  const auto followed = follow(server);
  ASSERT_FALSE(followed.status.ok());
  EXPECT_EQ(followed.status.error().kind, Error::Kind::conflict);
  EXPECT_EQ(followed.status.error().message, "No pages");
}

TEST(JobFollowerTest, DroppedStreamResumesFromTheLastEventId) {
  ScriptedServer server({
      dropped({status_event("p:0", "running", 1, 3), "id: p:0-1\nevent: st"}, Error::unavailable("connection reset")),
      answered({status_event("p:0-1", "running", 2, 3), kResult, kClose}),
  });
  const auto followed = follow(server);
  EXPECT_TRUE(followed.status.ok());
  ASSERT_EQ(server.requests(), 2U);
  // The id of the event cut short was read, so it is where the stream resumes.
  EXPECT_EQ(server.last_event_id(1), "p:0-1");
  ASSERT_EQ(followed.reconnects.size(), 1U);
  EXPECT_NE(followed.reconnects[0].find("connection reset"), std::string::npos);
}

TEST(JobFollowerTest, ServerTimeoutEventIsFollowedByAReconnection) {
  const std::string timeout =
      event("p:", "timeout", R"({"status":"timeout","job_id":"fc-1","message":"The server is shutting down"})");
  ScriptedServer server({
      answered({status_event("p:", "running", 0, 1), timeout, event("p:", "close", "{}")}),
      answered({kResult, kClose}),
  });
  const auto followed = follow(server);
  EXPECT_TRUE(followed.status.ok());
  EXPECT_EQ(server.last_event_id(1), "p:");
  ASSERT_EQ(followed.reconnects.size(), 1U);
  EXPECT_NE(followed.reconnects[0].find("shutting down"), std::string::npos);
}

TEST(JobFollowerTest, StreamEndingWithoutAFinalEventIsResumed) {
  ScriptedServer server({answered({status_event("p:", "running", 0, 1)}), answered({kResult})});
  EXPECT_TRUE(follow(server).status.ok());
  EXPECT_EQ(server.requests(), 2U);
}

TEST(JobFollowerTest, ResumingAfterALostFinalEventStartsOver) {
  // The cursor "end" was read but the result event was cut: resuming from
  // it would only get `close`.
  ScriptedServer server({dropped({"id: end\nevent: result\ndata: {\"job"}, Error::unavailable("reset")),
                         answered({kResult, kClose})});
  EXPECT_TRUE(follow(server).status.ok());
  EXPECT_EQ(server.last_event_id(1), "");
}

TEST(JobFollowerTest, UnreachableServerIsRetriedThenGivenUp) {
  ScriptedServer server({});
  const auto followed = follow(server);
  ASSERT_FALSE(followed.status.ok());
  EXPECT_EQ(followed.status.error().kind, Error::Kind::unavailable);
  EXPECT_NE(followed.status.error().message.find("could not resume"), std::string::npos);
  EXPECT_GT(server.requests(), 3U);
}

TEST(JobFollowerTest, BusyServerIsRetried) {
  ScriptedServer server(
      {refused(503, R"({"detail":"Too many streams"})", {{"retry-after", "0"}}), answered({kResult})});
  const auto followed = follow(server);
  EXPECT_TRUE(followed.status.ok());
  ASSERT_EQ(followed.reconnects.size(), 1U);
  EXPECT_EQ(followed.reconnects[0], "Too many streams (HTTP 503)");
}

TEST(JobFollowerTest, UnknownJobIsNotRetried) {
  ScriptedServer server({refused(404, R"({"detail":"Job fc-1 not found"})")});
  const auto followed = follow(server);
  ASSERT_FALSE(followed.status.ok());
  EXPECT_EQ(followed.status.error().message, "Job fc-1 not found (HTTP 404)");
  EXPECT_EQ(server.requests(), 1U);
}

TEST(JobFollowerTest, SendsTheApiKey) {
  ScriptedServer server({answered({kResult})});
  ASSERT_TRUE(follow(server).status.ok());
  const auto& headers = server.request(0).headers;
  EXPECT_NE(std::find(headers.begin(), headers.end(),
                      std::pair<std::string, std::string>{"Authorization", "Bearer key-0123456789abcdef"}),
            headers.end());
}

}  // namespace
}  // namespace visor::client

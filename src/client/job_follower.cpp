#include "client/job_follower.hpp"

#include <optional>
#include <thread>

#include "client/sse_parser.hpp"

namespace visor::client {
namespace {

// A body kept from each response, enough for an error body's message.
constexpr std::size_t kKeptBodyBytes = 16 * 1024;

// The cursor the server gives the final event; resuming from it gets only `close`.
constexpr std::string_view kFinalCursor = "end";

// What one connection to the stream came to.
struct Attempt {
  std::optional<Status> job_end;  // the job's final event arrived
  bool received_events = false;
  std::string last_event_id;
  std::string why_dropped;                     // when the job did not end
  bool may_retry = true;                       // false: the server refused the stream for good
  std::optional<std::chrono::seconds> wait;    // the server's Retry-After
};

Attempt read_stream_once(const Transport& transport, const Server& server, const std::string& job_id,
                         const std::string& last_event_id, const FollowPolicy& policy,
                         const FollowCallbacks& callbacks) {
  Attempt attempt;
  SseParser parser(last_event_id);
  std::string kept_body;
  std::string timeout_message;
  net::HttpRequest request = stream_request(server, job_id, last_event_id);
  request.idle_timeout = policy.idle_timeout;
  request.on_body = [&](std::string_view piece) {
    if (kept_body.size() < kKeptBodyBytes) kept_body.append(piece.substr(0, kKeptBodyBytes - kept_body.size()));
    for (const SseEvent& event : parser.feed(piece)) {
      attempt.received_events = true;
      const StreamUpdate update = read_stream_event(event);
      switch (update.kind) {
        case StreamUpdate::Kind::progress:
          if (callbacks.on_progress) callbacks.on_progress(update.progress);
          break;
        case StreamUpdate::Kind::completed: attempt.job_end = Status(); break;
        case StreamUpdate::Kind::failed: attempt.job_end = Error::conflict(update.message); break;
        case StreamUpdate::Kind::timeout: timeout_message = update.message; break;
        case StreamUpdate::Kind::closed:
        case StreamUpdate::Kind::ignored: break;
      }
    }
    return true;
  };
  auto reply = transport(request);
  attempt.last_event_id = parser.last_event_id();
  if (attempt.job_end) return attempt;
  if (!reply) {
    attempt.why_dropped = reply.error().message;
    attempt.may_retry = is_temporary_failure(reply.error());
  } else if (reply->status != 200) {
    reply->body = std::move(kept_body);
    attempt.why_dropped = refusal_message(*reply);
    attempt.may_retry = is_temporary_refusal(reply->status);
    attempt.wait = retry_after(*reply);
  } else if (!timeout_message.empty()) {
    attempt.why_dropped = "the server ended the stream: " + timeout_message;
  } else {
    attempt.why_dropped = "the stream ended before the job did";
  }
  return attempt;
}

}  // namespace

Status follow_job(const Transport& transport, const Server& server, const std::string& job_id,
                  const FollowPolicy& policy, const FollowCallbacks& callbacks) {
  Backoff backoff(policy.reconnect);
  std::string last_event_id;
  for (;;) {
    Attempt attempt = read_stream_once(transport, server, job_id, last_event_id, policy, callbacks);
    if (attempt.job_end) return std::move(*attempt.job_end);
    if (!attempt.may_retry) return Error::conflict(attempt.why_dropped);
    // A stream resumed after the final event sends only `close`; if that
    // event was lost on the way, start over to be sent it again.
    last_event_id = attempt.last_event_id == kFinalCursor ? std::string() : attempt.last_event_id;
    if (attempt.received_events) backoff.after_success();
    const auto delay = backoff.after_failure(Backoff::Clock::now(), attempt.wait);
    if (!delay) {
      return Error::unavailable("Lost the job's event stream and could not resume it: " + attempt.why_dropped);
    }
    if (callbacks.on_reconnect) callbacks.on_reconnect(attempt.why_dropped);
    std::this_thread::sleep_for(*delay);
  }
}

}  // namespace visor::client

#pragma once
// Follows one job over GET /ocr/stream/{job_id} until it ends, reconnecting
// when the stream drops.

#include <chrono>
#include <functional>
#include <string>

#include "client/api_requests.hpp"
#include "client/backoff.hpp"
#include "client/job_events.hpp"
#include "util/result.hpp"

namespace visor::client {

struct FollowPolicy {
  // A stream that delivers nothing for this long is taken for dead (the
  // server sends a status event at least every 2 s).
  std::chrono::milliseconds idle_timeout{30000};
  // Waits between reconnections, and how long they may go on failing.
  RetryPolicy reconnect;
};

struct FollowCallbacks {
  // Each `status` event's progress (heartbeats repeat it unchanged).
  std::function<void(const JobProgress&)> on_progress;
  // Before waiting to reconnect: why the stream ended.
  std::function<void(const std::string& why)> on_reconnect;
};

// Returns when the job ended: ok when it completed; an error (conflict)
// with the server's reason when it failed, was cancelled or expired, or
// the stream was refused (404 for a job the server does not know, 401);
// unavailable when the stream could not be resumed within
// policy.reconnect.window. The stream drops when the connection fails or
// goes idle, the server ends it with a `timeout` event (its --sse-timeout,
// or its shutdown), or it ends before a final event; each reconnection
// sends Last-Event-ID with the last event id received, so no page event
// comes twice, after a short backoff (or the server's Retry-After).
// Blocks the calling thread; calls the callbacks on it.
Status follow_job(const Transport& transport, const Server& server, const std::string& job_id,
                  const FollowPolicy& policy, const FollowCallbacks& callbacks);

}  // namespace visor::client

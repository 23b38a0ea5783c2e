#pragma once
// What the events of GET /ocr/stream/{job_id} say about a job (the API's
// event names and payloads: README "GET /ocr/stream"). Pure; no I/O.

#include <string>

#include "client/sse_parser.hpp"

namespace visor::client {

struct JobProgress {
  std::string status;  // "pending", "running", ... as the server names it
  int pages_done = 0;
  int total_pages = 0;

  bool operator==(const JobProgress&) const = default;
};

struct StreamUpdate {
  enum class Kind {
    progress,   // a `status` event: `progress` holds it
    completed,  // `result`: the job's results are ready
    failed,     // `error`: the job failed, was cancelled or expired; `message` says why
    timeout,    // `timeout`: the server ends the stream but the job goes on; `message` says why
    closed,     // `close`: the server ends the response
    ignored,    // any other event, or one whose data is not the JSON expected
  };
  Kind kind = Kind::ignored;
  JobProgress progress;
  std::string message;
};

StreamUpdate read_stream_event(const SseEvent& event);

}  // namespace visor::client

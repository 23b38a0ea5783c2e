#pragma once
// One record per HTTP request. In text format it is a debug line of the
// shared logger (stderr); in json format it is one JSON object per line on
// stdout, for log shippers:
//   {"ts":"2026-11-28T10:30:00.000Z","event":"http.request","method":"GET",
//    "route":"/ocr/status/{job_id}","path":"/ocr/status/fc-...","status":200,
//    "ms":3,"job_id":"fc-..."}
// job_id is present when the request names or creates a job.
// Thread-safe; lines never interleave.

#include <cstdint>
#include <string>
#include <string_view>

namespace visor::api {

enum class LogFormat { text, json };

struct RequestRecord {
  std::string_view method;
  std::string_view route;  // the route template (router.hpp route_name)
  std::string_view path;
  unsigned status = 0;
  std::int64_t ms = 0;
  std::string_view job_id;
};

// The JSON line (with its final line feed) for a record at `unix_ms`.
std::string format_request_json(const RequestRecord& record, std::int64_t unix_ms);

void log_request(LogFormat format, const RequestRecord& record);

}  // namespace visor::api

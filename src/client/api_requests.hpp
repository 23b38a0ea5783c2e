#pragma once
// The HTTP API as the client calls it: the requests for submitting a file,
// following its job and downloading its outputs, and what their replies
// mean. Pure; the caller performs the requests.

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "client/output_files.hpp"
#include "net/http_client.hpp"
#include "util/result.hpp"

namespace visor::client {

// Performs one request: HttpClient::perform, or a test's script.
using Transport = std::function<Result<net::HttpReply>(const net::HttpRequest&)>;

struct Server {
  std::string url;      // "http://host:port", no trailing slash
  std::string api_key;  // empty: none sent
};

// The query parameters of POST /ocr/submit; each is sent only when set, so
// the server's defaults apply otherwise.
struct JobParameters {
  std::optional<std::string> model;
  std::optional<std::string> dpi;
  std::optional<std::string> ocr_mode;
  std::optional<std::string> pages;
};

struct SubmittedJob {
  std::string job_id;
  int total_pages = 0;
};

// POST /ocr/submit with `bytes` as the form field `file` named `filename`.
// `idempotency_key` makes a retry of the same submit return the same job.
net::HttpRequest submit_request(const Server& server, const JobParameters& parameters, const std::string& filename,
                                std::string bytes, const std::string& idempotency_key);

// GET /ocr/stream/{job_id}, resuming after `last_event_id` when not empty.
net::HttpRequest stream_request(const Server& server, const std::string& job_id, const std::string& last_event_id);

// GET /ocr/download/{job_id}/{format}.
net::HttpRequest download_request(const Server& server, const std::string& job_id, OutputFormat format);

// The job of a 200 submit reply; bad_input when the body has no job id.
Result<SubmittedJob> read_submitted_job(const net::HttpReply& reply);

// Why the server refused a request, in its words: the body's `error`,
// else `detail`, else `message`, else the start of the body, else the
// status, always followed by " (HTTP <status>)".
std::string refusal_message(const net::HttpReply& reply);

// Whether the same request may succeed later: 429, 502, 503, 504.
bool is_temporary_refusal(long status);

// The reply's Retry-After in seconds, when it has one.
std::optional<std::chrono::seconds> retry_after(const net::HttpReply& reply);

// Whether a request that failed with `error` (no reply) may succeed later:
// the server was unreachable, the connection dropped or went quiet.
bool is_temporary_failure(const Error& error);

}  // namespace visor::client

#include "client/api_requests.hpp"

#include <cctype>

#include <nlohmann/json.hpp>

#include "util/percent_encoding.hpp"

namespace visor::client {
namespace {

using json = nlohmann::json;

void add_query(std::string& url, const char* name, const std::optional<std::string>& value) {
  if (!value) return;
  url += url.find('?') == std::string::npos ? '?' : '&';
  url += name;
  url += '=';
  url += util::percent_encode(*value);
}

net::HttpRequest request_to(const Server& server, std::string path) {
  net::HttpRequest request;
  request.url = server.url + path;
  if (!server.api_key.empty()) request.headers.emplace_back("Authorization", net::bearer_header_value(server.api_key));
  return request;
}

}  // namespace

net::HttpRequest submit_request(const Server& server, const JobParameters& parameters, const std::string& filename,
                                std::string bytes, const std::string& idempotency_key) {
  std::string path = "/ocr/submit";
  add_query(path, "model", parameters.model);
  add_query(path, "dpi", parameters.dpi);
  add_query(path, "ocr_mode", parameters.ocr_mode);
  add_query(path, "pages", parameters.pages);
  net::HttpRequest request = request_to(server, std::move(path));
  request.method = "POST";
  request.headers.emplace_back("Idempotency-Key", idempotency_key);
  request.form.push_back({"file", std::move(bytes), filename, "application/octet-stream"});
  // The server reads the upload before it answers (up to its
  // --document-timeout), after an upload that may be large.
  request.timeout = std::chrono::minutes(10);
  return request;
}

net::HttpRequest stream_request(const Server& server, const std::string& job_id, const std::string& last_event_id) {
  net::HttpRequest request = request_to(server, "/ocr/stream/" + util::percent_encode(job_id));
  request.headers.emplace_back("Accept", "text/event-stream");
  if (!last_event_id.empty()) request.headers.emplace_back("Last-Event-ID", last_event_id);
  request.timeout = std::chrono::milliseconds(0);
  return request;
}

net::HttpRequest download_request(const Server& server, const std::string& job_id, OutputFormat format) {
  net::HttpRequest request =
      request_to(server, "/ocr/download/" + util::percent_encode(job_id) + "/" + std::string(format_name(format)));
  // A searchable PDF of a long document is made while the client waits.
  request.timeout = std::chrono::minutes(10);
  return request;
}

Result<SubmittedJob> read_submitted_job(const net::HttpReply& reply) {
  const json body = json::parse(reply.body, nullptr, false);
  if (!body.is_object() || !body.contains("job_id") || !body["job_id"].is_string()) {
    return Error::bad_input("The server's reply to the upload names no job: " + reply.body.substr(0, 200));
  }
  SubmittedJob job{body["job_id"].get<std::string>(), 0};
  if (const auto pages = body.find("total_pages"); pages != body.end() && pages->is_number_integer()) {
    job.total_pages = pages->get<int>();
  }
  return job;
}

std::string refusal_message(const net::HttpReply& reply) {
  const std::string status = "(HTTP " + std::to_string(reply.status) + ")";
  const json body = json::parse(reply.body, nullptr, false);
  if (body.is_object()) {
    for (const char* field : {"error", "detail", "message"}) {
      const auto it = body.find(field);
      if (it == body.end() || it->is_null()) continue;
      return (it->is_string() ? it->get<std::string>() : it->dump()) + " " + status;
    }
  }
  constexpr std::size_t kLongest = 200;
  std::string start = reply.body.substr(0, kLongest);
  while (!start.empty() && std::isspace(static_cast<unsigned char>(start.back()))) start.pop_back();
  return start.empty() ? "The server answered " + status : start + " " + status;
}

bool is_temporary_refusal(long status) { return status == 429 || status == 502 || status == 503 || status == 504; }

std::optional<std::chrono::seconds> retry_after(const net::HttpReply& reply) {
  const auto seconds = reply.retry_after();
  if (!seconds || *seconds > std::chrono::hours(1)) return std::nullopt;
  return seconds;
}

bool is_temporary_failure(const Error& error) {
  return error.kind == Error::Kind::unavailable || error.kind == Error::Kind::timeout;
}

}  // namespace visor::client

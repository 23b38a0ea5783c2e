#pragma once
// A blocking HTTP client over libcurl, the only code that calls curl_*:
// the remote model engines' requests, webhook deliveries and the
// command-line client's uploads and streams. One client per thread; it
// keeps connections alive between requests.
//
// Errors: unavailable when the server cannot be reached or the connection
// drops, timeout when the request runs out of time (or, with an
// idle_timeout, receives nothing for that long), conflict when `stop` was
// requested or on_body asked to stop (the transfer ends within about a
// second of a stop, its connection closed, or its stream reset on HTTP/2),
// bad_input for a URL that is not http or https, or a peer address that
// vet_address refused (its reason is the message). HTTP error statuses are
// not errors: the reply carries them. Redirects are never followed.

#include <chrono>
#include <cstddef>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/socket.h>

#include "util/result.hpp"

namespace visor::net {

// One part of a multipart/form-data body.
struct FormField {
  std::string name;
  std::string value;         // the bytes
  std::string filename;      // non-empty: sent as a file of this name
  std::string content_type;  // empty: libcurl's default
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  // Sent as given ("Name", "value"); names are case-insensitive.
  std::vector<std::pair<std::string, std::string>> headers;
  // The body of a request whose form is empty; sent for POST and PUT.
  std::string body;
  // Non-empty: the body is multipart/form-data of these parts.
  std::vector<FormField> form;
  // The whole transfer; zero for no limit (a stream, bounded by idle_timeout).
  std::chrono::milliseconds timeout{30000};
  // Zero: none. Otherwise a transfer that receives nothing for this long ends.
  std::chrono::milliseconds idle_timeout{0};
  std::chrono::milliseconds connect_timeout{5000};
  // The body is kept up to this many bytes; the rest is not read
  // (reply.truncated) and the transfer ends there without an error.
  std::size_t max_response_bytes = std::numeric_limits<std::size_t>::max();
  // Set: each piece of the body goes here as it arrives instead of into
  // reply.body; returning false ends the transfer (an error of kind conflict).
  std::function<bool(std::string_view)> on_body;
  // Set: asked with the address of every connection before it is made;
  // a reason refuses it (the error's message says it).
  std::function<std::optional<std::string>(const sockaddr& address)> vet_address;
  std::stop_token stop;
};

struct HttpReply {
  long status = 0;
  std::string body;
  bool truncated = false;  // the body was longer than max_response_bytes
  // Every response header, names lower-cased, in arrival order.
  std::vector<std::pair<std::string, std::string>> headers;

  // The last value of header `name` (lower case); empty when absent.
  std::string header(std::string_view name) const;
  // Retry-After in its delta-seconds form (a whole number, 0 or more);
  // nullopt when absent or otherwise written. Callers bound it as they need.
  std::optional<std::chrono::seconds> retry_after() const;
};

class HttpClient {
 public:
  HttpClient();  // throws std::runtime_error when curl cannot start
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Result<HttpReply> perform(const HttpRequest& request);

  // A JSON POST with an optional bearer token, as the model servers take.
  Result<HttpReply> post_json(const std::string& url, const std::string& body, const std::string& bearer_token,
                              std::chrono::milliseconds timeout, std::stop_token stop = {});
  Result<HttpReply> get(const std::string& url, const std::string& bearer_token, std::chrono::milliseconds timeout,
                        std::stop_token stop = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The value of "Authorization" for a bearer token.
std::string bearer_header_value(std::string_view token);

}  // namespace visor::net

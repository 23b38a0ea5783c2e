#pragma once
// A blocking HTTP client over libcurl, the only code that calls curl_*.
// One client per thread; it keeps connections alive between requests.
// Errors: unavailable when the server cannot be reached or the connection
// drops, timeout when the request runs out of time, conflict when `stop` was
// requested (the transfer ends within about a second of it, its connection
// closed, or its stream reset on HTTP/2). HTTP error statuses are not
// errors: the reply carries them.

#include <chrono>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace visor::ocr::remote {

struct HttpReply {
  long status = 0;
  std::string body;
  std::string retry_after;  // the Retry-After header, if any
};

class HttpClient {
 public:
  HttpClient();  // throws std::runtime_error when curl cannot start
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Result<HttpReply> post_json(const std::string& url, const std::string& body, const std::string& bearer_token,
                              std::chrono::milliseconds timeout, std::stop_token stop = {});
  Result<HttpReply> get(const std::string& url, const std::string& bearer_token, std::chrono::milliseconds timeout,
                        std::stop_token stop = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace visor::ocr::remote

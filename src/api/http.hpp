#pragma once
// HTTP helpers shared by the handlers: responses with JSON bodies, the one
// mapping from Error kinds to status codes, CORS, request targets.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "util/result.hpp"

namespace visor::api {

namespace http = boost::beast::http;
using Response = http::response<http::string_body>;

// The status code for an error crossing into HTTP: bad_input 400,
// invalid_request 422, too_large 413, not_found 404, conflict 409, unavailable 503, timeout 504,
// internal 500, unauthenticated 401, too_many 429.
http::status status_for(const Error& error);

// Fields keep their insertion order (ordered_json), as the seed shows them.
Response json_response(http::status status, const nlohmann::ordered_json& body);
// FastAPI's error shape: {"detail": "..."}.
Response error_response(http::status status, std::string_view detail);
// With Retry-After when the error says when to retry, and
// WWW-Authenticate: Bearer for 401.
Response error_response(const Error& error);

// Lets pages from any origin call the API and read its headers (the seed's
// example page is served from another port). Applied to every response.
void add_cors_headers(http::fields& fields);
Response preflight_response(std::string_view requested_headers);

// The path and the decoded query parameters of a request target.
struct Target {
  std::string path;
  std::map<std::string, std::string, std::less<>> query;

  std::optional<std::string_view> param(std::string_view name) const;
};
Target parse_target(std::string_view target);

// FastAPI's boolean query values: true/1/yes/on and false/0/no/off.
std::optional<bool> parse_bool(std::string_view text);

}  // namespace visor::api

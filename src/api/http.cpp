#include "api/http.hpp"

#include "util/text.hpp"

namespace visor::api {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding: %XX and '+' for space.
std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

http::status status_for(const Error& error) {
  switch (error.kind) {
    case Error::Kind::bad_input: return http::status::bad_request;
    case Error::Kind::invalid_request: return http::status::unprocessable_entity;
    case Error::Kind::too_large: return http::status::payload_too_large;
    case Error::Kind::not_found: return http::status::not_found;
    case Error::Kind::conflict: return http::status::conflict;
    case Error::Kind::unavailable: return http::status::service_unavailable;
    case Error::Kind::timeout: return http::status::gateway_timeout;
    case Error::Kind::internal: return http::status::internal_server_error;
    case Error::Kind::unauthenticated: return http::status::unauthorized;
    case Error::Kind::too_many: return http::status::too_many_requests;
  }
  return http::status::internal_server_error;
}

Response json_response(http::status status, const nlohmann::ordered_json& body) {
  Response response(status, 11);
  response.set(http::field::content_type, "application/json");
  response.body() = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  response.prepare_payload();
  return response;
}

Response error_response(http::status status, std::string_view detail) {
  return json_response(status, {{"detail", detail}});
}

Response error_response(const Error& error) {
  // Every 503 says when to come back; a dependency that could not say
  // (a locked SQLite file) gets the usual few seconds.
  constexpr int kUnavailableRetryAfterSeconds = 5;
  Response response = error_response(status_for(error), error.message);
  const int retry_after = error.retry_after_s > 0                  ? error.retry_after_s
                          : error.kind == Error::Kind::unavailable ? kUnavailableRetryAfterSeconds
                                                                   : 0;
  if (retry_after > 0) response.set(http::field::retry_after, std::to_string(retry_after));
  // RFC 9110: a 401 names the scheme the client should use.
  if (error.kind == Error::Kind::unauthenticated) response.set(http::field::www_authenticate, "Bearer");
  return response;
}

void add_cors_headers(http::fields& fields) {
  fields.set(http::field::access_control_allow_origin, "*");
  fields.set(http::field::access_control_expose_headers, "Deprecation, Retry-After, Content-Disposition, WWW-Authenticate");
}

Response preflight_response(std::string_view requested_headers) {
  Response response(http::status::no_content, 11);
  response.set(http::field::access_control_allow_methods, "GET, POST, DELETE, OPTIONS");
  response.set(http::field::access_control_allow_headers,
               requested_headers.empty() ? "Authorization, Content-Type, Last-Event-ID, Idempotency-Key"
                                         : requested_headers);
  response.set(http::field::access_control_max_age, "600");
  response.prepare_payload();
  return response;
}

std::optional<std::string_view> Target::param(std::string_view name) const {
  const auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return std::string_view(it->second);
}

Target parse_target(std::string_view target) {
  Target out;
  const auto question = target.find('?');
  out.path = percent_decode(target.substr(0, question));
  if (question == std::string_view::npos) return out;
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    std::string key = percent_decode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    // The first occurrence wins, as in FastAPI for scalar parameters.
    if (!key.empty()) out.query.emplace(std::move(key), std::move(value));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

std::optional<bool> parse_bool(std::string_view text) {
  const std::string value = util::to_lower(text);
  if (value == "true" || value == "1" || value == "yes" || value == "on") return true;
  if (value == "false" || value == "0" || value == "no" || value == "off") return false;
  return std::nullopt;
}

}  // namespace visor::api

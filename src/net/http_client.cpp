#include "net/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include <sys/socket.h>

#include "util/integer.hpp"
#include "util/text.hpp"

namespace visor::net {
namespace {

struct EasyCleanup {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct ListCleanup {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct MimeCleanup {
  void operator()(curl_mime* mime) const { curl_mime_free(mime); }
};
using HeaderList = std::unique_ptr<curl_slist, ListCleanup>;
using Mime = std::unique_ptr<curl_mime, MimeCleanup>;

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// What one transfer's callbacks share with perform().
struct Transfer {
  const HttpRequest* request = nullptr;
  HttpReply reply;
  bool truncated_here = false;  // the body reached max_response_bytes
  bool stopped_by_reader = false;
  std::string refusal;  // why vet_address refused a peer
};

std::size_t take_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const std::string_view piece(data, size * count);
  if (t.request->on_body) {
    if (t.request->on_body(piece)) return piece.size();
    t.stopped_by_reader = true;
    return 0;
  }
  const std::size_t room = t.request->max_response_bytes - std::min(t.request->max_response_bytes, t.reply.body.size());
  if (piece.size() > room) {
    t.reply.body.append(piece.substr(0, room));
    t.reply.truncated = true;
    t.truncated_here = true;
    return 0;  // ends the transfer; perform() knows it was on purpose
  }
  t.reply.body.append(piece);
  return piece.size();
}

std::size_t take_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto& reply = static_cast<Transfer*>(user)->reply;
  const std::string_view line(data, size * count);
  // A new status line (after a 100 Continue, say): the headers so far were another response's.
  if (line.starts_with("HTTP/")) reply.headers.clear();
  const auto colon = line.find(':');
  if (colon != std::string_view::npos && colon > 0) {
    reply.headers.emplace_back(util::to_lower(util::trim_space(line.substr(0, colon))),
                               util::trim_space(line.substr(colon + 1)));
  }
  return line.size();
}

// libcurl calls it during the transfer, about once a second while waiting;
// a nonzero answer aborts the transfer.
int abort_when_stopped(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const Transfer*>(user)->request->stop.stop_requested() ? 1 : 0;
}

curl_socket_t open_vetted_socket(void* user, curlsocktype, curl_sockaddr* address) {
  auto& t = *static_cast<Transfer*>(user);
  if (auto refusal = t.request->vet_address(address->addr)) {
    t.refusal = std::move(*refusal);
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

Error error_from(CURLcode code, const Transfer& t, const char* detail) {
  const std::string& url = t.request->url;
  if (!t.refusal.empty()) return Error::bad_input(t.refusal);
  if (code == CURLE_ABORTED_BY_CALLBACK) return Error::conflict("Request to " + url + " stopped: nobody waits for it");
  if (t.stopped_by_reader) return Error::conflict("Request to " + url + " ended by its reader");
  std::string message = url + ": " + (detail[0] != '\0' ? detail : curl_easy_strerror(code));
  if (code == CURLE_UNSUPPORTED_PROTOCOL || code == CURLE_URL_MALFORMAT) {
    return Error::bad_input("Not an http or https URL: " + message);
  }
  if (code == CURLE_OPERATION_TIMEDOUT) return Error::timeout("Request timed out: " + message);
  return Error::unavailable("Cannot reach " + message);
}

long milliseconds(std::chrono::milliseconds duration) { return static_cast<long>(duration.count()); }

Mime form_body(CURL* c, const std::vector<FormField>& fields) {
  Mime mime(curl_mime_init(c));
  for (const FormField& field : fields) {
    curl_mimepart* part = curl_mime_addpart(mime.get());
    curl_mime_name(part, field.name.c_str());
    curl_mime_data(part, field.value.data(), field.value.size());
    if (!field.filename.empty()) curl_mime_filename(part, field.filename.c_str());
    if (!field.content_type.empty()) curl_mime_type(part, field.content_type.c_str());
  }
  return mime;
}

}  // namespace

std::string HttpReply::header(std::string_view name) const {
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  return {};
}

std::optional<std::chrono::seconds> HttpReply::retry_after() const {
  const auto seconds = util::parse_integer(header("retry-after"));
  if (!seconds || *seconds < 0) return std::nullopt;
  return std::chrono::seconds(*seconds);
}

std::string bearer_header_value(std::string_view token) { return "Bearer " + std::string(token); }

struct HttpClient::Impl {
  std::unique_ptr<CURL, EasyCleanup> curl;
};

HttpClient::HttpClient() : impl_(std::make_unique<Impl>()) {
  init_curl_once();
  impl_->curl.reset(curl_easy_init());
  if (!impl_->curl) throw std::runtime_error("libcurl could not create a handle");
}

HttpClient::~HttpClient() = default;

Result<HttpReply> HttpClient::perform(const HttpRequest& request) {
  Transfer t;
  t.request = &request;
  if (request.stop.stop_requested()) return error_from(CURLE_ABORTED_BY_CALLBACK, t, "");
  CURL* c = impl_->curl.get();
  curl_easy_reset(c);
  char error_text[CURL_ERROR_SIZE] = {};
  HeaderList headers;
  for (const auto& [name, value] : request.headers) {
    headers.reset(curl_slist_append(headers.release(), (name + ": " + value).c_str()));
  }
  Mime mime;
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(request.connect_timeout));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, milliseconds(request.timeout));
  if (request.idle_timeout.count() > 0) {
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                     std::max(1L, static_cast<long>((request.idle_timeout.count() + 999) / 1000)));
  }
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, take_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, take_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  if (request.stop.stop_possible()) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, abort_when_stopped);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  }
  if (request.vet_address) {
    // A proxy would be the peer instead of the vetted host.
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_vetted_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &t);
  }
  if (!request.form.empty()) {
    mime = form_body(c, request.form);
    curl_easy_setopt(c, CURLOPT_MIMEPOST, mime.get());
  } else if (request.method == "POST" || request.method == "PUT") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  if (request.method != "GET" && request.method != "POST") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  const CURLcode code = curl_easy_perform(c);
  if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && t.truncated_here)) return error_from(code, t, error_text);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &t.reply.status);
  return std::move(t.reply);
}

Result<HttpReply> HttpClient::post_json(const std::string& url, const std::string& body,
                                        const std::string& bearer_token, std::chrono::milliseconds timeout,
                                        std::stop_token stop) {
  HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.body = body;
  request.headers.emplace_back("Content-Type", "application/json");
  if (!bearer_token.empty()) request.headers.emplace_back("Authorization", bearer_header_value(bearer_token));
  request.timeout = timeout;
  request.stop = std::move(stop);
  return perform(request);
}

Result<HttpReply> HttpClient::get(const std::string& url, const std::string& bearer_token,
                                  std::chrono::milliseconds timeout, std::stop_token stop) {
  HttpRequest request;
  request.url = url;
  if (!bearer_token.empty()) request.headers.emplace_back("Authorization", bearer_header_value(bearer_token));
  request.timeout = timeout;
  request.stop = std::move(stop);
  return perform(request);
}

}  // namespace visor::net

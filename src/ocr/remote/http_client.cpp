#include "ocr/remote/http_client.hpp"

#include <curl/curl.h>

#include <cctype>
#include <mutex>
#include <stdexcept>

namespace visor::ocr::remote {
namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(5);

struct EasyCleanup {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct ListCleanup {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using HeaderList = std::unique_ptr<curl_slist, ListCleanup>;

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::size_t read_header(char* data, std::size_t size, std::size_t count, void* user) {
  const std::string_view line(data, size * count);
  constexpr std::string_view kRetryAfter = "retry-after:";
  if (line.size() > kRetryAfter.size()) {
    bool match = true;
    for (std::size_t i = 0; i < kRetryAfter.size() && match; ++i) {
      match = std::tolower(static_cast<unsigned char>(line[i])) == kRetryAfter[i];
    }
    if (match) {
      std::string value(line.substr(kRetryAfter.size()));
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.erase(0, 1);
      *static_cast<std::string*>(user) = value;
    }
  }
  return size * count;
}

// libcurl calls it during the transfer, about once a second while waiting;
// a nonzero answer aborts the transfer.
int abort_when_stopped(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::stop_token*>(user)->stop_requested() ? 1 : 0;
}

Error error_from(CURLcode code, const std::string& url, const char* detail) {
  if (code == CURLE_ABORTED_BY_CALLBACK) return Error::conflict("Request to " + url + " stopped: nobody waits for it");
  std::string message = url + ": " + (detail[0] != '\0' ? detail : curl_easy_strerror(code));
  if (code == CURLE_OPERATION_TIMEDOUT) return Error::timeout("Request timed out: " + message);
  return Error::unavailable("Cannot reach " + message);
}

}  // namespace

struct HttpClient::Impl {
  std::unique_ptr<CURL, EasyCleanup> curl;

  Result<HttpReply> perform(const std::string& url, const std::string* body, const std::string& bearer_token,
                            std::chrono::milliseconds timeout, const std::stop_token& stop) {
    if (stop.stop_requested()) return error_from(CURLE_ABORTED_BY_CALLBACK, url, "");
    CURL* c = curl.get();
    curl_easy_reset(c);
    HttpReply reply;
    char error_text[CURL_ERROR_SIZE] = {};
    HeaderList headers;
    if (body != nullptr) headers.reset(curl_slist_append(headers.release(), "Content-Type: application/json"));
    if (!bearer_token.empty()) {
      headers.reset(curl_slist_append(headers.release(), ("Authorization: Bearer " + bearer_token).c_str()));
    }
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(kConnectTimeout.count() * 1000));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_text);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, read_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &reply.retry_after);
    if (stop.stop_possible()) {
      curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, abort_when_stopped);
      curl_easy_setopt(c, CURLOPT_XFERINFODATA, &stop);
    }
    if (body != nullptr) {
      curl_easy_setopt(c, CURLOPT_POST, 1L);
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    }
    const CURLcode code = curl_easy_perform(c);
    if (code != CURLE_OK) return error_from(code, url, error_text);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
    return reply;
  }
};

HttpClient::HttpClient() : impl_(std::make_unique<Impl>()) {
  init_curl_once();
  impl_->curl.reset(curl_easy_init());
  if (!impl_->curl) throw std::runtime_error("libcurl could not create a handle");
}

HttpClient::~HttpClient() = default;

Result<HttpReply> HttpClient::post_json(const std::string& url, const std::string& body,
                                        const std::string& bearer_token, std::chrono::milliseconds timeout,
                                        std::stop_token stop) {
  return impl_->perform(url, &body, bearer_token, timeout, stop);
}

Result<HttpReply> HttpClient::get(const std::string& url, const std::string& bearer_token,
                                  std::chrono::milliseconds timeout, std::stop_token stop) {
  return impl_->perform(url, nullptr, bearer_token, timeout, stop);
}

}  // namespace visor::ocr::remote

// The webhook rules that need no network: signatures, where webhooks may
// go, what an attempt comes to and when the next is due, and the body.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <nlohmann/json.hpp>

#include "webhooks/destination.hpp"
#include "webhooks/payload.hpp"
#include "webhooks/retry_policy.hpp"
#include "webhooks/signing.hpp"

namespace visor::webhooks {
namespace {

using namespace std::chrono_literals;

TEST(Signing, MatchesTheStandardWebhooksExample) {
  // The example of the Standard Webhooks specification.
  auto secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(secret->sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(Signing, RefusesSecretsThatAreNotWhsecBase64OfEnoughBytes) {
  EXPECT_FALSE(SigningSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").ok());
  EXPECT_FALSE(SigningSecret::parse("whsec_c2hvcnQ=").ok());  // "short"
  EXPECT_FALSE(SigningSecret::parse("whsec_not base64!").ok());
  EXPECT_NE(SigningSecret::parse("whsec_x").error().message.find("whsec_"), std::string::npos);
}

sockaddr_storage address(const char* text) {
  sockaddr_storage storage{};
  if (inet_pton(AF_INET, text, &reinterpret_cast<sockaddr_in&>(storage).sin_addr) == 1) {
    storage.ss_family = AF_INET;
  } else if (inet_pton(AF_INET6, text, &reinterpret_cast<sockaddr_in6&>(storage).sin6_addr) == 1) {
    storage.ss_family = AF_INET6;
  }
  return storage;
}

bool is_public(const char* text) {
  const sockaddr_storage storage = address(text);
  return !non_public_address(reinterpret_cast<const sockaddr&>(storage));
}

TEST(Destination, OnlyPublicAddressesAreReachable) {
  for (const char* refused : {"127.0.0.1", "10.0.0.5", "172.16.3.4", "172.31.255.255", "192.168.1.1", "169.254.169.254",
                              "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1",
                              "fd00::1", "ff02::1", "::ffff:10.0.0.1"}) {
    EXPECT_FALSE(is_public(refused)) << refused;
  }
  for (const char* allowed : {"8.8.8.8", "172.32.0.1", "192.169.0.1", "93.184.216.34", "2606:4700::1111",
                              "::ffff:8.8.8.8"}) {
    EXPECT_TRUE(is_public(allowed)) << allowed;
  }
  const sockaddr_storage loopback = address("127.0.0.1");
  const auto why = non_public_address(reinterpret_cast<const sockaddr&>(loopback));
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("127.0.0.1 is a loopback address"), std::string::npos) << *why;
}

TEST(Destination, UrlsMustBeHttpWithAHostAndNotNamePrivateHostsUnlessAllowed) {
  EXPECT_TRUE(check_url("https://hooks.example.com/visor?x=1", false).ok());
  EXPECT_TRUE(check_url("HTTP://user:pw@example.com:8080/", false).ok());
  for (const char* bad : {"ftp://example.com/", "example.com/hook", "http://", "http://:80/", "http://a b/",
                          "http://[::1/"}) {
    EXPECT_EQ(check_url(bad, true).error().kind, Error::Kind::invalid_request) << bad;
  }
  for (const char* local : {"http://localhost:9000/", "http://api.localhost/", "http://127.0.0.1/", "http://[::1]:80/",
                            "http://user@10.1.1.1/"}) {
    EXPECT_FALSE(check_url(local, false).ok()) << local;
    EXPECT_TRUE(check_url(local, true).ok()) << local;
  }
  EXPECT_FALSE(check_url("https://example.com/" + std::string(kMaxUrlLength, 'a'), false).ok());
}

jobs::WebhookDelivery delivery(int attempts = 0) {
  jobs::WebhookDelivery d;
  d.id = "msg_1";
  d.created_at = 1'000'000;
  d.attempts = attempts;
  return d;
}

Result<net::HttpReply> answered(long status, std::string retry_after = "") {
  net::HttpReply reply;
  reply.status = status;
  if (!retry_after.empty()) reply.headers.emplace_back("retry-after", retry_after);
  return reply;
}

TEST(RetryPolicy, A2xxIsDeliveredAndA4xxOrRedirectFailsAtOnce) {
  const RetryPolicy policy;
  EXPECT_EQ(judge_attempt(delivery(), "{}", answered(204), 1'000'100, policy, 0.5).state,
            jobs::DeliveryState::delivered);
  for (long status : {301L, 400L, 401L, 404L, 410L}) {
    const auto attempt = judge_attempt(delivery(), "{}", answered(status), 1'000'100, policy, 0.5);
    EXPECT_EQ(attempt.state, jobs::DeliveryState::failed) << status;
    EXPECT_NE(attempt.error.find("HTTP " + std::to_string(status)), std::string::npos);
  }
  const auto refused = judge_attempt(delivery(), "{}", Error::bad_input("private address"), 1'000'100, policy, 0.5);
  EXPECT_EQ(refused.state, jobs::DeliveryState::failed);
}

TEST(RetryPolicy, TimeoutsConnectionErrors429And5xxAreRetriedLaterEachTime) {
  const RetryPolicy policy{.first_delay = 5s, .longest_delay = 1h, .give_up_after = 24h};
  for (const Result<net::HttpReply>& reply : {answered(500), answered(503), answered(429),
                                              Result<net::HttpReply>(Error::timeout("slow")),
                                              Result<net::HttpReply>(Error::unavailable("refused"))}) {
    const auto attempt = judge_attempt(delivery(), "{}", reply, 1'000'100, policy, 0.5);
    EXPECT_EQ(attempt.state, jobs::DeliveryState::pending);
    EXPECT_EQ(attempt.retry_at, 1'000'100 + 5000);  // jitter 0.5 is the middle
  }
  EXPECT_EQ(backoff(1, policy), 5s);
  EXPECT_EQ(backoff(2, policy), 10s);
  EXPECT_EQ(backoff(5, policy), 80s);
  EXPECT_EQ(backoff(30, policy), 1h);
  // ±25 % at the ends of the jitter.
  EXPECT_EQ(judge_attempt(delivery(1), "{}", answered(500), 2'000'000, policy, 0).retry_at, 2'000'000 + 7500);
  EXPECT_EQ(judge_attempt(delivery(1), "{}", answered(500), 2'000'000, policy, 0.999999).retry_at, 2'000'000 + 12499);
  // A Retry-After beyond the backoff is honoured.
  EXPECT_EQ(judge_attempt(delivery(), "{}", answered(429, "120"), 1'000'100, policy, 0.5).retry_at,
            1'000'100 + 120'000);
}

TEST(RetryPolicy, GivesUpOnceTheNextAttemptWouldFallPastItsWindow) {
  const RetryPolicy policy{.first_delay = 5s, .longest_delay = 1h, .give_up_after = 24h};
  const std::int64_t late = 1'000'000 + 24 * 3600 * 1000 - 1000;
  const auto attempt = judge_attempt(delivery(20), "{}", answered(502), late, policy, 0.5);
  EXPECT_EQ(attempt.state, jobs::DeliveryState::failed);
  EXPECT_NE(attempt.error.find("given up after 21 attempts"), std::string::npos) << attempt.error;
}

TEST(Payload, NamesTheJobItsCountsAndLinksButNotItsResults) {
  jobs::Job job;
  job.id = "fc-01ABC";
  job.filename = "scan.pdf";
  job.model = "dotsocr";
  job.status = jobs::JobStatus::completed;
  job.total_pages = 2;
  job.pages_done = 2;
  jobs::WebhookDelivery page_event = delivery();
  page_event.event = "page.completed";
  page_event.page_index = 1;
  page_event.created_at = 0;
  const std::vector<jobs::PageRecord> pages = {{0, true, R"({"status":"success","data":[]})", "e"},
                                               {1, true, R"({"status":"error","error":"bad"})", ""}};
  const auto body = nlohmann::json::parse(delivery_payload(page_event, job, pages, "https://ocr.example.com/"));
  EXPECT_EQ(body["type"], "page.completed");
  EXPECT_EQ(body["timestamp"], "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(body["data"]["page_errors"], 1);
  EXPECT_EQ(body["data"]["page_index"], 1);
  EXPECT_EQ(body["data"]["page_status"], "error");
  EXPECT_EQ(body["data"]["links"]["status"], "https://ocr.example.com/ocr/status/fc-01ABC");
  EXPECT_FALSE(body["data"].contains("results"));
  // Once the pages expired the counts that need them are left out; links are paths without a public URL.
  const auto bare = nlohmann::json::parse(delivery_payload(delivery(), job, {}, ""));
  EXPECT_FALSE(bare["data"].contains("page_errors"));
  EXPECT_EQ(bare["data"]["links"]["downloads"]["pdf"], "/ocr/download/fc-01ABC/pdf");
}

}  // namespace
}  // namespace visor::webhooks

#pragma once
// What one delivery attempt comes to, and when the next one is due.
//
// Delivered on any 2xx. Retried on what may pass: a timeout, a connection
// that failed or dropped, 429 and 5xx; with exponential backoff (the first
// retry after `first_delay`, each later one twice as late, at most
// `longest_delay`, each ±25 % at random so that receivers coming back are
// not hit by every sender at once, and never sooner than a Retry-After
// asks), until `give_up_after` has passed since the event. Anything else
// (3xx: redirects are not followed; other 4xx; an address refused) fails
// at once: retrying would change nothing. Pure.

#include <chrono>
#include <cstdint>
#include <string>

#include "jobs/webhook_delivery.hpp"
#include "net/http_client.hpp"
#include "util/result.hpp"

namespace visor::webhooks {

struct RetryPolicy {
  std::chrono::milliseconds first_delay{std::chrono::seconds(5)};
  std::chrono::milliseconds longest_delay{std::chrono::hours(1)};
  std::chrono::milliseconds give_up_after{std::chrono::hours(24)};
};

// The attempt at `delivery` (its attempts so far not counting this one)
// made at `now_ms`, sending `payload`, that got `reply`. `jitter` in
// [0, 1) picks the delay within its ±25 %.
jobs::DeliveryAttempt judge_attempt(const jobs::WebhookDelivery& delivery, const std::string& payload,
                                    const Result<net::HttpReply>& reply, std::int64_t now_ms, const RetryPolicy& policy,
                                    double jitter);

// The delay before retry number `retry` (1 for the first), before jitter.
std::chrono::milliseconds backoff(int retry, const RetryPolicy& policy);

}  // namespace visor::webhooks

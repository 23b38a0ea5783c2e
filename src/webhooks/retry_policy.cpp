#include "webhooks/retry_policy.hpp"

#include <algorithm>
#include <cctype>

#include "util/duration.hpp"

namespace visor::webhooks {
namespace {

using std::chrono::milliseconds;

enum class Verdict { delivered, retry, fail };

struct Judgement {
  Verdict verdict;
  std::string error;
  milliseconds at_least{0};  // a Retry-After
};

milliseconds retry_after(const net::HttpReply& reply) {
  return std::min<milliseconds>(reply.retry_after().value_or(std::chrono::seconds(0)), std::chrono::hours(24));
}

Judgement judge(const Result<net::HttpReply>& reply) {
  if (!reply) {
    const Error& e = reply.error();
    // bad_input: the address was refused or the URL is unusable; nothing a retry changes.
    return {e.kind == Error::Kind::bad_input ? Verdict::fail : Verdict::retry, e.message};
  }
  const long status = reply->status;
  const std::string answered = "The receiver answered HTTP " + std::to_string(status);
  if (status >= 200 && status < 300) return {Verdict::delivered, ""};
  if (status == 429 || status >= 500) return {Verdict::retry, answered, retry_after(*reply)};
  if (status >= 300 && status < 400) {
    return {Verdict::fail, answered + " (a redirect, to " + reply->header("location") +
                               "); webhooks do not follow redirects: give the final URL"};
  }
  return {Verdict::fail, answered + "; only timeouts, connection errors, 429 and 5xx are retried"};
}

}  // namespace

milliseconds backoff(int retry, const RetryPolicy& policy) {
  milliseconds delay = policy.first_delay;
  for (int i = 1; i < retry && delay < policy.longest_delay; ++i) delay *= 2;
  return std::min(delay, policy.longest_delay);
}

jobs::DeliveryAttempt judge_attempt(const jobs::WebhookDelivery& delivery, const std::string& payload,
                                    const Result<net::HttpReply>& reply, std::int64_t now_ms, const RetryPolicy& policy,
                                    double jitter) {
  jobs::DeliveryAttempt attempt;
  attempt.payload = payload;
  attempt.attempted_at = now_ms;
  const Judgement judgement = judge(reply);
  attempt.error = judgement.error;
  switch (judgement.verdict) {
    case Verdict::delivered:
      attempt.state = jobs::DeliveryState::delivered;
      return attempt;
    case Verdict::fail:
      attempt.state = jobs::DeliveryState::failed;
      return attempt;
    case Verdict::retry:
      break;
  }
  const auto spread = static_cast<double>(backoff(delivery.attempts + 1, policy).count()) * (0.75 + 0.5 * jitter);
  const milliseconds delay = std::max(milliseconds(static_cast<std::int64_t>(spread)), judgement.at_least);
  const std::int64_t give_up_at = delivery.created_at + policy.give_up_after.count();
  if (now_ms + delay.count() > give_up_at) {
    attempt.state = jobs::DeliveryState::failed;
    attempt.error += "; given up after " + std::to_string(delivery.attempts + 1) + " attempts over " +
                     util::describe_duration(std::chrono::duration_cast<std::chrono::seconds>(policy.give_up_after));
    return attempt;
  }
  attempt.state = jobs::DeliveryState::pending;
  attempt.retry_at = now_ms + delay.count();
  return attempt;
}

}  // namespace visor::webhooks

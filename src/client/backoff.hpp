#pragma once
// How long to wait before trying a request again, and when to stop: the
// delay doubles from `first_delay` up to `max_delay` (or is what the server
// asked for with Retry-After), and retrying stops once failures have gone
// on for `window` without a success in between. Not thread-safe: one per
// sequence of attempts.

#include <chrono>
#include <optional>

namespace visor::client {

struct RetryPolicy {
  std::chrono::milliseconds first_delay{500};
  std::chrono::milliseconds max_delay{5000};
  std::chrono::milliseconds window{60000};
};

class Backoff {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Backoff(RetryPolicy policy) : policy_(policy) {}

  // After a failure at `now`: the wait before the next attempt, or nullopt
  // when the failures since the last success have lasted `window` (or the
  // wait would take them past it). `retry_after`: the server's
  // Retry-After, which replaces the computed delay.
  std::optional<std::chrono::milliseconds> after_failure(Clock::time_point now,
                                                        std::optional<std::chrono::seconds> retry_after = {});

  // After an attempt that made progress: the next failure starts afresh.
  void after_success();

 private:
  RetryPolicy policy_;
  std::optional<Clock::time_point> failing_since_;
  std::chrono::milliseconds next_delay_{0};
};

}  // namespace visor::client

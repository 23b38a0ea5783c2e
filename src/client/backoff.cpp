#include "client/backoff.hpp"

#include <algorithm>

namespace visor::client {

std::optional<std::chrono::milliseconds> Backoff::after_failure(Clock::time_point now,
                                                               std::optional<std::chrono::seconds> retry_after) {
  if (!failing_since_) {
    failing_since_ = now;
    next_delay_ = policy_.first_delay;
  }
  const std::chrono::milliseconds delay = retry_after ? std::chrono::milliseconds(*retry_after) : next_delay_;
  if (now + delay - *failing_since_ > policy_.window) return std::nullopt;
  next_delay_ = std::min(next_delay_ * 2, policy_.max_delay);
  return delay;
}

void Backoff::after_success() { failing_since_.reset(); }

}  // namespace visor::client

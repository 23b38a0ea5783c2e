#pragma once
// Rates and token buckets, as pure values: the bucket's state is kept by
// whoever needs it shared (the job store keeps one per API key, so that
// every node of a fleet draws from the same bucket).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace visor::util {

// A rate such as "10/s" or "600/min": `events` per `period`.
struct Rate {
  double events = 0;  // 0: unlimited
  std::chrono::milliseconds period{1000};
};

// Parses "N/s", "N/min" or "N/h" (N > 0), or "0" and "off" for unlimited.
std::optional<Rate> parse_rate(std::string_view text);
// "10/min", or "unlimited".
std::string describe_rate(const Rate& rate);

// A token bucket's state: `tokens` left at `updated_ms` (Unix ms).
struct TokenBucket {
  double tokens = 0;
  std::int64_t updated_ms = 0;
};

// The rule of a bucket: it holds at most `burst` tokens and refills at
// `rate`; each event takes one token.
class TokenBucketRule {
 public:
  // burst <= 0 means one period's worth of events (at least 1).
  TokenBucketRule(Rate rate, int burst);

  bool unlimited() const { return rate_.events <= 0; }
  const Rate& rate() const { return rate_; }

  // A bucket nobody has drawn from: full.
  TokenBucket full(std::int64_t now_ms) const { return {burst_, now_ms}; }

  struct Taken {
    TokenBucket bucket;  // the state to keep afterwards
    // nullopt when the event is admitted, else how long until one would be.
    std::optional<std::chrono::milliseconds> wait;
  };
  // Refills `bucket` up to `now_ms` and takes one token if there is one.
  Taken take(TokenBucket bucket, std::int64_t now_ms) const;

  // When `bucket` is full again: from then on it is the same as no bucket,
  // and may be forgotten.
  std::int64_t full_at(const TokenBucket& bucket) const;

 private:
  Rate rate_;
  double burst_;
  double tokens_per_ms_;
};

}  // namespace visor::util

#include "util/rate_limit.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace visor::util {
namespace {

struct Unit {
  std::string_view name;
  std::chrono::milliseconds period;
};

constexpr Unit kUnits[] = {{"s", std::chrono::seconds(1)},
                           {"sec", std::chrono::seconds(1)},
                           {"min", std::chrono::minutes(1)},
                           {"m", std::chrono::minutes(1)},
                           {"h", std::chrono::hours(1)},
                           {"hour", std::chrono::hours(1)}};

}  // namespace

std::optional<Rate> parse_rate(std::string_view text) {
  if (text == "0" || text == "off" || text == "unlimited") return Rate{};
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  double events = 0;
  const std::string_view number = text.substr(0, slash);
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), events);
  if (ec != std::errc() || end != number.data() + number.size() || !(events > 0) || !std::isfinite(events)) {
    return std::nullopt;
  }
  const std::string_view unit = text.substr(slash + 1);
  for (const auto& known : kUnits) {
    if (known.name == unit) return Rate{events, known.period};
  }
  return std::nullopt;
}

std::string describe_rate(const Rate& rate) {
  if (rate.events <= 0) return "unlimited";
  std::string unit = "s";
  if (rate.period == std::chrono::minutes(1)) unit = "min";
  if (rate.period == std::chrono::hours(1)) unit = "h";
  char number[32];
  const auto [end, ec] = std::to_chars(number, number + sizeof number, rate.events);
  return std::string(number, ec == std::errc() ? end : number) + "/" + unit;
}

TokenBucketRule::TokenBucketRule(Rate rate, int burst)
    : rate_(rate),
      burst_(burst > 0 ? burst : std::max(1.0, std::floor(rate.events))),
      tokens_per_ms_(rate.events > 0 ? rate.events / static_cast<double>(rate.period.count()) : 0) {}

TokenBucketRule::Taken TokenBucketRule::take(TokenBucket bucket, std::int64_t now_ms) const {
  if (unlimited()) return {bucket, std::nullopt};
  const double elapsed_ms = static_cast<double>(std::max<std::int64_t>(0, now_ms - bucket.updated_ms));
  bucket.tokens = std::min(burst_, bucket.tokens + elapsed_ms * tokens_per_ms_);
  bucket.updated_ms = std::max(bucket.updated_ms, now_ms);
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return {bucket, std::nullopt};
  }
  const double wait_ms = std::ceil((1.0 - bucket.tokens) / tokens_per_ms_);
  return {bucket, std::chrono::milliseconds(static_cast<std::int64_t>(wait_ms))};
}

std::int64_t TokenBucketRule::full_at(const TokenBucket& bucket) const {
  if (unlimited() || bucket.tokens >= burst_) return bucket.updated_ms;
  return bucket.updated_ms + static_cast<std::int64_t>(std::ceil((burst_ - bucket.tokens) / tokens_per_ms_));
}

}  // namespace visor::util

#include "util/rate_limit.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace visor::util {
namespace {

// Buckets are swept of idle keys every this many admissions, so memory
// follows the number of active keys, not of keys ever seen.
constexpr std::uint64_t kSweepEvery = 1024;

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

KeyedRateLimiter::KeyedRateLimiter(Rate rate, int burst)
    : rate_(rate),
      burst_(burst > 0 ? burst : std::max(1.0, std::floor(rate.events))),
      tokens_per_ms_(rate.events > 0 ? rate.events / static_cast<double>(rate.period.count()) : 0) {}

std::optional<std::chrono::milliseconds> KeyedRateLimiter::admit(const std::string& key, Clock::time_point now) {
  if (unlimited()) return std::nullopt;
  const std::lock_guard lock(mutex_);
  if (++admissions_ % kSweepEvery == 0) forget_full_buckets(now);
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& bucket = it->second;
  const double elapsed_ms = std::chrono::duration<double, std::milli>(now - bucket.updated).count();
  bucket.tokens = std::min(burst_, bucket.tokens + std::max(0.0, elapsed_ms) * tokens_per_ms_);
  bucket.updated = now;
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return std::nullopt;
  }
  const double wait_ms = std::ceil((1.0 - bucket.tokens) / tokens_per_ms_);
  return std::chrono::milliseconds(static_cast<std::int64_t>(wait_ms));
}

void KeyedRateLimiter::forget_full_buckets(Clock::time_point now) {
  std::erase_if(buckets_, [&](const auto& entry) {
    const double elapsed_ms = std::chrono::duration<double, std::milli>(now - entry.second.updated).count();
    return entry.second.tokens + elapsed_ms * tokens_per_ms_ >= burst_;
  });
}

KeyedSlots::Slot::Slot(Slot&& other) noexcept : owner_(other.owner_), key_(std::move(other.key_)) {
  other.owner_ = nullptr;
}

KeyedSlots::Slot& KeyedSlots::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = other.owner_;
    key_ = std::move(other.key_);
    other.owner_ = nullptr;
  }
  return *this;
}

KeyedSlots::Slot::~Slot() { release(); }

void KeyedSlots::Slot::release() {
  if (owner_ != nullptr) owner_->give_back(key_);
  owner_ = nullptr;
}

KeyedSlots::Acquired KeyedSlots::acquire(const std::optional<std::string>& key) {
  const std::lock_guard lock(mutex_);
  if (total_ > 0 && held_ >= total_) return {std::nullopt, Refusal::total_full};
  if (key) {
    int& mine = held_by_key_[*key];
    if (per_key_ > 0 && mine >= per_key_) return {std::nullopt, Refusal::key_full};
    ++mine;
  }
  ++held_;
  return {Slot(this, key), Refusal::total_full};
}

int KeyedSlots::held() const {
  const std::lock_guard lock(mutex_);
  return held_;
}

void KeyedSlots::give_back(const std::optional<std::string>& key) {
  const std::lock_guard lock(mutex_);
  --held_;
  if (!key) return;
  const auto it = held_by_key_.find(*key);
  if (it != held_by_key_.end() && --it->second <= 0) held_by_key_.erase(it);
}

}  // namespace visor::util

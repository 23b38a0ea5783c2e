#include <gtest/gtest.h>

#include "util/digest.hpp"
#include "util/rate_limit.hpp"

namespace visor::util {
namespace {

using namespace std::chrono_literals;

TEST(RateTest, ParsesEventsPerUnitAndOff) {
  auto per_minute = parse_rate("30/min");
  ASSERT_TRUE(per_minute.has_value());
  EXPECT_EQ(per_minute->events, 30);
  EXPECT_EQ(per_minute->period, std::chrono::milliseconds(60000));
  EXPECT_EQ(describe_rate(*per_minute), "30/min");
  EXPECT_EQ(parse_rate("off")->events, 0);
  EXPECT_EQ(describe_rate(*parse_rate("off")), "unlimited");
  for (const char* bad : {"", "10", "x/s", "-1/s", "0/s", "10/week", "10/s/s"}) {
    EXPECT_FALSE(parse_rate(bad).has_value()) << bad;
  }
}

TEST(KeyedRateLimiterTest, AdmitsABurstThenOneEventPerInterval) {
  KeyedRateLimiter limiter(*parse_rate("2/s"), 3);
  const auto start = KeyedRateLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(limiter.admit("a", start).has_value()) << i;
  const auto wait = limiter.admit("a", start);
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, 500ms);
  EXPECT_TRUE(limiter.admit("a", start + 499ms).has_value());
  EXPECT_FALSE(limiter.admit("a", start + 501ms).has_value());
  // Keys do not share a bucket.
  EXPECT_FALSE(limiter.admit("b", start).has_value());
}

TEST(KeyedRateLimiterTest, AnUnlimitedRateAdmitsEverything) {
  KeyedRateLimiter limiter(Rate{}, 0);
  for (int i = 0; i < 10000; ++i) ASSERT_FALSE(limiter.admit("a").has_value());
}

TEST(KeyedSlotsTest, CapsPerKeyAndInTotalAndGivesPlacesBack) {
  KeyedSlots slots(2, 3);
  auto a1 = slots.acquire("a");
  auto a2 = slots.acquire("a");
  ASSERT_TRUE(a1.slot && a2.slot);
  auto a3 = slots.acquire("a");
  EXPECT_FALSE(a3.slot);
  EXPECT_EQ(a3.refusal, KeyedSlots::Refusal::key_full);
  auto b1 = slots.acquire("b");
  ASSERT_TRUE(b1.slot);
  auto b2 = slots.acquire("b");
  EXPECT_FALSE(b2.slot);
  EXPECT_EQ(b2.refusal, KeyedSlots::Refusal::total_full);
  EXPECT_EQ(slots.held(), 3);
  EXPECT_EQ(slots.acquire(std::nullopt).refusal, KeyedSlots::Refusal::total_full);
  a1.slot.reset();
  EXPECT_EQ(slots.held(), 2);
  EXPECT_TRUE(slots.acquire("b").slot);  // a temporary: given back at once
  EXPECT_EQ(slots.held(), 2);
  KeyedSlots::Slot moved = std::move(*a2.slot);
  a2.slot.reset();
  EXPECT_EQ(slots.held(), 2);
}

TEST(KeyedSlotsTest, SlotsWithoutAKeyCountOnlyInTheTotal) {
  KeyedSlots slots(1, 3);
  auto first = slots.acquire(std::nullopt);
  auto second = slots.acquire(std::nullopt);
  EXPECT_TRUE(first.slot && second.slot);
  EXPECT_TRUE(slots.acquire("a").slot);
}

TEST(DigestTest, Sha256MatchesTheStandardVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256().add("a").add("bc").hex_digest(), sha256_hex("abc"));
}

}  // namespace
}  // namespace visor::util

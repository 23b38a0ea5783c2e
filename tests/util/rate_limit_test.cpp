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

TEST(TokenBucketRuleTest, AdmitsABurstThenOneEventPerInterval) {
  const TokenBucketRule rule(*parse_rate("2/s"), 3);
  TokenBucket bucket = rule.full(10000);
  for (int i = 0; i < 3; ++i) {
    auto taken = rule.take(bucket, 10000);
    EXPECT_FALSE(taken.wait.has_value()) << i;
    bucket = taken.bucket;
  }
  auto refused = rule.take(bucket, 10000);
  ASSERT_TRUE(refused.wait.has_value());
  EXPECT_EQ(*refused.wait, 500ms);
  bucket = refused.bucket;
  EXPECT_TRUE(rule.take(bucket, 10499).wait.has_value());
  EXPECT_FALSE(rule.take(bucket, 10501).wait.has_value());
}

TEST(TokenBucketRuleTest, ABucketIsFullAgainOnceItsTokensAreBack) {
  const TokenBucketRule rule(*parse_rate("2/s"), 3);
  const TokenBucket emptied{0.0, 10000};
  EXPECT_EQ(rule.full_at(emptied), 11500);
  EXPECT_EQ(rule.full_at(rule.full(10000)), 10000);
  // A bucket left alone until then is as good as a new one.
  EXPECT_DOUBLE_EQ(rule.take(emptied, 11500).bucket.tokens, 2.0);
}

TEST(TokenBucketRuleTest, AClockThatStepsBackNeitherRefillsNorRefunds) {
  const TokenBucketRule rule(*parse_rate("1/s"), 1);
  auto first = rule.take(rule.full(10000), 10000);
  ASSERT_FALSE(first.wait.has_value());
  auto earlier = rule.take(first.bucket, 5000);
  EXPECT_TRUE(earlier.wait.has_value());
  EXPECT_EQ(earlier.bucket.updated_ms, 10000);
}

TEST(TokenBucketRuleTest, ABurstOfZeroMeansOnePeriodsWorth) {
  const TokenBucketRule rule(*parse_rate("5/min"), 0);
  TokenBucket bucket = rule.full(0);
  for (int i = 0; i < 5; ++i) {
    auto taken = rule.take(bucket, 0);
    ASSERT_FALSE(taken.wait.has_value()) << i;
    bucket = taken.bucket;
  }
  EXPECT_TRUE(rule.take(bucket, 0).wait.has_value());
}

TEST(TokenBucketRuleTest, AnUnlimitedRateAdmitsEverything) {
  const TokenBucketRule rule(Rate{}, 0);
  EXPECT_TRUE(rule.unlimited());
  TokenBucket bucket = rule.full(0);
  for (int i = 0; i < 1000; ++i) {
    auto taken = rule.take(bucket, 0);
    ASSERT_FALSE(taken.wait.has_value());
    bucket = taken.bucket;
  }
}

TEST(DigestTest, Sha256MatchesTheStandardVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256().add("a").add("bc").hex_digest(), sha256_hex("abc"));
}

TEST(DigestTest, HmacSha256MatchesRfc4231) {
  // Test case 2 of RFC 4231.
  const std::string mac = hmac_sha256("Jefe", "what do ya want for nothing?");
  std::string hex;
  for (const unsigned char c : mac) {
    static constexpr char kHex[] = "0123456789abcdef";
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  EXPECT_EQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace visor::util

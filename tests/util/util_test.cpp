#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "util/base64.hpp"
#include "util/duration.hpp"
#include "util/percent_encoding.hpp"
#include "util/periodic.hpp"
#include "util/time.hpp"
#include "util/ulid.hpp"

namespace visor::util {
namespace {

using namespace std::chrono_literals;

TEST(UlidTest, EncodesTimeInTheFirstTenCharacters) {
  // 1469918176385 ms is "01ARYZ6S41" in the ULID specification's example.
  const std::string id = make_ulid(1469918176385);
  ASSERT_EQ(id.size(), 26u);
  EXPECT_EQ(id.substr(0, 10), "01ARYZ6S41");
  EXPECT_TRUE(is_ulid(id));
}

TEST(UlidTest, SortsByTimeAndNeverRepeats) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(make_ulid(1000)).second);
  EXPECT_LT(make_ulid(1000), make_ulid(1001));
  EXPECT_LT(make_ulid(1730889000000), make_ulid(1730889000000 + 86400000));
}

TEST(UlidTest, RejectsWrongAlphabetLengthAndOverflow) {
  EXPECT_FALSE(is_ulid("01ARYZ6S41TSV4RRFFQ69G5FA"));    // 25 characters
  EXPECT_FALSE(is_ulid("01ARYZ6S41TSV4RRFFQ69G5FAI"));   // I is not Crockford
  EXPECT_FALSE(is_ulid("01aryz6s41tsv4rrffq69g5fav"));   // lower case
  EXPECT_FALSE(is_ulid("81ARYZ6S41TSV4RRFFQ69G5FAV"));   // more than 128 bits
  EXPECT_TRUE(is_ulid("01ARYZ6S41TSV4RRFFQ69G5FAV"));
}

TEST(DurationTest, ParsesEveryUnit) {
  EXPECT_EQ(*parse_duration("30s"), 30s);
  EXPECT_EQ(*parse_duration("10m"), 600s);
  EXPECT_EQ(*parse_duration("12h"), 43200s);
  EXPECT_EQ(*parse_duration("7d"), 604800s);
  EXPECT_EQ(*parse_duration("45"), 45s);
}

TEST(DurationTest, RejectsGarbageZeroAndUnknownUnits) {
  EXPECT_FALSE(parse_duration("").ok());
  EXPECT_FALSE(parse_duration("0s").ok());
  EXPECT_FALSE(parse_duration("-5s").ok());
  EXPECT_FALSE(parse_duration("5w").ok());
  EXPECT_FALSE(parse_duration("m").ok());
  EXPECT_EQ(parse_duration("5w").error().kind, Error::Kind::bad_input);
}

TEST(DurationTest, DescribesWithTheLargestExactUnit) {
  EXPECT_EQ(describe_duration(604800s), "7 days");
  EXPECT_EQ(describe_duration(600s), "10 minutes");
  EXPECT_EQ(describe_duration(3600s), "1 hour");
  EXPECT_EQ(describe_duration(90s), "90 seconds");
  EXPECT_EQ(describe_duration(1s), "1 second");
}

TEST(SizeTest, ParsesBinaryUnitsAndDescribesThem) {
  EXPECT_EQ(*parse_size("100MiB"), 100ull << 20);
  EXPECT_EQ(*parse_size("100M"), 100ull << 20);
  EXPECT_EQ(*parse_size("2g"), 2ull << 30);
  EXPECT_EQ(*parse_size("512"), 512u);
  EXPECT_FALSE(parse_size("12 parsecs").ok());
  EXPECT_EQ(describe_size(100ull << 20), "100 MiB");
  EXPECT_EQ(describe_size(1536), "1536 bytes");
  EXPECT_EQ(describe_size(2048), "2 KiB");
}

TEST(CountTest, ParsesDecimalUnitsAndDescribesThem) {
  EXPECT_EQ(*parse_count("200M"), 200'000'000u);
  EXPECT_EQ(*parse_count("200m"), 200'000'000u);
  EXPECT_EQ(*parse_count("1500K"), 1'500'000u);
  EXPECT_EQ(*parse_count("2G"), 2'000'000'000u);
  EXPECT_EQ(*parse_count("12345"), 12345u);
  EXPECT_FALSE(parse_count("0").ok());
  EXPECT_FALSE(parse_count("200MP").ok());
  EXPECT_FALSE(parse_count("-5").ok());
  EXPECT_EQ(describe_count(200'000'000), "200 million");
  EXPECT_EQ(describe_count(1'540'000), "1.5 million");
  EXPECT_EQ(describe_count(21'600'000'000), "21.6 billion");
  EXPECT_EQ(describe_count(640'000), "640 thousand");
  EXPECT_EQ(describe_count(12), "12");
}

TEST(Base64Test, MatchesRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xff\x00\x10", 3)), "/wAQ");
}

TEST(Base64Test, DecodesWhatItEncodesAndRefusesWhatIsNotBase64) {
  for (const std::string bytes : {std::string(), std::string("f"), std::string("fo"), std::string("foobar"),
                                  std::string("\xff\x00\x10\x80", 4)}) {
    EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes);
  }
  EXPECT_EQ(base64_decode("Zm8"), "fo");  // padding optional
  EXPECT_FALSE(base64_decode("Zm9v!"));
  EXPECT_FALSE(base64_decode("Z"));
}

TEST(PercentEncodingTest, KeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(percent_encode("a-Z_0.9~"), "a-Z_0.9~");
  EXPECT_EQ(percent_encode("a b/é?&"), "a%20b%2F%C3%A9%3F%26");
}

TEST(TimeTest, FormatsIso8601WithMilliseconds) {
  EXPECT_EQ(format_iso8601(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601(1762425000123), "2025-11-06T10:30:00.123Z");
}

}  // namespace
}  // namespace visor::util

namespace visor::util {
namespace {

TEST(PeriodicThreadTest, TicksRepeatedlyAndStopsPromptly) {
  std::atomic<int> ticks{0};
  const auto started = std::chrono::steady_clock::now();
  {
    PeriodicThread thread(std::chrono::milliseconds(5), [&] { ++ticks; });
    while (ticks.load() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_GE(ticks.load(), 3);
  const int after_stop = ticks.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(ticks.load(), after_stop);
  {
    PeriodicThread idle(std::chrono::hours(1), [&] { ++ticks; });
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

}  // namespace
}  // namespace visor::util

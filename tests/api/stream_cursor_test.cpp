#include <gtest/gtest.h>

#include "api/stream_cursor.hpp"

namespace visor::api {
namespace {

TEST(StreamCursorTest, WritesSentPagesAsRanges) {
  EXPECT_EQ(format_cursor({}), "p:");
  EXPECT_EQ(format_cursor({.pages_sent = {0, 1, 2, 3, 5, 7, 8}, .finished = false}), "p:0-3,5,7-8");
  EXPECT_EQ(format_cursor({.pages_sent = {4}, .finished = false}), "p:4");
  EXPECT_EQ(format_cursor({.pages_sent = {1, 2}, .finished = true}), "end");
}

TEST(StreamCursorTest, ReadsBackWhatItWrote) {
  const StreamCursor cursor{.pages_sent = {0, 2, 3, 4, 9}, .finished = false};
  const auto parsed = parse_cursor(format_cursor(cursor), 10);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->pages_sent, cursor.pages_sent);
  EXPECT_FALSE(parsed->finished);
  EXPECT_TRUE(parse_cursor("end", 1)->finished);
  EXPECT_TRUE(parse_cursor("p:", 1)->pages_sent.empty());
}

TEST(StreamCursorTest, RejectsAnythingElseSoTheStreamStartsOver) {
  for (std::string_view bad : {"", "7", "p:1-", "p:-1", "p:3-1", "p:1,,2", "p:a", "p:10", "p:0-10", "x:1"}) {
    EXPECT_FALSE(parse_cursor(bad, 10)) << bad;
  }
}

}  // namespace
}  // namespace visor::api

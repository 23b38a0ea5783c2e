#include <gtest/gtest.h>

#include "api/sse.hpp"

namespace visor::api {
namespace {

TEST(SseFormatTest, FramesOneEventWithNameAndData) {
  EXPECT_EQ(format_sse_event("status", R"({"status":"pending"})"),
            "event: status\ndata: {\"status\":\"pending\"}\n\n");
}

TEST(SseFormatTest, AddsIdWhenGiven) {
  EXPECT_EQ(format_sse_event("close", "{}", "7"), "id: 7\nevent: close\ndata: {}\n\n");
}

TEST(SseFormatTest, SplitsEveryKindOfLineBreakIntoDataLines) {
  EXPECT_EQ(format_sse_event("m", "a\nb\r\nc\rd"), "event: m\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
}

TEST(SseFormatTest, PayloadCannotInjectAnEventOrField) {
  const std::string framed = format_sse_event("m\nevent: evil", "x\n\nevent: result\ndata: y");
  EXPECT_EQ(framed, "event: mevent: evil\ndata: x\ndata: \ndata: event: result\ndata: data: y\n\n");
  EXPECT_EQ(framed.find("\n\n"), framed.size() - 2);
}

TEST(SseFormatTest, CommentIsIgnoredByClients) { EXPECT_EQ(format_sse_comment("ping"), ": ping\n\n"); }

}  // namespace
}  // namespace visor::api

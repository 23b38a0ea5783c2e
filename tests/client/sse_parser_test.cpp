#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "client/sse_parser.hpp"

namespace visor::client {
namespace {

// What the server sends (api/sse.cpp): id, event, data; a comment as a heartbeat.
const std::string kStream =
    "id: p:\n"
    "event: status\n"
    "data: {\"status\":\"running\"}\n"
    "\n"
    ": heartbeat\n"
    "\n"
    "id: p:0\n"
    "event: page\n"
    "data: {\"page_index\":0,\n"
    "data: \"text\":\"two lines\"}\n"
    "\n"
    "event: close\n"
    "data: {\"message\":\"Stream complete\"}\n"
    "\n";

std::vector<SseEvent> feed_all(SseParser& parser, const std::vector<std::string>& pieces) {
  std::vector<SseEvent> events;
  for (const auto& piece : pieces) {
    for (auto& event : parser.feed(piece)) events.push_back(std::move(event));
  }
  return events;
}

void expect_server_events(const std::vector<SseEvent>& events) {
  ASSERT_EQ(events.size(), 3U);
  EXPECT_EQ(events[0].id, "p:");
  EXPECT_EQ(events[0].event, "status");
  EXPECT_EQ(events[0].data, "{\"status\":\"running\"}");
  EXPECT_EQ(events[1].id, "p:0");
  EXPECT_EQ(events[1].event, "page");
  EXPECT_EQ(events[1].data, "{\"page_index\":0,\n\"text\":\"two lines\"}");
  // No id of its own: it keeps the last one.
  EXPECT_EQ(events[2].id, "p:0");
  EXPECT_EQ(events[2].event, "close");
}

std::string with_line_ends(const std::string& text, const std::string& line_end) {
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      out += line_end;
    } else {
      out += c;
    }
  }
  return out;
}

TEST(SseParserTest, ReadsTheServersEventsInOnePiece) {
  SseParser parser;
  expect_server_events(parser.feed(kStream));
  EXPECT_EQ(parser.last_event_id(), "p:0");
}

TEST(SseParserTest, GivesTheSameEventsWhereverTheStreamIsCutInTwo) {
  for (const std::string line_end : {"\n", "\r\n", "\r"}) {
    const std::string stream = with_line_ends(kStream, line_end);
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
      SseParser parser;
      SCOPED_TRACE("line end " + std::to_string(line_end.size()) + " bytes, cut at " + std::to_string(cut));
      expect_server_events(feed_all(parser, {stream.substr(0, cut), stream.substr(cut)}));
    }
  }
}

TEST(SseParserTest, GivesTheSameEventsFedOneByteAtATime) {
  for (const std::string line_end : {"\n", "\r\n", "\r"}) {
    const std::string stream = with_line_ends(kStream, line_end);
    std::vector<std::string> bytes;
    for (char c : stream) bytes.emplace_back(1, c);
    SseParser parser;
    expect_server_events(feed_all(parser, bytes));
  }
}

TEST(SseParserTest, CrlfSplitBetweenPiecesEndsOneLineNotTwo) {
  SseParser parser;
  // Were the LF taken for a second line end, the empty line would end the
  // event before its data.
  EXPECT_TRUE(parser.feed("event: status\r").empty());
  EXPECT_TRUE(parser.feed("\ndata: x\r").empty());
  const auto events = parser.feed("\n\r\n");
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].event, "status");
  EXPECT_EQ(events[0].data, "x");
}

TEST(SseParserTest, CommentsAndBlankLinesAloneDispatchNothing) {
  SseParser parser;
  EXPECT_TRUE(parser.feed(": ping\n\n\n:another\n\n").empty());
  EXPECT_EQ(parser.last_event_id(), "");
}

TEST(SseParserTest, EventWithoutDataIsNotDispatchedButItsIdCounts) {
  SseParser parser;
  EXPECT_TRUE(parser.feed("id: p:0-3\nevent: status\n\n").empty());
  EXPECT_EQ(parser.last_event_id(), "p:0-3");
  const auto events = parser.feed("data: next\n\n");
  ASSERT_EQ(events.size(), 1U);
  // The event type does not carry over to the next event; the id does.
  EXPECT_EQ(events[0].event, "message");
  EXPECT_EQ(events[0].id, "p:0-3");
}

TEST(SseParserTest, FieldValueLosesOneLeadingSpaceOnly) {
  SseParser parser;
  const auto events = parser.feed("data:no space\ndata:  two spaces\ndata\n\n");
  ASSERT_EQ(events.size(), 1U);
  // A field name alone is a field with an empty value: an empty data line.
  EXPECT_EQ(events[0].data, "no space\n two spaces\n");
}

TEST(SseParserTest, EmptyIdClearsTheLastIdAndIdWithNulIsIgnored) {
  SseParser parser("end");
  EXPECT_EQ(parser.feed("data: a\n\n").at(0).id, "end");
  parser.feed(std::string("id: bad\0id\n", 11));
  EXPECT_EQ(parser.last_event_id(), "end");
  EXPECT_EQ(parser.feed("id\ndata: b\n\n").at(0).id, "");
}

TEST(SseParserTest, UnknownFieldsAreIgnored) {
  SseParser parser;
  const auto events = parser.feed("retry: 100\nfoo: bar\ndata: x\n\n");
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].data, "x");
}

TEST(SseParserTest, PartialEventIsKeptUntilItsEnd) {
  SseParser parser;
  EXPECT_TRUE(parser.feed("event: result\ndata: {\"a\"").empty());
  EXPECT_TRUE(parser.feed(": 1}\n").empty());
  const auto events = parser.feed("\n");
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].data, "{\"a\": 1}");
}

}  // namespace
}  // namespace visor::client

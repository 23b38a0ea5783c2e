#include "util/page_selection.hpp"

#include <gtest/gtest.h>

namespace visor::util {
namespace {

std::vector<int> indexes_of(std::string_view text, int page_count) {
  auto selection = PageSelection::parse(text, page_count);
  EXPECT_TRUE(selection.ok()) << (selection ? "" : selection.error().message);
  return selection ? selection->indexes() : std::vector<int>{};
}

std::string error_of(std::string_view text, int page_count) {
  auto selection = PageSelection::parse(text, page_count);
  EXPECT_FALSE(selection.ok()) << text;
  if (selection) return "";
  EXPECT_EQ(selection.error().kind, Error::Kind::invalid_request);
  return selection.error().message;
}

TEST(PageSelection, NumbersAndRangesAreOneBasedAndBecomeZeroBasedIndexes) {
  EXPECT_EQ(indexes_of("1-3,7", 10), (std::vector<int>{0, 1, 2, 6}));
  EXPECT_EQ(indexes_of("3-4", 4), (std::vector<int>{2, 3}));
  EXPECT_EQ(indexes_of("5", 5), (std::vector<int>{4}));
}

TEST(PageSelection, AnOpenRangeRunsToTheLastPage) {
  EXPECT_EQ(indexes_of("10-", 12), (std::vector<int>{9, 10, 11}));
  EXPECT_EQ(indexes_of("1-3,7,10-", 11), (std::vector<int>{0, 1, 2, 6, 9, 10}));
}

TEST(PageSelection, RepeatsAndOverlapsCountOnceInPageOrder) {
  EXPECT_EQ(indexes_of("4,1-2,2,2-3", 5), (std::vector<int>{0, 1, 2, 3}));
}

TEST(PageSelection, SpacesAroundNumbersAreAllowed) {
  EXPECT_EQ(indexes_of(" 1 - 2 , 4 ", 4), (std::vector<int>{0, 1, 3}));
}

TEST(PageSelection, CanonicalTextJoinsConsecutivePages) {
  auto selection = PageSelection::parse("7,2,3,9-10", 10);
  ASSERT_TRUE(selection.ok());
  EXPECT_EQ(selection->text(), "2-3,7,9-10");
  EXPECT_EQ(selection->count(), 5);
  EXPECT_FALSE(selection->selects_all());
  EXPECT_EQ(PageSelection::all(3).text(), "1-3");
  EXPECT_TRUE(PageSelection::all(3).selects_all());
  EXPECT_EQ(format_page_ranges({}), "");
}

TEST(PageSelection, AParameterNotSentSelectsEveryPage) {
  auto every = PageSelection::from_parameter("", 4);
  ASSERT_TRUE(every.ok());
  EXPECT_TRUE(every->selects_all());
  EXPECT_EQ(every->text(), "1-4");
  auto some = PageSelection::from_parameter("2", 4);
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(some->indexes(), std::vector<int>{1});
  EXPECT_FALSE(PageSelection::from_parameter(" ", 4).ok());
}

TEST(PageSelection, PagesPastTheLastOneNameThePageCount) {
  EXPECT_NE(error_of("3-5", 4).find("names page 5, but the document has 4 pages"), std::string::npos);
  EXPECT_NE(error_of("9-", 4).find("the document has 4 pages"), std::string::npos);
  EXPECT_NE(error_of("2", 1).find("the document has 1 page"), std::string::npos);
}

TEST(PageSelection, MalformedTextIsRefusedNamingThePageCount) {
  for (std::string_view text : {"", " ", "a", "1-b", "1,,2", "1-2-3", "-3", "0", "0-2", "4-2", "1.5", "2,", "+1"}) {
    const std::string message = error_of(text, 6);
    EXPECT_NE(message.find("the document has 6 pages"), std::string::npos) << text << ": " << message;
  }
  EXPECT_NE(error_of("4-2", 6).find("ends before it starts"), std::string::npos);
  EXPECT_NE(error_of("0", 6).find("numbered from 1"), std::string::npos);
}

}  // namespace
}  // namespace visor::util

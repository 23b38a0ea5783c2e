// The document-level pass for running headers and footers, on hand-made
// page results.

#include "ocr/running_margins.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace visor::ocr {
namespace {

using nlohmann::json;

json element(int y1, int y2, const char* category, const char* text) {
  return {{"bbox", {100, y1, 900, y2}}, {"category", category}, {"text", text}};
}

std::vector<std::string> categories(const json& page) {
  std::vector<std::string> out;
  for (const json& e : page) out.push_back(e["category"].get<std::string>());
  return out;
}

// A page whose running header sits below the engine's margin zone, so the
// page itself read it as text; the body and a page number follow.
json page(const char* header, int header_y, const char* number) {
  return json::array({element(header_y, header_y + 25, "Text", header),
                      element(300, 900, "Text", "Body text of the page, a paragraph."),
                      element(2100, 2125, "Text", number)});
}

std::vector<json*> pointers(std::vector<json>& pages) {
  std::vector<json*> out;
  for (json& p : pages) out.push_back(&p);
  return out;
}

TEST(RunningSignature, DigitsAndRomanNumeralsCompareEqual) {
  EXPECT_EQ(running_signature("Page 3 of 12"), running_signature("page  4 of 12"));
  EXPECT_EQ(running_signature("Page 3 of 12"), "page # of #");
  EXPECT_EQ(running_signature("xii"), "#");
  EXPECT_EQ(running_signature(" 7 "), "#");
  EXPECT_NE(running_signature("Chapter One"), running_signature("Chapter Two"));
}

TEST(RunningMargins, RepeatedTopAndBottomTextBecomeHeaderAndFooter) {
  std::vector<json> pages = {page("Annual Report 2023", 180, "1"), page("Annual Report 2023", 184, "2")};
  mark_running_margins(pointers(pages));
  for (const json& p : pages) {
    EXPECT_EQ(categories(p), (std::vector<std::string>{"Page-header", "Text", "Page-footer"}));
  }
}

TEST(RunningMargins, PageFoundMarginCountsAsEvidence) {
  std::vector<json> pages = {page("Annual Report 2023", 180, "1"), page("Annual Report 2023", 180, "2")};
  pages[0][0]["category"] = "Page-header";
  pages[0][2]["category"] = "Page-footer";
  pages[1][0]["text"] = "Something else";
  mark_running_margins(pointers(pages));
  EXPECT_EQ(categories(pages[1]), (std::vector<std::string>{"Text", "Text", "Page-footer"}));
}

TEST(RunningMargins, TextThatDoesNotRepeatOrMovesStaysText) {
  std::vector<json> pages = {page("Introduction", 180, "A closing remark."), page("Results", 180, "The end.")};
  mark_running_margins(pointers(pages));
  EXPECT_EQ(categories(pages[0]), (std::vector<std::string>{"Text", "Text", "Text"}));
  std::vector<json> moved = {page("Annual Report", 180, "x"), page("Annual Report", 600, "y")};
  mark_running_margins(pointers(moved));
  EXPECT_EQ(categories(moved[1])[0], "Text");
}

TEST(RunningMargins, SinglePageAndOtherValuesAreLeftAlone) {
  std::vector<json> one = {page("Annual Report", 180, "1")};
  mark_running_margins(pointers(one));
  EXPECT_EQ(categories(one[0])[0], "Text");
  json failed = {{"status", "error"}};
  std::vector<json*> mixed = {&failed, nullptr};
  mark_running_margins(mixed);
  EXPECT_EQ(failed["status"], "error");
}

TEST(RunningMargins, MarkedElementsMoveToThePageEnds) {
  std::vector<json> pages(2);
  for (int i = 0; i < 2; ++i) {
    pages[i] = json::array({element(300, 900, "Text", "Body."), element(2100, 2125, "Text", "Draft"),
                            element(180, 205, "Text", "Running Head")});
  }
  mark_running_margins(pointers(pages));
  EXPECT_EQ(categories(pages[0]), (std::vector<std::string>{"Page-header", "Text", "Page-footer"}));
}

TEST(RunningMargins, MarkdownDropsRepeatedFirstAndLastParagraphs) {
  std::vector<json> pages = {json("Annual Report 2023\n\n# Summary\n\nBody one.\n\n- 1 -"),
                             json("Annual Report 2023\n\nBody two.\n\n- 2 -")};
  mark_running_margins(pointers(pages));
  EXPECT_EQ(pages[0], "# Summary\n\nBody one.");
  EXPECT_EQ(pages[1], "Body two.");
}

TEST(RunningMargins, MarkdownKeepsHeadingsListsAndUniqueParagraphs) {
  std::vector<json> pages = {json("# Annual Report\n\nBody one.\n\n- item"),
                             json("# Annual Report\n\nBody two.\n\n- item")};
  const std::vector<json> before = pages;
  mark_running_margins(pointers(pages));
  EXPECT_EQ(pages, before);
}

}  // namespace
}  // namespace visor::ocr

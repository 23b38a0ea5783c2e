// The dotsocr and Markdown writers over hand-made layouts.

#include "ocr/layout.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace visor::ocr {
namespace {

Element element(const char* category, std::string text, Box box = {10, 20, 110, 40}) {
  Element e;
  e.bbox = box;
  e.category = category;
  e.text = std::move(text);
  return e;
}

PageLayout page(std::vector<Element> elements) {
  PageLayout layout;
  layout.width = 1000;
  layout.height = 1400;
  layout.elements = std::move(elements);
  return layout;
}

TEST(DotsocrJson, DumpsKeysInOrderBboxCategoryText) {
  const auto json = to_dotsocr_json(page({element(category::title, "Hello", {1, 2, 30, 40})}));
  EXPECT_EQ(json.dump(), R"([{"bbox":[1,2,30,40],"category":"Title","text":"Hello"}])");
}

TEST(DotsocrJson, PictureHasNoTextKey) {
  const auto json = to_dotsocr_json(page({element(category::picture, "ignored")}));
  ASSERT_EQ(json.size(), 1u);
  EXPECT_FALSE(json[0].contains("text"));
  EXPECT_EQ(json[0]["category"], "Picture");
}

TEST(DotsocrJson, KeepsReadingOrderAndIntegerBoxes) {
  const auto json = to_dotsocr_json(page({element(category::text, "a"), element(category::page_footer, "3")}));
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[1]["category"], "Page-footer");
  EXPECT_TRUE(json[0]["bbox"][0].is_number_integer());
}

TEST(DotsocrJson, EmptyPageIsEmptyArray) {
  EXPECT_EQ(to_dotsocr_json(page({})).dump(), "[]");
}

TEST(Markdown, WritesEachCategoryAndLeavesOutMarginsAndPictures) {
  const std::string markdown = to_markdown(page({
      element(category::page_header, "Running head"),
      element(category::title, "The Title"),
      element(category::section_header, "1 Introduction"),
      element(category::text, "Body text."),
      element(category::list_item, "first item"),
      element(category::list_item, "2. second item"),
      element(category::picture, ""),
      element(category::caption, "Figure 1. A chart."),
      element(category::formula, "E = mc^2"),
      element(category::footnote, "1 A note."),
      element(category::page_footer, "7"),
  }));
  EXPECT_EQ(markdown,
            "# The Title\n\n"
            "## 1 Introduction\n\n"
            "Body text.\n\n"
            "- first item\n\n"
            "2. second item\n\n"
            "Figure 1. A chart.\n\n"
            "$$\nE = mc^2\n$$\n\n"
            "1 A note.");
}

TEST(Markdown, NumberedListItemKeepsItsNumber) {
  EXPECT_EQ(to_markdown(page({element(category::list_item, "12) twelfth")})), "12. twelfth");
  EXPECT_EQ(to_markdown(page({element(category::list_item, "(a) lettered")})), "- (a) lettered");
}

TEST(Markdown, TableFromCellsWithHeaderAndEscapedPipes) {
  Element table = element(category::table, "<table>...</table>");
  table.cells = {{"Name", "Value"}, {"a|b", "1"}, {"short"}};
  EXPECT_EQ(to_markdown(page({table})),
            "| Name | Value |\n"
            "| --- | --- |\n"
            "| a\\|b | 1 |\n"
            "| short |  |");
}

TEST(Markdown, TableWithoutCellsFallsBackToText) {
  EXPECT_EQ(to_markdown(page({element(category::table, "<table><tr><td>x</td></tr></table>")})),
            "<table><tr><td>x</td></tr></table>");
}

TEST(Markdown, HeadingsAreSingleLine) {
  EXPECT_EQ(to_markdown(page({element(category::title, "Two\nlines")})), "# Two lines");
}

}  // namespace
}  // namespace visor::ocr

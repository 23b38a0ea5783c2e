// Document::searchable_pdf: recognised text laid over the pages as an
// invisible layer that text extraction reads back, where it was placed.

#include <gtest/gtest.h>

#include <cmath>

#include "pdf/document.hpp"
#include "support/test_pdf.hpp"
#include "util/utf8.hpp"

namespace visor::pdf {
namespace {

using test::make_pdf;
using test::text_line;

std::string text_of(const TextLine& line) {
  std::string text;
  for (const TextGlyph& glyph : line.glyphs) util::append_utf8(text, glyph.codepoint);
  return text;
}

class SearchablePdfTest : public ::testing::Test {
 protected:
  Document open(std::string bytes) {
    auto document = Document::open(context_, std::make_shared<const std::string>(std::move(bytes)));
    EXPECT_TRUE(document.ok()) << document.error().message;
    return std::move(*document);
  }

  // The searchable PDF of `source` with `pages`, reopened.
  Document searchable(const std::string& source, const std::vector<PageText>& pages, double dpi = 200) {
    Document document = open(source);
    auto bytes = document.searchable_pdf(pages, dpi);
    EXPECT_TRUE(bytes.ok()) << bytes.error().message;
    EXPECT_TRUE(bytes.ok() && bytes->starts_with("%PDF-"));
    return open(bytes.ok() ? *bytes : std::string());
  }

  std::vector<TextLine> lines_of(Document& document, int page, double dpi = 200) {
    auto content = document.read_content(page, dpi);
    EXPECT_TRUE(content.ok()) << content.error().message;
    std::vector<TextLine> lines;
    if (!content.ok()) return lines;
    for (const TextBlock& block : content->blocks) lines.insert(lines.end(), block.lines.begin(), block.lines.end());
    return lines;
  }

  Context context_;
};

PageText one_line(int page, int x1, int y1, int x2, int y2, std::string text) {
  PageText out;
  out.page_index = page;
  out.lines.push_back({x1, y1, x2, y2, std::move(text)});
  return out;
}

TEST_F(SearchablePdfTest, TheTextComesBackInvisibleInsideTheBoxItWasGiven) {
  Document result = searchable(make_pdf({{""}}), {one_line(0, 200, 300, 900, 340, "Hello searchable world")});
  auto content = result.read_content(0, 200);
  ASSERT_TRUE(content.ok());
  EXPECT_GT(content->census.invisible, 0);
  EXPECT_EQ(content->census.visible, 0);
  const std::vector<TextLine> lines = lines_of(result, 0);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(text_of(lines[0]), "Hello searchable world");
  EXPECT_NEAR(lines[0].box.x0, 200, 3);
  EXPECT_NEAR(lines[0].box.x1, 900, 3);
  EXPECT_GE(lines[0].box.y0, 300 - 3);
  EXPECT_LE(lines[0].box.y1, 340 + 3);
}

TEST_F(SearchablePdfTest, WhatThePageDrewStaysAndPagesWithoutTextAreUntouched) {
  const std::string source = make_pdf({{text_line("Printed words", 72, 720)}, {text_line("Second page", 72, 720)}});
  Document result = searchable(source, {one_line(0, 100, 1000, 600, 1040, "Recognised")});
  ASSERT_EQ(result.page_count(), 2);
  std::vector<std::string> first;
  for (const TextLine& line : lines_of(result, 0)) first.push_back(text_of(line));
  EXPECT_EQ(first, (std::vector<std::string>{"Printed words", "Recognised"}));
  const std::vector<TextLine> second = lines_of(result, 1);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(text_of(second[0]), "Second page");
}

TEST_F(SearchablePdfTest, AnyCharacterIsCarriedEvenPastOneFontsCodes) {
  std::string many;
  for (char32_t c = 0x4E00; c < 0x4E00 + 300; ++c) util::append_utf8(many, c);
  const std::string mixed = "Crème brûlée Ωμέγα";
  Document result = searchable(make_pdf({{""}}), {[&] {
                                 PageText page = one_line(0, 50, 100, 1500, 140, many);
                                 page.lines.push_back({50, 200, 700, 240, mixed});
                                 return page;
                               }()});
  std::string all;
  for (const TextLine& line : lines_of(result, 0)) all += text_of(line) + "\n";
  EXPECT_NE(all.find(mixed), std::string::npos) << all;
  EXPECT_NE(all.find(many), std::string::npos);
}

TEST_F(SearchablePdfTest, UnplacedLinesAreSetDownThePageInOrder) {
  PageText page;
  page.page_index = 0;
  page.unplaced_lines = {"First line of Markdown", "Second line"};
  Document result = searchable(make_pdf({{""}}), {page});
  std::vector<std::string> texts;
  for (const TextLine& line : lines_of(result, 0)) texts.push_back(text_of(line));
  EXPECT_EQ(texts, page.unplaced_lines);
}

TEST_F(SearchablePdfTest, ARotatedPageGetsItsTextWhereThePixelsShowIt) {
  test::TestPage rotated{"", 612, 792, 90};
  Document result = searchable(make_pdf({rotated}), {one_line(0, 300, 200, 1200, 240, "Sideways scan")});
  const std::vector<TextLine> lines = lines_of(result, 0);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(text_of(lines[0]), "Sideways scan");
  EXPECT_NEAR(lines[0].box.x0, 300, 3);
  EXPECT_GE(lines[0].box.y0, 200 - 3);
  EXPECT_LE(lines[0].box.y1, 240 + 3);
}

}  // namespace
}  // namespace visor::pdf

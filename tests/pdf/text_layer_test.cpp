// Document::read_content: a page's text layer, images and drawings in the
// pixels of the page at a DPI, and the census of how its text is drawn.

#include <gtest/gtest.h>

#include <stop_token>

#include "pdf/document.hpp"
#include "support/test_pdf.hpp"

namespace visor::pdf {
namespace {

using test::image_at;
using test::make_pdf;
using test::text_line;

class TextLayerTest : public ::testing::Test {
 protected:
  // Page 1 of a one-page Letter PDF with `content`, read at `dpi`.
  PageContent read(const std::string& content, double dpi = 200) {
    auto document = Document::open(context_, std::make_shared<const std::string>(make_pdf({{content}})));
    EXPECT_TRUE(document.ok()) << document.error().message;
    auto page = document->read_content(0, dpi);
    EXPECT_TRUE(page.ok()) << page.error().message;
    return page.ok() ? *page : PageContent{};
  }

  Context context_;
};

std::u32string text_of(const TextLine& line) {
  std::u32string text;
  for (const TextGlyph& glyph : line.glyphs) text += glyph.codepoint;
  return text;
}

TEST_F(TextLayerTest, ALineOfTextComesBackWithItsCharactersInPagePixels) {
  const PageContent page = read(text_line("Hello world", 72, 720, 12), 200);
  EXPECT_EQ(page.width, 1700);  // 8.5 in at 200 DPI
  EXPECT_EQ(page.height, 2200);
  ASSERT_EQ(page.blocks.size(), 1u);
  ASSERT_EQ(page.blocks[0].lines.size(), 1u);
  const TextLine& line = page.blocks[0].lines[0];
  EXPECT_EQ(text_of(line), U"Hello world");
  // x = 72 pt is one inch: 200 px. The baseline 72 pt below the top is
  // 200 px down, so the line's box straddles it.
  EXPECT_NEAR(line.box.x0, 200, 2);
  EXPECT_LT(line.box.y0, 200);
  EXPECT_GT(line.box.y1, 200);
  EXPECT_NEAR(line.font_size, 12 * 200.0 / 72, 0.5);
  EXPECT_TRUE(line.horizontal);
  EXPECT_FALSE(line.bold);
}

// The base 14 stand-in fonts map characters through their own encoding, not
// Unicode: a bullet looked up in the font again finds no outline. Its box
// must still be its ink (a small dot mid-line), not the font's whole cell.
TEST_F(TextLayerTest, AGlyphBoxIsTheInkOfTheGlyphDrawnEvenWhereTheFontIsNotMappedByUnicode) {
  const PageContent page = read(text_line("\\267 Fresh", 72, 720, 12), 200);
  ASSERT_EQ(page.blocks.size(), 1u);
  const TextLine& line = page.blocks[0].lines[0];
  ASSERT_FALSE(line.glyphs.empty());
  const TextGlyph& bullet = line.glyphs.front();
  EXPECT_EQ(bullet.codepoint, U'\u2022');
  const float baseline = 200;  // 72 pt below the top at 200 DPI
  EXPECT_LT(bullet.box.height(), 0.4f * line.cell_height) << bullet.box.y0 << " " << bullet.box.y1;
  EXPECT_LT(bullet.box.y1, baseline);
  EXPECT_GT(bullet.box.y0, baseline - 0.7f * line.cell_height);
  // The line hugs the ink of its letters: "F" and "h" reach the cap height,
  // nothing goes below the baseline.
  EXPECT_NEAR(line.box.y1, baseline, 2);
  EXPECT_LT(line.box.height(), 0.8f * line.cell_height);
}

TEST_F(TextLayerTest, TheCensusCountsVisibleGlyphsWithoutSpaces) {
  const PageContent page = read(text_line("Hello world", 72, 720));
  EXPECT_EQ(page.census.visible, 10);
  EXPECT_EQ(page.census.invisible, 0);
  EXPECT_EQ(page.census.unmapped, 0);
  EXPECT_EQ(page.census.private_use, 0);
}

TEST_F(TextLayerTest, TextInRenderModeThreeIsCountedInvisibleButStillRead) {
  const PageContent page = read(text_line("Hidden words", 72, 720, 12, "F1", 3));
  EXPECT_EQ(page.census.visible, 0);
  EXPECT_EQ(page.census.invisible, 11);
  ASSERT_EQ(page.blocks.size(), 1u);
  EXPECT_EQ(text_of(page.blocks[0].lines[0]), U"Hidden words");
}

TEST_F(TextLayerTest, GlyphsOfAFontWithoutUnicodeNamesAreCountedUnmapped) {
  const PageContent page = read(text_line("Hello", 72, 720, 12, "F2"));
  EXPECT_EQ(page.census.visible, 5);
  EXPECT_EQ(page.census.unmapped, 5);
  ASSERT_EQ(page.blocks.size(), 1u);
  EXPECT_EQ(page.blocks[0].lines[0].glyphs[0].codepoint, U'\uFFFD');
}

TEST_F(TextLayerTest, ImagesAndDrawingsComeBackAsBoxesInPagePixels) {
  // An image over the left half inch square at (72, 72) pt; a filled
  // rectangle one inch wide at (288, 432) pt.
  const PageContent page = read(image_at(72, 72, 36, 36) + "288 432 72 36 re f\n", 200);
  ASSERT_EQ(page.images.size(), 1u);
  EXPECT_NEAR(page.images[0].x0, 200, 1);
  EXPECT_NEAR(page.images[0].x1, 300, 1);
  EXPECT_NEAR(page.images[0].y1, 2200 - 200, 1);  // its bottom edge is 1 in above the page's bottom
  ASSERT_EQ(page.drawings.size(), 1u);
  EXPECT_NEAR(page.drawings[0].x0, 800, 1);
  EXPECT_NEAR(page.drawings[0].width(), 200, 1);
  EXPECT_NEAR(page.drawings[0].height(), 100, 1);
  EXPECT_TRUE(page.blocks.empty());
  EXPECT_EQ(page.census.visible, 0);
}

TEST_F(TextLayerTest, AStrokedLineIsADrawingAsThickAsItsPen) {
  const PageContent page = read("3.6 w 72 396 m 540 396 l S\n", 200);
  ASSERT_EQ(page.drawings.size(), 1u);
  EXPECT_NEAR(page.drawings[0].width(), 1300, 12);
  EXPECT_NEAR(page.drawings[0].height(), 10, 2);  // 3.6 pt at 200 DPI
}

TEST_F(TextLayerTest, ReadingStopsAtThePastDeadlineOrWhenAbandoned) {
  auto document = Document::open(context_, std::make_shared<const std::string>(make_pdf({{text_line("A", 72, 720)}})));
  ASSERT_TRUE(document.ok());
  auto late = document->read_content(0, 200, std::chrono::steady_clock::now() - std::chrono::milliseconds(1));
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().kind, Error::Kind::timeout);

  std::stop_source abandon;
  abandon.request_stop();
  auto abandoned = document->read_content(0, 200, kNoDeadline, abandon.get_token());
  ASSERT_FALSE(abandoned.ok());
  EXPECT_EQ(abandoned.error().kind, Error::Kind::conflict);
}

TEST_F(TextLayerTest, APageOutOfRangeIsAnInvalidRequest) {
  auto document = Document::open(context_, std::make_shared<const std::string>(make_pdf({{text_line("A", 72, 720)}})));
  ASSERT_TRUE(document.ok());
  auto missing = document->read_content(3, 200);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, Error::Kind::invalid_request);
}

}  // namespace
}  // namespace visor::pdf

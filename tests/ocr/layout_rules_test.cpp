// The layout heuristics on hand-made scans; no Tesseract involved.

#include "ocr/layout_rules.hpp"

#include <gtest/gtest.h>

namespace visor::ocr::rules {
namespace {

constexpr int kPageWidth = 1000;
constexpr int kPageHeight = 1400;
constexpr int kBody = 20;  // body line height in these scans

// One line of words at (x, y) whose words are spread by `gap` pixels.
Line make_line(const std::string& text, int x, int y, int height = kBody, int gap = 8) {
  Line line;
  line.row_height = static_cast<float>(height);
  int cursor = x;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const int width = static_cast<int>(end - start) * height / 2;
    line.words.push_back({{cursor, y, cursor + width, y + height}, text.substr(start, end - start)});
    cursor += width + gap;
    start = end + 1;
  }
  line.box = {x, y, cursor - gap, y + height};
  return line;
}

Paragraph make_paragraph(const std::vector<std::string>& lines, int x, int y, int height = kBody) {
  Paragraph paragraph;
  for (const std::string& text : lines) {
    paragraph.lines.push_back(make_line(text, x, y, height));
    paragraph.box = unite(paragraph.box, paragraph.lines.back().box);
    y += height * 3 / 2;
  }
  return paragraph;
}

Paragraph single_paragraph(const Line& line) {
  Paragraph paragraph;
  paragraph.lines = {line};
  paragraph.box = line.box;
  return paragraph;
}

Block text_block(std::vector<Paragraph> paragraphs) {
  Block block;
  block.kind = BlockKind::text;
  for (const Paragraph& p : paragraphs) block.box = unite(block.box, p.box);
  block.paragraphs = std::move(paragraphs);
  return block;
}

PageScan scan_of(std::vector<Block> blocks) {
  return PageScan{kPageWidth, kPageHeight, std::move(blocks)};
}

std::vector<std::string> categories(const PageLayout& layout) {
  std::vector<std::string> out;
  for (const Element& e : layout.elements) out.push_back(e.category);
  return out;
}

// A body paragraph of `n` lines so the page has a clear body height.
Paragraph body(int y, int n = 6) {
  return make_paragraph(std::vector<std::string>(n, "plain body text of ordinary size"), 100, y);
}

// --- Text assembly --------------------------------------------------------

TEST(JoinLines, JoinsWithSpaces) {
  EXPECT_EQ(join_lines({"one two", "three"}), "one two three");
}

TEST(JoinLines, DehyphenatesWordBrokenAcrossLines) {
  EXPECT_EQ(join_lines({"an exam-", "ple here"}), "an example here");
}

TEST(JoinLines, KeepsHyphenBeforeCapitalOrNumber) {
  EXPECT_EQ(join_lines({"Jean-", "Paul"}), "Jean-Paul");
  EXPECT_EQ(join_lines({"pages 10-", "20"}), "pages 10-20");
  EXPECT_EQ(join_lines({"a pause -", "then more"}), "a pause - then more");
}

TEST(LineText, JoinsWordsWithSingleSpaces) {
  EXPECT_EQ(line_text(make_line("a b  c", 0, 0)), "a b c");
}

// --- Margins --------------------------------------------------------------

TEST(MarginZone, ShortParagraphInTopSevenPercentIsPageHeader) {
  const Paragraph header = make_paragraph({"Journal of Things"}, 100, 40);
  EXPECT_STREQ(margin_category(header, kPageHeight), category::page_header);
}

TEST(MarginZone, ShortParagraphInBottomSevenPercentIsPageFooter) {
  const Paragraph footer = make_paragraph({"12"}, 500, kPageHeight - 60);
  EXPECT_STREQ(margin_category(footer, kPageHeight), category::page_footer);
}

TEST(MarginZone, ParagraphReachingBelowTheZoneIsNotAHeader) {
  const Paragraph text = make_paragraph({"first"}, 100, 90);  // ends at 110 > 7% of 1400 = 98
  EXPECT_EQ(margin_category(text, kPageHeight), nullptr);
}

TEST(MarginZone, LongParagraphInZoneIsNotAHeader) {
  const Paragraph text = make_paragraph({"a", "b", "c"}, 100, 0, 10);
  ASSERT_TRUE(in_header_zone(text.box, kPageHeight));
  EXPECT_EQ(margin_category(text, kPageHeight), nullptr);
}

// --- Headings -------------------------------------------------------------

TEST(Title, TallestLargeParagraphNearTopIsTitle) {
  const PageScan scan = scan_of({text_block({make_paragraph({"A Big Title"}, 100, 150, 40),
                                             make_paragraph({"Smaller Big Line"}, 100, 230, 34), body(300)})});
  const float height = median_body_line_height(scan);
  EXPECT_FLOAT_EQ(height, kBody);
  EXPECT_EQ(find_title(scan, height), &scan.blocks[0].paragraphs[0]);
}

TEST(Title, NeedsOnePointSixTimesBodyHeight) {
  const PageScan scan = scan_of({text_block({make_paragraph({"Not Quite"}, 100, 150, 31), body(300)})});
  EXPECT_EQ(find_title(scan, kBody), nullptr);
}

TEST(Title, MustBeNearTheTop) {
  const PageScan scan = scan_of({text_block({body(150), make_paragraph({"Low Big Text"}, 100, 900, 40)})});
  EXPECT_EQ(find_title(scan, kBody), nullptr);
}

TEST(SectionHeader, ShortLargerParagraphIsHeader) {
  const Paragraph heading = make_paragraph({"Methods"}, 100, 500, 25);
  EXPECT_TRUE(is_header_by_size(heading, "Methods", kBody));
}

TEST(SectionHeader, BodySizedOrSentenceIsNotHeaderBySize) {
  EXPECT_FALSE(is_header_by_size(make_paragraph({"Methods"}, 100, 500, 22), "Methods", kBody));
  EXPECT_FALSE(is_header_by_size(make_paragraph({"It ends."}, 100, 500, 30), "It ends.", kBody));
  EXPECT_FALSE(is_header_by_size(make_paragraph({"a", "b", "c"}, 100, 500, 30), "a b c", kBody));
}

TEST(SectionHeader, NumberedHeadingPattern) {
  EXPECT_TRUE(is_numbered_heading("2.1 Methods"));
  EXPECT_TRUE(is_numbered_heading("3 Results and Discussion"));
  EXPECT_TRUE(is_numbered_heading("1. Introduction"));
  EXPECT_FALSE(is_numbered_heading("2.1 methods in lower case"));
  EXPECT_FALSE(is_numbered_heading("12 Apples were sold."));
  EXPECT_FALSE(is_numbered_heading("2021 Annual Report"));
  EXPECT_FALSE(is_numbered_heading("Methods"));
}

// --- Lists ----------------------------------------------------------------

TEST(ListMarker, FindsBullets) {
  for (const char* text : {"\u2022 item", "- item", "* item", "\u00b7 item", "\u25aa item"}) {
    const auto marker = find_list_marker(text);
    ASSERT_TRUE(marker) << text;
    EXPECT_EQ(marker->kind, ListMarker::Kind::bullet) << text;
  }
}

TEST(ListMarker, FindsEnumerators) {
  for (const char* text : {"1. item", "2) item", "a) item", "(iv) item", "iv. item", "(3) item"}) {
    const auto marker = find_list_marker(text);
    ASSERT_TRUE(marker) << text;
    EXPECT_EQ(marker->kind, ListMarker::Kind::enumerator) << text;
  }
}

TEST(ListMarker, RejectsLookalikes) {
  for (const char* text : {"-5 degrees", "3.5 million", "1.", "Apple) x", "(iv)x", "2021. The", "word"}) {
    EXPECT_FALSE(find_list_marker(text)) << text;
  }
}

TEST(ListMarker, StripsBulletButKeepsEnumerator) {
  EXPECT_EQ(strip_bullet("\u2022  first item"), "first item");
  EXPECT_EQ(strip_bullet("2) second item"), "2) second item");
  EXPECT_EQ(strip_bullet("plain"), "plain");
}

TEST(ListSplit, NewItemAtEachMarkedLine) {
  const Paragraph p = make_paragraph({"\u2022 one", "continued", "\u2022 two", "\u2022 three"}, 100, 100);
  const auto items = split_list_items(p.lines);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].first, 0u);
  EXPECT_EQ(items[0].last, 2u);
  EXPECT_EQ(items[2].first, 3u);
}

TEST(ListSplit, BuildLayoutEmitsOneListItemPerMarker) {
  const PageScan scan = scan_of({text_block(
      {body(150), make_paragraph({"\u2022 first item", "wraps here", "\u2022 second item"}, 100, 400)})});
  const PageLayout layout = build_layout(scan);
  ASSERT_EQ(categories(layout), (std::vector<std::string>{"Text", "List-item", "List-item"}));
  EXPECT_EQ(layout.elements[1].text, "first item wraps here");
  EXPECT_EQ(layout.elements[2].text, "second item");
  EXPECT_EQ(layout.elements[2].bbox.y1, 400 + kBody * 3);
}

TEST(ListSplit, LoneEnumeratedParagraphStaysText) {
  const PageScan scan = scan_of({text_block({body(150), make_paragraph({"10. Automatic licensing of", "all the "
                                                                        "downstream recipients."},
                                                                       100, 400)})});
  EXPECT_EQ(categories(build_layout(scan)), (std::vector<std::string>{"Text", "Text"}));
}

TEST(ListSplit, EnumeratedRunIsAList) {
  const PageScan scan = scan_of({text_block({body(150), make_paragraph({"1. Apples are red and round."}, 100, 400),
                                             make_paragraph({"2. Pears are green and long."}, 100, 440)})});
  EXPECT_EQ(categories(build_layout(scan)), (std::vector<std::string>{"Text", "List-item", "List-item"}));
}

// --- Captions and footnotes -----------------------------------------------

TEST(Caption, RecognisesLabels) {
  EXPECT_TRUE(starts_like_caption("Figure 3. A plot"));
  EXPECT_TRUE(starts_like_caption("Fig. 12: Results"));
  EXPECT_TRUE(starts_like_caption("Table 2 Sizes"));
  EXPECT_FALSE(starts_like_caption("Figures show"));
  EXPECT_FALSE(starts_like_caption("Table of contents"));
}

TEST(Caption, AdjacencyNeedsHorizontalOverlapAndSmallGap) {
  const Box figure{200, 300, 800, 700};
  EXPECT_TRUE(is_adjacent({150, 710, 600, 730}, figure, 30));
  EXPECT_FALSE(is_adjacent({150, 760, 600, 780}, figure, 30));
  EXPECT_FALSE(is_adjacent({820, 710, 900, 730}, figure, 30));
}

TEST(Caption, LabelNextToPictureBecomesCaptionOtherwiseText) {
  Block picture;
  picture.kind = BlockKind::picture;
  picture.box = {200, 300, 800, 700};
  const PageScan scan = scan_of({text_block({body(100, 6)}), picture,
                                 text_block({make_paragraph({"Figure 1. A picture"}, 150, 715),
                                             make_paragraph({"Figure 2. Far away"}, 150, 1000)})});
  EXPECT_EQ(categories(build_layout(scan)), (std::vector<std::string>{"Text", "Picture", "Caption", "Text"}));
}

TEST(Footnote, SmallNumberedNoteLowOnPage) {
  const Paragraph note = make_paragraph({"1 A note about something."}, 100, 1200, 15);
  EXPECT_TRUE(is_footnote(note, "1 A note about something.", kPageHeight, kBody));
  const Paragraph high = make_paragraph({"1 A note about something."}, 100, 600, 15);
  EXPECT_FALSE(is_footnote(high, "1 A note about something.", kPageHeight, kBody));
  const Paragraph large = make_paragraph({"1 A note about something."}, 100, 1200, 20);
  EXPECT_FALSE(is_footnote(large, "1 A note about something.", kPageHeight, kBody));
}

// --- Pictures -------------------------------------------------------------

TEST(Picture, ClosedFrameOfRulesWithoutTextIsPicture) {
  const std::vector<Box> rules = {{200, 300, 800, 303}, {200, 300, 203, 700}, {797, 300, 800, 700},
                                  {200, 697, 800, 700}, {100, 1000, 900, 1002}};
  const auto groups = group_rules(rules, 5);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0], (std::vector<std::size_t>{0, 1, 2, 3}));
  EXPECT_TRUE(is_picture_frame({200, 300, 800, 700}, {{100, 100, 900, 120}}, kBody));
  EXPECT_FALSE(is_picture_frame({200, 300, 800, 700}, {{250, 400, 700, 420}}, kBody));
}

TEST(Picture, GraphicLineIsMovedOutOfItsParagraph) {
  Paragraph p = make_paragraph({"not signed it."}, 100, 400);
  Line bars = make_line("l a.", 300, 430, kBody);
  bars.box.y2 = bars.box.y1 + 5 * kBody;
  p.lines.push_back(bars);
  EXPECT_TRUE(is_graphic_line(bars, kBody));
  EXPECT_FALSE(is_graphic_line(make_line("BIG TITLE", 0, 0, 3 * kBody), kBody));
  const PageScan scan = separate_graphic_lines(scan_of({text_block({p})}), kBody);
  ASSERT_EQ(scan.blocks.size(), 2u);
  EXPECT_EQ(scan.blocks[0].paragraphs[0].lines.size(), 1u);
  EXPECT_EQ(scan.blocks[0].paragraphs[0].box.y2, 400 + kBody);
  EXPECT_EQ(scan.blocks[1].kind, BlockKind::picture);
}

TEST(Picture, SpeckIsNoPicture) {
  EXPECT_TRUE(is_speck({0, 0, 18, 23}, kBody));
  EXPECT_FALSE(is_speck({0, 0, 300, 200}, kBody));
}

// --- Tables ---------------------------------------------------------------

TEST(Table, CellsSplitAtLargeGapsAndRowsByVerticalOverlap) {
  const std::vector<Word> words = {
      {{100, 100, 150, 120}, "Name"}, {{400, 102, 450, 121}, "Value"},
      {{100, 140, 130, 160}, "big"},  {{136, 140, 170, 160}, "apple"},
      {{400, 141, 420, 160}, "3"},
  };
  const auto cells = table_cells(words);
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_EQ(cells[0], (std::vector<std::string>{"Name", "Value"}));
  EXPECT_EQ(cells[1], (std::vector<std::string>{"big apple", "3"}));
}

TEST(Table, HtmlEscapesCells) {
  EXPECT_EQ(table_html({{"a<b", "c&d"}, {"e"}}),
            "<table><tr><td>a&lt;b</td><td>c&amp;d</td></tr><tr><td>e</td></tr></table>");
}

TEST(Table, TableBlockGrowsToItsFramingRules) {
  Block table;
  table.kind = BlockKind::table;
  table.box = {150, 400, 600, 480};
  table.paragraphs = {make_paragraph({"Name", "Alice"}, 160, 410)};
  Block rule;
  rule.kind = BlockKind::rule;
  rule.box = {140, 490, 900, 492};
  const PageLayout layout = build_layout(scan_of({text_block({body(100)}), table, rule}));
  ASSERT_EQ(categories(layout), (std::vector<std::string>{"Text", "Table"}));
  EXPECT_EQ(layout.elements[1].bbox.x2, 900);
  EXPECT_EQ(layout.elements[1].bbox.y2, 492);
  EXPECT_EQ(layout.elements[1].text, "<table><tr><td>Name</td></tr><tr><td>Alice</td></tr></table>");
}

// --- The whole page -------------------------------------------------------

TEST(BuildLayout, HeadersFirstFootersLastAndCategoriesByRule) {
  const PageScan scan = scan_of({
      text_block({make_paragraph({"A Big Title"}, 100, 150, 40)}),
      text_block({make_paragraph({"42"}, 500, kPageHeight - 50)}),
      text_block({body(250), make_paragraph({"2.1 Methods"}, 100, 500), body(540)}),
      text_block({make_paragraph({"Running Head"}, 100, 30)}),
  });
  EXPECT_EQ(categories(build_layout(scan)),
            (std::vector<std::string>{"Page-header", "Title", "Text", "Section-header", "Text", "Page-footer"}));
}

TEST(BuildLayout, EmptyScanGivesEmptyLayout) {
  const PageLayout layout = build_layout(scan_of({}));
  EXPECT_TRUE(layout.elements.empty());
  EXPECT_EQ(layout.width, kPageWidth);
}


TEST(ListMarker, MisreadRoundBulletsAreBullets) {
  for (const char* text : {"\u00a2 item", "\u00a9 item", "\u00b0 item"}) {
    const auto marker = find_list_marker(text);
    ASSERT_TRUE(marker) << text;
    EXPECT_EQ(marker->kind, ListMarker::Kind::bullet) << text;
  }
}

TEST(ListStyle, SameFormOfMarkerOnly) {
  EXPECT_TRUE(same_list_style("1. one", "2. two"));
  EXPECT_TRUE(same_list_style("a) one", "b) two"));
  EXPECT_TRUE(same_list_style("\u2022 one", "- two"));
  EXPECT_FALSE(same_list_style("(c) prose", "\u2022 item"));
  EXPECT_FALSE(same_list_style("1. one", "a) two"));
  EXPECT_FALSE(same_list_style("plain", "plain"));
}

TEST(ListSplit, HangingIndentMarksWrappedItem) {
  Paragraph item = make_paragraph({"10. Automatic licensing of", "downstream recipients"}, 100, 100);
  EXPECT_FALSE(has_hanging_indent(item, kBody));
  item.lines[1] = make_line("downstream recipients", 130, item.lines[1].box.y1);
  EXPECT_TRUE(has_hanging_indent(item, kBody));
}

TEST(ListSplit, NumberedProseParagraphWrappingToMarginIsText) {
  PageScan scan{kPageWidth, kPageHeight, {}};
  Block block{BlockKind::text, {}, {make_paragraph({"10. Automatic licensing of", "downstream recipients."}, 100, 300),
                                    make_paragraph({"11. Miscellaneous terms of", "this license apply."}, 100, 400)}};
  scan.blocks.push_back(block);
  const PageLayout layout = build_layout(scan);
  ASSERT_EQ(layout.elements.size(), 2u);
  EXPECT_EQ(layout.elements[0].category, category::text);
  EXPECT_EQ(layout.elements[1].category, category::text);
}

TEST(ParagraphRepair, StackedNumberedHeadingsAreSplit) {
  const Paragraph stacked = make_paragraph({"2 Work For The", "3 Do Not"}, 100, 300);
  EXPECT_TRUE(is_stacked_headings(stacked));
  EXPECT_FALSE(is_stacked_headings(make_paragraph({"2 Methods", "We measured the thing."}, 100, 300)));
  PageScan scan{kPageWidth, kPageHeight, {Block{BlockKind::text, {}, {stacked}}}};
  const PageScan split = split_stacked_headings(scan);
  ASSERT_EQ(split.blocks[0].paragraphs.size(), 2u);
  EXPECT_EQ(line_text(split.blocks[0].paragraphs[1].lines[0]), "3 Do Not");
}

TEST(ParagraphRepair, WrappedHeadingIsMerged) {
  const Paragraph first = make_paragraph({"By That Contributor With Its"}, 100, 100, 40);
  const Paragraph next = make_paragraph({"Version (Or"}, 100, 150, 36);
  EXPECT_TRUE(continues_heading(first, next, kBody));
  EXPECT_FALSE(continues_heading(first, make_paragraph({"2 Next Section"}, 100, 150, 36), kBody));
  EXPECT_FALSE(continues_heading(first, make_paragraph({"body text"}, 100, 150), kBody));
  EXPECT_FALSE(continues_heading(first, make_paragraph({"Version (Or"}, 100, 300, 36), kBody));
  PageScan scan{kPageWidth, kPageHeight, {Block{BlockKind::text, {}, {first, next}}}};
  const PageScan merged = merge_heading_continuations(scan, kBody);
  ASSERT_EQ(merged.blocks[0].paragraphs.size(), 1u);
  EXPECT_EQ(merged.blocks[0].paragraphs[0].lines.size(), 2u);
}

TEST(ParagraphRepair, WrappedHeadingIsMergedAcrossBlocks) {
  const Paragraph first = make_paragraph({"By That Contributor With Its"}, 100, 100, 40);
  const Paragraph next = make_paragraph({"Version (Or"}, 100, 150, 36);
  PageScan scan{kPageWidth, kPageHeight,
                {Block{BlockKind::text, first.box, {first}}, Block{BlockKind::text, next.box, {next}}}};
  const PageScan merged = merge_heading_continuations(scan, kBody);
  ASSERT_EQ(merged.blocks.size(), 1u);
  EXPECT_EQ(merged.blocks[0].paragraphs[0].lines.size(), 2u);
  EXPECT_EQ(merged.blocks[0].box.y2, next.box.y2);
}

TEST(ParagraphRepair, LeadInIsSplitFromBulletsBelow) {
  const Paragraph mixed = make_paragraph({"Table 3: free program", "+ License somewhere", "+ owned by the contributor"}, 100, 300);
  PageScan scan{kPageWidth, kPageHeight, {Block{BlockKind::text, {}, {mixed}}}};
  const PageScan split = split_before_bullets(scan);
  ASSERT_EQ(split.blocks[0].paragraphs.size(), 2u);
  EXPECT_EQ(split.blocks[0].paragraphs[0].lines.size(), 1u);
  EXPECT_EQ(split.blocks[0].paragraphs[1].lines.size(), 2u);
}

TEST(MarginLines, NewLinesAddedAndKnownOnesDropped) {
  PageScan scan{kPageWidth, kPageHeight, {Block{BlockKind::text, {}, {make_paragraph({"Running head"}, 100, 20)}}}};
  const std::vector<Line> found = {make_line("Running head", 100, 20), make_line("7", 490, 1370), Line{}};
  const PageScan added = add_margin_lines(scan, found);
  ASSERT_EQ(added.blocks.size(), 2u);
  ASSERT_EQ(added.blocks[1].paragraphs.size(), 1u);
  EXPECT_EQ(line_text(added.blocks[1].paragraphs[0].lines[0]), "7");
  EXPECT_EQ(margin_category(added.blocks[1].paragraphs[0], kPageHeight), std::string(category::page_footer));
}

TEST(TypeBox, StretchesToAscenderAndDescenderNeverShrinks) {
  const Box ink{10, 100, 20, 120};  // a digit: baseline at 120, no descender
  const Box box = type_box(ink, 120, 24, 6);
  EXPECT_EQ(box.y1, 96);
  EXPECT_EQ(box.y2, 126);
  EXPECT_EQ(box.x1, 10);
  EXPECT_EQ(type_box(ink, 120, 0, 6).y1, 100);
  const Box tall{10, 80, 20, 130};
  EXPECT_EQ(type_box(tall, 120, 24, 6).y1, 80);
  EXPECT_EQ(type_box(tall, 120, 24, 6).y2, 130);
}

TEST(FigureBox, LoneDigitGetsHalfAnEmPerDigitCentredOnItsInk) {
  const Box one{100, 200, 104, 224};  // the ink of a "1" in 24 px type
  const Box box = figure_box(one, 1, 24);
  EXPECT_NEAR(box.x1, 97, 1);
  EXPECT_NEAR(box.x2, 107, 1);
  EXPECT_EQ(box.y1, 200);
  EXPECT_EQ(box.y2, 224);
  const Box wide{100, 200, 160, 224};  // wider than its advance: unchanged
  EXPECT_EQ(figure_box(wide, 2, 24).x1, 100);
  EXPECT_EQ(figure_box(one, 1, 0).x2, 104);
}

TEST(FigureBox, OnlyDigitOnlyLinesAreWidened) {
  Line number = make_line("7", 500, 1350);
  number.box.x2 = number.box.x1 + 4;
  const Line word = make_line("I", 100, 1350);
  PageScan scan = scan_of({text_block({single_paragraph(number), single_paragraph(word)})});
  const PageScan widened = widen_figure_lines(scan);
  EXPECT_GT(widened.blocks[0].paragraphs[0].lines[0].box.width(), 4);
  EXPECT_GT(widened.blocks[0].paragraphs[0].box.width(), 4);
  EXPECT_EQ(widened.blocks[0].paragraphs[1].lines[0].box.x2, word.box.x2);
}

// A line "• text" as Tesseract reads it when it merges the bullet into the
// first word: the bullet's ink sits at `x`, the first word's glyph boxes as given.
Line merged_bullet_line(const std::string& first_word, Box first_glyph, Box second_glyph) {
  Line line = make_line(first_word + " is the first time", 100, 300);
  Word& word = line.words.front();
  word.box.x1 = first_glyph.x1;
  word.first_glyph = first_glyph;
  word.second_glyph = second_glyph;
  line.box.x1 = first_glyph.x1;
  return line;
}

TEST(MergedBullet, SmallGlyphBeforeAGapIsABullet) {
  const Line line = merged_bullet_line("this", {100, 308, 108, 316}, {132, 300, 142, 320});
  EXPECT_TRUE(has_merged_bullet(line.words.front(), kBody));
  const Line restored = split_merged_bullet(line);
  ASSERT_EQ(restored.words.size(), line.words.size() + 1);
  EXPECT_EQ(line_text(restored), "\u2022 this is the first time");
  EXPECT_EQ(restored.words.front().box.x1, 100);
  EXPECT_EQ(strip_bullet(line_text(restored)), "this is the first time");
}

TEST(MergedBullet, MisreadBulletGlyphIsRemovedFromTheWord) {
  const Line line = merged_bullet_line("\u00abthe", {100, 308, 107, 315}, {131, 300, 138, 320});
  EXPECT_EQ(line_text(split_merged_bullet(line)), "\u2022 the is the first time");
}

TEST(MergedBullet, FirstGlyphStretchedOverTheBulletIsABulletNextToABulletedLine) {
  const Line line = merged_bullet_line("this", {100, 304, 146, 320}, {148, 300, 160, 320});
  EXPECT_FALSE(has_merged_bullet(line.words.front(), kBody));
  EXPECT_TRUE(has_stretched_first_glyph(line.words.front(), kBody));
  EXPECT_EQ(line_text(split_merged_bullet(line)), "\u2022 this is the first time");
  // Alone (a word whose first letter took in the frame of a diagram box),
  // or next to a bullet at another left edge, it stays as read.
  const PageScan alone = restore_merged_bullets(scan_of({text_block({single_paragraph(line)})}));
  EXPECT_EQ(line_text(alone.blocks[0].paragraphs[0].lines[0]), "this is the first time");
  const Line indented_bullet = make_line("\u2022 an item", 160, 266);
  const PageScan apart =
      restore_merged_bullets(scan_of({text_block({single_paragraph(indented_bullet), single_paragraph(line)})}));
  EXPECT_EQ(line_text(apart.blocks[0].paragraphs[1].lines[0]), "this is the first time");
  const Line bullet = make_line("\u2022 an item", 100, 266);
  const PageScan listed =
      restore_merged_bullets(scan_of({text_block({single_paragraph(bullet), single_paragraph(line)})}));
  EXPECT_EQ(line_text(listed.blocks[0].paragraphs[1].lines[0]), "\u2022 this is the first time");
}

TEST(MergedBullet, StretchedDashOrGlyphOutsideItsWordIsNoBullet) {
  // A rule of dashes in a figure; glyph boxes of rotated text, elsewhere on
  // the page.
  const Line dashes = merged_bullet_line("\u2014\u2014", {100, 309, 140, 312}, {142, 309, 170, 312});
  EXPECT_FALSE(has_stretched_first_glyph(dashes.words.front(), kBody));
  const Line bullet = make_line("\u2022 an item", 100, 266);
  Line rotated = merged_bullet_line("this", {100, 308, 108, 316}, {132, 300, 142, 320});
  rotated.words.front().first_glyph = {900, 1390, 908, 1398};
  rotated.words.front().second_glyph = {930, 1390, 940, 1400};
  const PageScan scan =
      restore_merged_bullets(scan_of({text_block({single_paragraph(bullet), single_paragraph(rotated)})}));
  EXPECT_EQ(line_text(scan.blocks[0].paragraphs[1].lines[0]), "this is the first time");
}

TEST(MergedBullet, OrdinaryLettersAreNoBullet) {
  // "the": letters side by side; "-5": a small first glyph without a gap;
  // "W": a wide letter, still narrower than the line is high.
  const auto first_word = [](const char* text, Box first, Box second) {
    return merged_bullet_line(text, first, second).words.front();
  };
  EXPECT_FALSE(has_merged_bullet(first_word("the", {100, 302, 107, 320}, {109, 300, 121, 320}), kBody));
  EXPECT_FALSE(has_merged_bullet(first_word("-5", {100, 308, 106, 311}, {108, 300, 118, 320}), kBody));
  EXPECT_FALSE(has_merged_bullet(first_word("Wo", {100, 300, 120, 320}, {121, 305, 131, 320}), kBody));
  EXPECT_FALSE(has_merged_bullet(make_line("this", 100, 300).words[0], kBody));  // glyphs unknown
  const Line plain = make_line("this is plain", 100, 300);
  EXPECT_EQ(line_text(split_merged_bullet(plain)), "this is plain");
}

TEST(MergedBullet, RestoredBulletMakesTheLineAListItem) {
  const Line first = make_line("\u2022 object code saying where", 100, 300);
  Line second = merged_bullet_line("this", {100, 338, 146, 354}, {148, 334, 160, 354});
  for (Word& word : second.words) word.box.y1 += 34, word.box.y2 += 34;
  second.box.y1 = 334;
  second.box.y2 = 354;
  Paragraph paragraph;
  paragraph.lines = {first, second};
  paragraph.box = unite(first.box, second.box);
  const PageLayout layout = build_layout(scan_of({text_block({body(600), paragraph})}));
  ASSERT_EQ(layout.elements.size(), 3u);
  EXPECT_EQ(layout.elements[1].category, category::list_item);
  EXPECT_EQ(layout.elements[2].category, category::list_item);
  EXPECT_EQ(layout.elements[2].text, "this is the first time");
}

TEST(ParagraphRepair, SizeBreakNeedsALargerLineAndAGap) {
  const Line item = make_line("\u2022 Front-Cover Text may be at.", 100, 300);
  const Line heading = make_line("6 Your Program", 100, 350, 26);
  const Line tight_heading = make_line("6 Your Program", 100, 322, 26);
  const Line body_line = make_line("and a Back-Cover Text", 100, 350);
  EXPECT_TRUE(is_size_break(item, heading, kBody));
  EXPECT_TRUE(is_size_break(heading, make_line("body text below", 100, 400), kBody));
  EXPECT_FALSE(is_size_break(item, tight_heading, kBody));  // lines of one paragraph
  EXPECT_FALSE(is_size_break(item, body_line, kBody));      // same size
  EXPECT_FALSE(is_size_break(make_line("Big One", 100, 300, 26), make_line("Big Two", 100, 350, 27), kBody));
}

TEST(ParagraphRepair, HeadingJoinedToTheItemAboveIsSplit) {
  Paragraph mixed;
  mixed.lines = {make_line("\u2022 Front-Cover Text may be at.", 100, 300), make_line("6 Your Program", 100, 350, 26)};
  mixed.box = unite(mixed.lines[0].box, mixed.lines[1].box);
  const PageLayout layout = build_layout(scan_of({text_block({body(600), mixed})}));
  EXPECT_EQ(categories(layout), (std::vector<std::string>{"Text", "List-item", "Section-header"}));
}

// Two lines of a paragraph that run to its right edge: lines of these
// lengths at height 20 are 300 and 304 pixels wide.
const std::vector<std::string> kWrapped = {"the terms of this License whose", "permissions for other licensees"};

TEST(ParagraphRepair, LastLineSetApartIsMergedBack) {
  const Paragraph first = make_paragraph(kWrapped, 100, 300);
  const Paragraph next = make_paragraph({"extend to them."}, 100, 358);
  EXPECT_TRUE(continues_paragraph(first, next, kBody));
  PageScan scan = scan_of({text_block({first}), text_block({next})});
  const PageScan merged = merge_paragraph_continuations(scan, kBody);
  ASSERT_EQ(merged.blocks.size(), 1u);
  EXPECT_EQ(merged.blocks[0].paragraphs[0].lines.size(), 3u);
}

TEST(ParagraphRepair, NewParagraphIsNotMerged) {
  const Paragraph first = make_paragraph(kWrapped, 100, 300);
  EXPECT_FALSE(continues_paragraph(first, make_paragraph({"Extend to them."}, 100, 358), kBody));  // capital
  EXPECT_FALSE(continues_paragraph(first, make_paragraph({"extend to them."}, 100, 380), kBody));  // gap
  EXPECT_FALSE(continues_paragraph(first, make_paragraph({"extend to them."}, 140, 358), kBody));  // indent
  EXPECT_FALSE(continues_paragraph(first, make_paragraph({"extend to them."}, 100, 358, 30), kBody));  // size
  const Paragraph ended = make_paragraph({kWrapped[0], kWrapped[1] + "."}, 100, 300);
  EXPECT_FALSE(continues_paragraph(ended, make_paragraph({"extend to them."}, 100, 358), kBody));
  const Paragraph short_last = make_paragraph({"the terms of this License whose", "permissions"}, 100, 300);
  EXPECT_FALSE(continues_paragraph(short_last, make_paragraph({"extend to them."}, 100, 358), kBody));
}

}  // namespace
}  // namespace visor::ocr::rules

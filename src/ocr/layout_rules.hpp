#pragma once
// The layout heuristics of the embedded engine, as pure functions over plain
// structs. The Tesseract walker (tesseract_engine.cpp) fills a PageScan; these
// rules turn it into a PageLayout. Nothing here knows about Tesseract, so each
// rule is testable on hand-made input.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ocr/layout.hpp"

namespace visor::ocr::rules {

// --- What the engine saw --------------------------------------------------

struct Word {
  Box box;
  std::string text;  // UTF-8, no surrounding whitespace
  // The boxes of the word's first two glyphs as the recogniser placed them;
  // the engine fills them for the first word of each line only. Empty (all
  // zeros) when unknown or when the word has one glyph.
  Box first_glyph{};
  Box second_glyph{};
};

struct Line {
  Box box;
  // Font-size proxy in pixels (ascender top to descender bottom, as
  // Tesseract's RowAttributes reports it); 0 when unknown, then the box
  // height stands in.
  float row_height = 0;
  std::vector<Word> words;  // left to right
  // Set in a bold face: known from a text layer's fonts; an image gives no
  // reliable weight, so OCR'd lines never say so.
  bool bold = false;
};

struct Paragraph {
  Box box;
  std::vector<Line> lines;  // top to bottom
  bool is_list_item = false;  // the engine's own list detection
};

// rule: a horizontal or vertical separator line; rules frame pictures and
// tables.
enum class BlockKind { text, table, picture, formula, rule, ignored };

struct Block {
  BlockKind kind = BlockKind::text;
  Box box;
  std::vector<Paragraph> paragraphs;  // empty for pictures
};

struct PageScan {
  int width = 0;
  int height = 0;
  std::vector<Block> blocks;  // the engine's reading order
};

// --- Text assembly --------------------------------------------------------

// The words of a line joined by single spaces.
std::string line_text(const Line& line);

// Lines joined by spaces. A line ending in "letter-" followed by a line that
// starts with a lowercase letter is de-hyphenated ("exam-", "ple" ->
// "example"); other hyphens at a line end are kept and joined without a space
// ("Jean-", "Paul" -> "Jean-Paul").
std::string join_lines(const std::vector<std::string>& lines);

// The smallest box holding both (an empty box, all zeros, holds nothing).
Box unite(const Box& a, const Box& b);

// The box of a line of type: `ink` (the glyphs' box) stretched vertically
// to the type's full height, from ascender top (`ascent` pixels above the
// `baseline` row) to descender bottom (`descent` pixels below it), so that
// "1", "ace" and "Typography" set in one font get boxes of one height. Each
// side grows by at most half the ink height plus `ascent` + `descent` / 4
// (Tesseract's row estimates are rough on very short lines); non-positive
// metrics leave the box as it is; it never shrinks.
Box type_box(const Box& ink, int baseline, float ascent, float descent);

// The box of a run of `digits` digits whose ink is `ink`: at least
// `digits` x 0.45x `type_height` wide, centred on the ink. Text fonts set
// digits on one fixed advance of about half an em (0.45x the ascender-to-
// descender height) so that figures align in columns, and the box of a
// number is its advance: the ink of a lone "1" is a third of it. Wider ink
// and non-positive sizes leave the box as it is.
Box figure_box(const Box& ink, std::size_t digits, float type_height);

// Gives every line of text blocks that reads as digits only ("1", "23") its
// figure_box, and grows its paragraph's box to hold it.
PageScan widen_figure_lines(PageScan scan);

// --- Sizes ----------------------------------------------------------------

float line_height(const Line& line);

// The median line height of the paragraph; 0 for no lines.
float paragraph_line_height(const Paragraph& paragraph);

// The median line height over every word of the page's text blocks (each
// line's height counted once per word, so that the size most text is set
// in wins over a few large short lines: a title above one line of body
// text): the body text size the other size rules compare against. 0 when
// there is no text.
float median_body_line_height(const PageScan& scan);

// --- Page margins ---------------------------------------------------------

// Fraction of the page height that counts as the header or footer zone.
inline constexpr double kMarginZone = 0.07;

bool in_header_zone(const Box& box, int page_height);
bool in_footer_zone(const Box& box, int page_height);

// Page-header / Page-footer when the paragraph lies wholly in a margin zone
// and has at most 2 lines; nullptr otherwise.
const char* margin_category(const Paragraph& paragraph, int page_height);

// Adds lines found by a second look at the page margins
// (Tesseract's page layout drops isolated short text such as a lone page
// number) as one text block of one paragraph per line, after the existing
// blocks. Lines that overlap a line already in the scan were read before
// and are dropped, as are lines without words.
PageScan add_margin_lines(PageScan scan, std::vector<Line> lines);

// --- Headings -------------------------------------------------------------

// The page's title: among paragraphs of text blocks outside the margin zones
// whose top lies in the upper third of the page, have at most 3 lines and a
// line height at least 1.6x the body height (1.3x when every line is bold),
// the one with the tallest lines. nullptr when none qualifies. The pointer
// points into `scan`.
const Paragraph* find_title(const PageScan& scan, float body_height);

// A heading by size: at most 2 lines, not ending in sentence punctuation,
// line height at least 1.2x the body height.
bool is_header_by_size(const Paragraph& paragraph, std::string_view text, float body_height);

// "2.1 Methods", "3 Results", "1. Introduction": one line, a section number,
// then a capitalised short phrase (at most 10 words) without final
// punctuation.
bool is_numbered_heading(std::string_view text);

// --- Paragraph repair -----------------------------------------------------
// Tesseract groups lines into paragraphs by spacing alone, so short headings
// set close together come out as one paragraph, and a title that wraps can
// come out as two. These passes fix the grouping before categories are
// decided.

// True when the paragraph has at least 2 lines and every line on its own is
// a numbered heading ("2 Methods" over "3 Results"): headings stacked
// without body text between them.
bool is_stacked_headings(const Paragraph& paragraph);

// Replaces every stacked-headings paragraph of the text blocks by one
// paragraph per line.
PageScan split_stacked_headings(PageScan scan);

// Splits every text paragraph whose first line carries no list marker but a
// later line opens with a bullet before that line: the lead-in (a caption,
// a sentence introducing the list) and the list that Tesseract set in one
// paragraph become two.
PageScan split_before_bullets(PageScan scan);

// True when consecutive lines `upper` and `lower` of one paragraph belong
// to different paragraphs by their type: one is heading-sized (line height
// at least 1.2x the body height) and at least 1.2x the other's line height,
// and the vertical gap between them is at least half the body height, as
// around a heading, not between the lines of one paragraph.
bool is_size_break(const Line& upper, const Line& lower, float body_height);

// Splits every text paragraph at its size breaks (see is_size_break): a
// heading that Tesseract set in one paragraph with the text above or below
// it becomes a paragraph of its own.
PageScan split_at_size_breaks(PageScan scan, float body_height);

// True when `next` continues the heading `first` on the following line:
// both are heading-sized (line height at least 1.2x the body height) with
// line heights within 25% of each other (a short line's row estimate is
// rough), `first` does not end a sentence,
// `next` has at most 2 lines and does not start a numbered heading of its
// own, and the vertical gap between them is at most 0.8x their line height.
bool continues_heading(const Paragraph& first, const Paragraph& next, float body_height);

// Merges each paragraph that continues a heading (see continues_heading)
// into the text paragraph before it, in its block or an earlier one; text
// blocks left empty are removed.
PageScan merge_heading_continuations(PageScan scan, float body_height);

// True when `next` carries on the paragraph `first`, whose last line(s)
// Tesseract set apart (as a block of their own when a figure or a note
// follows): `first`'s last line runs to within one line height of its right
// edge without ending in . ! ? or : (it wrapped), `next` starts with a
// lowercase letter at `first`'s left edge (within half the body height),
// their line heights are within 20% of each other, and the vertical gap
// between them is at most 0.6x their line height, the leading of one
// paragraph (an overlap of the type boxes counts as a gap).
bool continues_paragraph(const Paragraph& first, const Paragraph& next, float body_height);

// Merges each paragraph that carries on the one before it (see
// continues_paragraph), in its block or an earlier one; text blocks left
// empty are removed.
PageScan merge_paragraph_continuations(PageScan scan, float body_height);

// --- Lists ----------------------------------------------------------------

struct ListMarker {
  enum class Kind { bullet, enumerator };
  Kind kind;
  std::size_t length;  // bytes of the marker and the whitespace after it
};

// A bullet (•, -, *, ·, ▪, ◦, ●, ■, –) or an enumerator ("1.", "2)", "a)",
// "(iv)", "iv.") at the start of `text`, followed by whitespace and more
// text; nullopt otherwise.
std::optional<ListMarker> find_list_marker(std::string_view text);

// The item text: a bullet and its whitespace removed, an enumerator kept.
std::string strip_bullet(std::string_view text);

// A hanging indent: the paragraph's second line starts at least half the
// body line height right of its first line, as the lines of a list item
// wrap under the item's text, not under its marker. False for fewer than 2
// lines.
bool has_hanging_indent(const Paragraph& paragraph, float body_height);

// True when two list markers read as one list: two bullets, or two
// enumerators of the same form (both digits, both letters or both roman
// numerals, with the same closing mark). "(c)" in prose next to a bulleted
// list is no list item.
bool same_list_style(std::string_view a, std::string_view b);

// A bullet that the recogniser merged into the word after it, as Tesseract's
// LSTM does with small round bullets (reading "• the" as "«the", or as
// "the" with the bullet's box for the 't'): the word's first glyph is
// bullet-sized (at most 0.6x `line_height` tall and wide) and its second
// glyph starts more than half `line_height` to the right, a gap no two
// letters of one word leave. False when the glyph boxes are unknown.
bool has_merged_bullet(const Word& word, float line_height);

// The weaker sign of a merged bullet: the word starts with a letter or
// digit whose glyph box is over 1.2x `line_height` wide (wider than any
// letter) and at least 0.4x tall, because the recogniser stretched it over
// the bullet and the space after it. Ink of another kind left of a word (the
// frame of a box in a diagram) shows the same, so this counts only next to
// a bulleted line (see restore_merged_bullets).
bool has_stretched_first_glyph(const Word& word, float line_height);

// The line with the bullet merged into its first word given back as a word
// of its own, "•", at the first glyph's left end; a bullet misreading at
// the start of the word's text ("«the") is removed. Lines whose first word
// has no glyph boxes inside its own box come back unchanged.
Line split_merged_bullet(Line line);

// split_merged_bullet on every line of the text blocks whose first word
// has a merged bullet, or a stretched first glyph while the line before or
// after it in reading order opens with a bullet at the same left edge
// (within half the line height). Glyph boxes that lie outside their word's
// box (rotated text) are no evidence.
PageScan restore_merged_bullets(PageScan scan);

// Splits a paragraph's lines into items: a new item starts at every line
// that begins with a list marker; lines before the first marker form the
// first group. Returns index ranges [first, last) into `lines`.
struct LineRange {
  std::size_t first;
  std::size_t last;
};
std::vector<LineRange> split_list_items(const std::vector<Line>& lines);

// --- Captions and footnotes -----------------------------------------------

// "Figure 3", "Fig. 3", "Table 2", "FIGURE 1": a caption label at the start.
bool starts_like_caption(std::string_view text);

// True when `a` and `b` overlap horizontally and the vertical gap between
// them is at most `max_gap` pixels.
bool is_adjacent(const Box& a, const Box& b, int max_gap);

// A footnote: starts below 75% of the page height, at most 4 lines, smaller
// than body text (<= 0.85x), and starts with a note mark (digits, *, †).
bool is_footnote(const Paragraph& paragraph, std::string_view text, int page_height,
                 float body_height);

// --- Pictures -------------------------------------------------------------

// A "line" that is graphics read as text (chart bars read as "l a."): its box
// is over 2.5x the body height and over 1.8x its own row height, which a
// genuine large heading never is.
bool is_graphic_line(const Line& line, float body_height);

// Moves graphic lines out of their paragraphs into picture blocks placed
// right after their block, and refits the paragraph boxes.
PageScan separate_graphic_lines(PageScan scan, float body_height);

// Too small for a picture: under 2x the body height in either dimension
// (Tesseract sometimes classifies one glyph of a large title as an image).
bool is_speck(const Box& box, float body_height);

// Groups of separator rules whose boxes touch within `tolerance` pixels;
// each group is a list of indices into `rules`.
std::vector<std::vector<std::size_t>> group_rules(const std::vector<Box>& rules, int tolerance);

// A frame of rules (the union of a group of at least 2) drawn around a figure:
// at least 3x the body height in both dimensions, and no text line centred
// inside it.
bool is_picture_frame(const Box& frame, const std::vector<Box>& text_lines, float body_height);

// --- Tables ---------------------------------------------------------------

// Rows of cell texts from a table region's words: words are grouped into rows
// by vertical overlap, and a row is cut into cells wherever the horizontal gap
// between neighbouring words exceeds the row's height.
std::vector<std::vector<std::string>> table_cells(const std::vector<Word>& words);

// <table><tr><td>…</td></tr></table> with &, < and > escaped.
std::string table_html(const std::vector<std::vector<std::string>>& cells);

// --- The whole page -------------------------------------------------------

// Applies every rule: categories, list splitting, captions, and reading order
// (the engine's order, with page headers moved first and footers last).
PageLayout build_layout(const PageScan& scan);

}  // namespace visor::ocr::rules

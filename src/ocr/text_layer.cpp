#include "ocr/text_layer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "ocr/aligned_tables.hpp"
#include "ocr/layout.hpp"
#include "ocr/layout_support.hpp"
#include "pdf/document.hpp"
#include "util/utf8.hpp"

namespace visor::ocr {
namespace {

using rules::Block;
using rules::BlockKind;
using rules::Line;
using rules::PageScan;
using rules::Paragraph;
using rules::Word;
namespace detail = rules::detail;
using detail::centre_inside;

// --- The trust rule -------------------------------------------------------

constexpr double kMaxUnmappedShare = 0.05;
constexpr double kMinLetterShare = 0.5;
constexpr double kImageShareToCheck = 0.10;
constexpr double kMinTextOverImage = 0.05;

double area(const pdf::PixelRect& r) { return std::max(0.0f, r.width()) * std::max(0.0f, r.height()); }

double overlap_area(const pdf::PixelRect& a, const pdf::PixelRect& b) {
  const double w = std::min(a.x1, b.x1) - std::max(a.x0, b.x0);
  const double h = std::min(a.y1, b.y1) - std::max(a.y0, b.y0);
  return w > 0 && h > 0 ? w * h : 0.0;
}

bool is_letter_or_digit(char32_t c) {
  if (c < 0x80) return std::isalnum(static_cast<int>(c)) != 0;
  // Beyond ASCII, what is not punctuation, symbols or space counts: the
  // Latin supplements, Greek, Cyrillic, CJK, ... (a coarse but safe test).
  return c >= 0xC0 && !(c >= 0x2000 && c <= 0x2BFF) && !(c >= 0xE000 && c <= 0xF8FF) && c != 0xFFFD;
}

std::string percent(double share) { return std::to_string(static_cast<int>(std::lround(share * 100))) + " %"; }

// The share of `image` that the text layer's glyphs cover.
double text_cover(const pdf::PageContent& page, const pdf::PixelRect& image) {
  double covered = 0;
  for (const pdf::TextBlock& block : page.blocks) {
    if (overlap_area(block.box, image) <= 0) continue;
    for (const pdf::TextLine& line : block.lines) {
      for (const pdf::TextGlyph& glyph : line.glyphs) covered += overlap_area(glyph.box, image);
    }
  }
  const double whole = area(image);
  return whole > 0 ? covered / whole : 1.0;
}

std::optional<std::string> unread_image(const pdf::PageContent& page) {
  const double page_area = static_cast<double>(page.width) * page.height;
  for (const pdf::PixelRect& image : page.images) {
    const pdf::PixelRect visible{std::max(0.0f, image.x0), std::max(0.0f, image.y0),
                                 std::min(static_cast<float>(page.width), image.x1),
                                 std::min(static_cast<float>(page.height), image.y1)};
    const double share = area(visible) / page_area;
    if (share < kImageShareToCheck || text_cover(page, visible) >= kMinTextOverImage) continue;
    return "a raster image covers " + percent(share) +
           " of the page with no text over it, and may hold words the text layer lacks";
  }
  return std::nullopt;
}

// --- Building the scan ------------------------------------------------------

Box to_box(const pdf::PixelRect& r) {
  return {static_cast<int>(std::floor(r.x0)), static_cast<int>(std::floor(r.y0)), static_cast<int>(std::ceil(r.x1)),
          static_cast<int>(std::ceil(r.y1))};
}

bool is_blank(char32_t c) { return c == ' ' || c == 0xA0 || c == '\t' || c == 0x2009 || c == 0x200B; }

// Words of a line: glyph runs between spaces, or between glyphs further
// apart than a third of the type size (a layout that places words without
// space characters).
std::vector<Word> words_of(const pdf::TextLine& line) {
  std::vector<Word> words;
  Word current;
  float last_x1 = 0;
  const auto close = [&] {
    if (!current.text.empty()) words.push_back(std::move(current));
    current = Word{};
  };
  const float gap = std::max(1.0f, line.font_size / 3);
  for (const pdf::TextGlyph& glyph : line.glyphs) {
    if (is_blank(glyph.codepoint)) {
      close();
      continue;
    }
    if (!current.text.empty() && glyph.box.x0 - last_x1 > gap) close();
    util::append_utf8(current.text, glyph.codepoint);
    current.box = rules::unite(current.box, to_box(glyph.box));
    last_x1 = glyph.box.x1;
  }
  close();
  return words;
}

Line line_of(const pdf::TextLine& text) {
  Line line;
  line.bold = text.bold;
  line.words = words_of(text);
  for (const Word& word : line.words) line.box = rules::unite(line.box, word.box);
  line.row_height = text.cell_height > 0 ? text.cell_height : static_cast<float>(line.box.height());
  return line;
}

// Consecutive lines on one baseline (a bullet and its text, the cells of a
// table row) are one line, as an engine reads them off an image.
bool same_baseline(const Line& a, const Line& b) {
  return detail::shares_baseline(a.box, b.box) && b.box.x1 >= a.box.x2 - 2;
}

std::vector<Line> lines_of(const pdf::TextBlock& block) {
  std::vector<Line> lines;
  for (const pdf::TextLine& text : block.lines) {
    if (!text.horizontal) continue;
    Line line = line_of(text);
    if (line.words.empty()) continue;
    if (!lines.empty() && same_baseline(lines.back(), line)) {
      Line& joined = lines.back();
      joined.words.insert(joined.words.end(), line.words.begin(), line.words.end());
      joined.box = rules::unite(joined.box, line.box);
      joined.row_height = std::max(joined.row_height, line.row_height);
      joined.bold = joined.bold && line.bold;
      continue;
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

// A new paragraph starts where the leading opens (a gap over 0.6x the line
// height) or the type size changes by a fifth.
bool breaks_paragraph(const Line& upper, const Line& lower) {
  const float height = std::max(upper.row_height, lower.row_height);
  const float gap = static_cast<float>(lower.box.y1 - upper.box.y2);
  const float ratio = lower.row_height > 0 ? upper.row_height / lower.row_height : 1;
  return gap > 0.6f * height || ratio > 1.2f || ratio < 1 / 1.2f;
}

Block text_block(std::vector<Line> lines) {
  Block block;
  block.kind = BlockKind::text;
  for (Line& line : lines) {
    if (block.paragraphs.empty() || breaks_paragraph(block.paragraphs.back().lines.back(), line)) {
      block.paragraphs.emplace_back();
    }
    Paragraph& paragraph = block.paragraphs.back();
    paragraph.box = rules::unite(paragraph.box, line.box);
    paragraph.lines.push_back(std::move(line));
  }
  for (const Paragraph& paragraph : block.paragraphs) block.box = rules::unite(block.box, paragraph.box);
  return block;
}

// --- Drawings ---------------------------------------------------------------

constexpr int kRuleThickness = 4;  // pixels: thinner drawings are separator rules

bool is_rule(const Box& box) {
  return (box.height() <= kRuleThickness && box.width() > 4 * kRuleThickness) ||
         (box.width() <= kRuleThickness && box.height() > 4 * kRuleThickness);
}
bool is_horizontal_rule(const Box& box) { return box.height() <= kRuleThickness && box.width() > box.height(); }

// Clusters of boxes that touch within `tolerance`, as their unions: a
// sweep down the page, each box joined to the clusters it touches.
std::vector<Box> clusters(std::vector<Box> boxes, int tolerance) {
  std::sort(boxes.begin(), boxes.end(), [](const Box& a, const Box& b) { return a.y1 < b.y1; });
  std::vector<Box> merged;
  for (const Box& box : boxes) {
    Box cluster = box;
    for (bool grew = true; grew;) {
      grew = false;
      for (auto it = merged.begin(); it != merged.end();) {
        if (detail::is_touching(*it, cluster, tolerance)) {
          cluster = rules::unite(cluster, *it);
          it = merged.erase(it);
          grew = true;
        } else {
          ++it;
        }
      }
    }
    merged.push_back(cluster);
  }
  return merged;
}

// A ruled table: a cluster of rules with at least two of each direction,
// or three horizontal ones stacked over the same width, with at least two
// text lines inside.
bool is_table_grid(const std::vector<Box>& rules_in, const Box& region, const std::vector<Line>& lines) {
  int horizontal = 0;
  int vertical = 0;
  for (const Box& rule : rules_in) (is_horizontal_rule(rule) ? horizontal : vertical) += 1;
  const auto inside = std::count_if(lines.begin(), lines.end(), [&](const Line& line) { return centre_inside(region, line.box); });
  return inside >= 2 && ((horizontal >= 2 && vertical >= 2) || horizontal >= 3);
}

struct Figures {
  std::vector<Box> tables;
  std::vector<Box> pictures;
  std::vector<Box> rules;  // the other separator rules
};

// A line of this many words is prose, never a label on a figure.
constexpr std::size_t kProseWords = 6;
constexpr double kBackdropShare = 0.5;  // of the page

// The shape is what text is set on, not a picture: it covers most of the
// page (a frame, a slide's backdrop) or carries prose (a panel, a card).
bool is_backdrop(const Box& shape, const std::vector<Line>& lines, double page_area) {
  if (static_cast<double>(shape.width()) * shape.height() > kBackdropShare * page_area) return true;
  return std::any_of(lines.begin(), lines.end(), [&](const Line& line) {
    return line.words.size() >= kProseWords && centre_inside(shape, line.box);
  });
}

// Pictures are images and clusters of drawings at least `min_side` in
// both directions that are neither the background of text (a shaded box or
// cell: mostly covered by the text lines inside it) nor a backdrop.
Figures find_figures(const pdf::PageContent& page, const std::vector<Line>& lines, float body_height) {
  Figures figures;
  const int tolerance = std::max(2, static_cast<int>(body_height / 2));
  const int min_side = static_cast<int>(2 * body_height);
  std::vector<Box> rule_boxes;
  std::vector<Box> shapes;
  for (const pdf::PixelRect& drawing : page.drawings) {
    const Box box = to_box(drawing);
    if (box.width() <= 0 || box.height() <= 0) continue;
    (is_rule(box) ? rule_boxes : shapes).push_back(box);
  }
  for (const Box& grid : clusters(rule_boxes, tolerance)) {
    std::vector<Box> members;
    for (const Box& rule : rule_boxes) {
      if (detail::is_touching(rule, grid, 0)) members.push_back(rule);
    }
    if (is_table_grid(members, grid, lines)) {
      figures.tables.push_back(grid);
    } else {
      figures.rules.insert(figures.rules.end(), members.begin(), members.end());
    }
  }
  for (const pdf::PixelRect& image : page.images) shapes.push_back(to_box(image));
  for (const Box& shape : clusters(shapes, tolerance)) {
    if (shape.width() < min_side || shape.height() < min_side) continue;
    const bool in_table = std::any_of(figures.tables.begin(), figures.tables.end(),
                                      [&](const Box& table) { return centre_inside(table, shape); });
    double text_area = 0;
    for (const Line& line : lines) {
      if (centre_inside(shape, line.box)) text_area += static_cast<double>(line.box.width()) * line.box.height();
    }
    const double shape_area = static_cast<double>(shape.width()) * shape.height();
    const double page_area = static_cast<double>(page.width) * page.height;
    if (!in_table && text_area < 0.3 * shape_area && !is_backdrop(shape, lines, page_area)) {
      figures.pictures.push_back(shape);
    }
  }
  return figures;
}

// --- Reading order ----------------------------------------------------------

// Blocks in reading order by recursive XY-cut, as a reader takes a page:
// where a vertical band of white space crosses the whole region (between
// columns), the left part comes first; else where a horizontal one does,
// what is above it; a part that no cut divides is read top to bottom.
// Columns are tried first, so that paragraph gaps that happen to line up
// across two columns do not cut them into bands. The page's drawing order
// says nothing reliable about this (footnotes, headers and captions are
// often drawn out of place). Boxes are shrunk by `slack` pixels first, so
// that a picture frame that touches the last line above it blocks no cut.
enum class Cut { vertical, horizontal };

// The index, in [first, last) sorted along the cut, where the first gap in
// the blocks' projection is; nullopt when there is none.
std::optional<std::size_t> first_gap(std::vector<Block>& blocks, std::size_t first, std::size_t last, int slack,
                                     Cut cut) {
  const bool vertical = cut == Cut::vertical;
  const auto low = [&](const Block& b) { return (vertical ? b.box.x1 : b.box.y1) + slack; };
  const auto high = [&](const Block& b) { return (vertical ? b.box.x2 : b.box.y2) - slack; };
  const auto begin = blocks.begin() + static_cast<std::ptrdiff_t>(first);
  const auto end = blocks.begin() + static_cast<std::ptrdiff_t>(last);
  std::stable_sort(begin, end, [&](const Block& a, const Block& b) { return low(a) < low(b); });
  int reach = high(*begin);
  for (auto it = begin + 1; it != end; ++it) {
    if (low(*it) >= reach) return first + static_cast<std::size_t>(it - begin);
    reach = std::max(reach, high(*it));
  }
  return std::nullopt;
}

void xy_cut(std::vector<Block>& blocks, std::size_t first, std::size_t last, int slack) {
  if (last - first < 2) return;
  for (const Cut cut : {Cut::vertical, Cut::horizontal}) {
    if (const auto at = first_gap(blocks, first, last, slack, cut)) {
      xy_cut(blocks, first, *at, slack);
      xy_cut(blocks, *at, last, slack);
      return;
    }
  }
  std::stable_sort(blocks.begin() + static_cast<std::ptrdiff_t>(first),
                   blocks.begin() + static_cast<std::ptrdiff_t>(last),
                   [](const Block& a, const Block& b) { return a.box.y1 < b.box.y1; });
}

// A block as wide as most of the text spans the columns, if there are any.
constexpr double kSpanningShare = 0.6;

// Blocks that span the columns (a title, a full-width figure, a footnote
// across the page) cut the page into sections, read top to bottom; within
// a section the other blocks go by XY-cut, column by column. XY-cut alone
// would not find the columns when a spanning block overlaps them a little.
void order_for_reading(std::vector<Block>& blocks, float body_height) {
  if (blocks.empty()) return;
  int left = blocks.front().box.x1;
  int right = blocks.front().box.x2;
  for (const Block& block : blocks) {
    left = std::min(left, block.box.x1);
    right = std::max(right, block.box.x2);
  }
  const auto spans = [&](const Block& block) { return block.box.width() >= kSpanningShare * (right - left); };
  std::vector<Block> spanning;
  std::vector<Block> others;
  for (Block& block : blocks) (spans(block) ? spanning : others).push_back(std::move(block));
  const auto by_top = [](const Block& a, const Block& b) { return a.box.y1 < b.box.y1; };
  std::stable_sort(spanning.begin(), spanning.end(), by_top);
  std::stable_sort(others.begin(), others.end(), by_top);
  const int slack = std::max(1, static_cast<int>(body_height / 4));
  blocks.clear();
  std::size_t next = 0;
  const auto section_until = [&](int top) {
    const std::size_t first = blocks.size();
    while (next < others.size() && others[next].box.y1 < top) blocks.push_back(std::move(others[next++]));
    xy_cut(blocks, first, blocks.size(), slack);
  };
  for (Block& block : spanning) {
    section_until(block.box.y1);
    blocks.push_back(std::move(block));
  }
  section_until(std::numeric_limits<int>::max());
}

// Moves the lines whose centre lies in `region` out of the text blocks,
// returning them.
std::vector<Line> take_lines_in(std::vector<std::vector<Line>>& blocks, const Box& region) {
  std::vector<Line> taken;
  for (std::vector<Line>& lines : blocks) {
    for (auto it = lines.begin(); it != lines.end();) {
      if (centre_inside(region, it->box)) {
        taken.push_back(std::move(*it));
        it = lines.erase(it);
      } else {
        ++it;
      }
    }
  }
  return taken;
}

}  // namespace

TextLayerTrust judge_text_layer(const pdf::PageContent& page) {
  const pdf::TextCensus& census = page.census;
  if (census.invisible > census.visible) {
    return {false, "its text is drawn invisibly (render mode 3) over the page, another program's OCR of a scan"};
  }
  if (census.visible < kMinTextGlyphs) {
    if (census.visible == 0) return {false, "the page has no text layer"};
    return {false, "its text layer is too short to be the page's text (" + std::to_string(census.visible) +
                       " characters, fewer than " + std::to_string(kMinTextGlyphs) + ")"};
  }
  const double unmapped = static_cast<double>(census.unmapped + census.private_use) / census.visible;
  if (unmapped > kMaxUnmappedShare) {
    return {false, percent(unmapped) + " of its characters have no Unicode mapping (fonts without ToUnicode)"};
  }
  int glyphs = 0;
  int letters = 0;
  for (const pdf::TextBlock& block : page.blocks) {
    for (const pdf::TextLine& line : block.lines) {
      for (const pdf::TextGlyph& glyph : line.glyphs) {
        if (is_blank(glyph.codepoint)) continue;
        ++glyphs;
        letters += is_letter_or_digit(glyph.codepoint) ? 1 : 0;
      }
    }
  }
  if (glyphs == 0 || static_cast<double>(letters) / glyphs < kMinLetterShare) {
    return {false, "under half of its characters are letters or digits (a broken font encoding)"};
  }
  if (auto image = unread_image(page)) return {false, *image};
  return {true, {}};
}

PageScan scan_text_layer(const pdf::PageContent& page) {
  PageScan scan;
  scan.width = page.width;
  scan.height = page.height;
  std::vector<std::vector<Line>> block_lines;
  std::vector<float> heights;
  for (const pdf::TextBlock& block : page.blocks) {
    block_lines.push_back(lines_of(block));
    for (const Line& line : block_lines.back()) heights.push_back(line.row_height);
  }
  std::vector<Line> all_lines;
  for (const auto& lines : block_lines) all_lines.insert(all_lines.end(), lines.begin(), lines.end());
  const float body_height = detail::median(std::move(heights));
  Figures figures = find_figures(page, all_lines, body_height);
  std::vector<Box> horizontal_rules;
  for (const Box& rule : figures.rules) {
    if (is_horizontal_rule(rule)) horizontal_rules.push_back(rule);
  }
  std::vector<Box> found = find_rule_bounded_tables(all_lines, horizontal_rules, body_height);
  for (const Box& table : found) {
    figures.rules.erase(std::remove_if(figures.rules.begin(), figures.rules.end(),
                                       [&](const Box& rule) { return detail::is_touching(table, rule, 0); }),
                        figures.rules.end());
  }
  const std::vector<Box> aligned = find_aligned_tables(all_lines, body_height);
  found.insert(found.end(), aligned.begin(), aligned.end());
  for (const Box& table : found) {
    const auto overlaps = [&](const Box& other) { return detail::is_touching(table, other, 0); };
    if (std::none_of(figures.tables.begin(), figures.tables.end(), overlaps) &&
        std::none_of(figures.pictures.begin(), figures.pictures.end(), overlaps)) {
      figures.tables.push_back(table);
    }
  }

  std::vector<Block> tables;
  for (const Box& region : figures.tables) {
    Block table = text_block(take_lines_in(block_lines, region));
    table.kind = BlockKind::table;
    table.box = region;
    tables.push_back(std::move(table));
  }
  for (const Box& region : figures.pictures) take_lines_in(block_lines, region);
  for (std::vector<Line>& lines : block_lines) {
    if (!lines.empty()) scan.blocks.push_back(text_block(std::move(lines)));
  }
  for (Block& table : tables) scan.blocks.push_back(std::move(table));
  for (const Box& picture : figures.pictures) scan.blocks.push_back(Block{BlockKind::picture, picture, {}});
  order_for_reading(scan.blocks, body_height);
  for (const Box& rule : figures.rules) scan.blocks.push_back(Block{BlockKind::rule, rule, {}});
  return scan;
}

nlohmann::json text_layer_result(const pdf::PageContent& page, Model model) {
  const PageLayout layout = rules::build_layout(scan_text_layer(page));
  if (model == Model::dotsocr) return to_dotsocr_json(layout);
  return nlohmann::json(to_markdown(layout));
}

std::string text_layer_engine_name() { return "text layer (MuPDF " + pdf::mupdf_version() + ")"; }

}  // namespace visor::ocr

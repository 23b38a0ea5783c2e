// Layout rules: text assembly, sizes and the page margins.

#include "ocr/layout_rules.hpp"

#include <algorithm>
#include <cmath>

#include "ocr/layout_support.hpp"

namespace visor::ocr::rules {

using namespace detail;

std::string line_text(const Line& line) {
  std::string text;
  for (const Word& word : line.words) {
    if (word.text.empty()) continue;
    if (!text.empty()) text += ' ';
    text += word.text;
  }
  return text;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) {
    if (line.empty()) continue;
    const bool broken_at_hyphen = text.size() >= 2 && text.back() == '-' &&
                                  std::isalnum(static_cast<unsigned char>(text[text.size() - 2])) != 0;
    if (broken_at_hyphen && is_alpha(text[text.size() - 2]) && is_lower(line.front())) {
      text.pop_back();
    } else if (!text.empty() && !broken_at_hyphen) {
      text += ' ';
    }
    text += line;
  }
  return text;
}

Box unite(const Box& a, const Box& b) {
  const auto is_empty = [](const Box& box) { return box.width() <= 0 && box.height() <= 0; };
  if (is_empty(a)) return b;
  if (is_empty(b)) return a;
  return {std::min(a.x1, b.x1), std::min(a.y1, b.y1), std::max(a.x2, b.x2), std::max(a.y2, b.y2)};
}

Box type_box(const Box& ink, int baseline, float ascent, float descent) {
  if (ascent <= 0 || descent <= 0) return ink;
  const float limit = ink.height() / 2.0f + (ascent + descent) / 4.0f;
  const int top = static_cast<int>(std::lround(std::max(baseline - ascent, ink.y1 - limit)));
  const int bottom = static_cast<int>(std::lround(std::min(baseline + descent, ink.y2 + limit)));
  return {ink.x1, std::min(ink.y1, top), ink.x2, std::max(ink.y2, bottom)};
}

Box figure_box(const Box& ink, std::size_t digits, float type_height) {
  const float width = static_cast<float>(digits) * 0.45f * type_height;
  if (type_height <= 0 || width <= static_cast<float>(ink.width())) return ink;
  const float centre = static_cast<float>(ink.x1 + ink.x2) / 2.0f;
  return {static_cast<int>(std::lround(centre - width / 2)), ink.y1, static_cast<int>(std::lround(centre + width / 2)),
          ink.y2};
}

namespace {

// The number of digits when `text` is digits only; 0 otherwise.
std::size_t figure_digits(std::string_view text) {
  const std::size_t digits = digit_run(text, 0);
  return digits == text.size() ? digits : 0;
}

}  // namespace

PageScan widen_figure_lines(PageScan scan) {
  for (Block& block : scan.blocks) {
    if (block.kind != BlockKind::text) continue;
    for (Paragraph& paragraph : block.paragraphs) {
      for (Line& line : paragraph.lines) {
        if (const std::size_t digits = figure_digits(line_text(line)); digits > 0) {
          line.box = figure_box(line.box, digits, line_height(line));
          paragraph.box = unite(paragraph.box, line.box);
        }
      }
      block.box = unite(block.box, paragraph.box);
    }
  }
  return scan;
}

float line_height(const Line& line) {
  return line.row_height > 0 ? line.row_height : static_cast<float>(line.box.height());
}

float paragraph_line_height(const Paragraph& paragraph) {
  std::vector<float> heights;
  for (const Line& line : paragraph.lines) heights.push_back(line_height(line));
  return median(std::move(heights));
}

float median_body_line_height(const PageScan& scan) {
  std::vector<float> heights;
  for (const Block& block : scan.blocks) {
    if (block.kind != BlockKind::text) continue;
    for (const Paragraph& paragraph : block.paragraphs) {
      for (const Line& line : paragraph.lines) heights.insert(heights.end(), std::max<std::size_t>(line.words.size(), 1), line_height(line));
    }
  }
  return median(std::move(heights));
}

bool in_header_zone(const Box& box, int page_height) {
  return box.y2 <= kMarginZone * page_height;
}

bool in_footer_zone(const Box& box, int page_height) {
  return box.y1 >= (1.0 - kMarginZone) * page_height;
}

const char* margin_category(const Paragraph& paragraph, int page_height) {
  if (paragraph.lines.size() > 2) return nullptr;
  if (in_header_zone(paragraph.box, page_height)) return category::page_header;
  if (in_footer_zone(paragraph.box, page_height)) return category::page_footer;
  return nullptr;
}

PageScan add_margin_lines(PageScan scan, std::vector<Line> lines) {
  const std::vector<Box> known = text_line_boxes(scan);
  Block block;
  for (Line& line : lines) {
    const bool read_before = std::any_of(known.begin(), known.end(), [&](const Box& other) {
      return line.box.x1 < other.x2 && other.x1 < line.box.x2 && line.box.y1 < other.y2 && other.y1 < line.box.y2;
    });
    if (read_before || line.words.empty()) continue;
    Paragraph paragraph = single_line_paragraph(line);
    block.box = unite(block.box, paragraph.box);
    block.paragraphs.push_back(std::move(paragraph));
  }
  if (!block.paragraphs.empty()) scan.blocks.push_back(std::move(block));
  return scan;
}

}  // namespace visor::ocr::rules

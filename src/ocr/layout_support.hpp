#pragma once
// Helpers the layout rules' files share (layout_*.cpp); not for elsewhere.

#include <algorithm>
#include <cctype>
#include <string_view>
#include <vector>

#include "ocr/layout_rules.hpp"

namespace visor::ocr::rules::detail {

inline bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
inline bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
inline bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
inline bool is_lower(char c) { return std::islower(static_cast<unsigned char>(c)) != 0; }
inline bool is_upper(char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; }

inline bool has_letter(std::string_view text) { return std::any_of(text.begin(), text.end(), is_alpha); }

inline std::size_t count_words(std::string_view text) {
  std::size_t words = 0;
  bool in_word = false;
  for (char c : text) {
    if (is_space(c)) {
      in_word = false;
    } else if (!in_word) {
      in_word = true;
      ++words;
    }
  }
  return words;
}

inline bool ends_sentence(std::string_view text) {
  return !text.empty() && (text.back() == '.' || text.back() == ',' || text.back() == ';');
}

// Length of the whitespace run at `pos` when more text follows it; 0 when
// there is no whitespace there or nothing after it.
inline std::size_t space_before_text(std::string_view text, std::size_t pos) {
  std::size_t end = pos;
  while (end < text.size() && is_space(text[end])) ++end;
  if (end == pos || end == text.size()) return 0;
  return end - pos;
}

inline std::size_t digit_run(std::string_view text, std::size_t pos) {
  std::size_t end = pos;
  while (end < text.size() && is_digit(text[end])) ++end;
  return end - pos;
}

template <class T>
T median(std::vector<T> values) {
  if (values.empty()) return T{};
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

inline Paragraph single_line_paragraph(const Line& line) {
  Paragraph paragraph;
  paragraph.box = line.box;
  paragraph.lines.push_back(line);
  return paragraph;
}

// Two lines of type on one baseline: they overlap vertically by at least
// half the shorter one's height.
inline bool shares_baseline(const Box& a, const Box& b) {
  const int overlap = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  return overlap * 2 >= std::min(a.height(), b.height());
}

// The centre of `box` lies in `region` (left and top edges inclusive).
inline bool centre_inside(const Box& region, const Box& box) {
  const int x = (box.x1 + box.x2) / 2;
  const int y = (box.y1 + box.y2) / 2;
  return region.x1 <= x && x < region.x2 && region.y1 <= y && y < region.y2;
}

inline bool is_touching(const Box& a, const Box& b, int tolerance) {
  return a.x1 <= b.x2 + tolerance && b.x1 <= a.x2 + tolerance && a.y1 <= b.y2 + tolerance &&
         b.y1 <= a.y2 + tolerance;
}

// The boxes of every line of the scan's paragraphs.
inline std::vector<Box> text_line_boxes(const PageScan& scan) {
  std::vector<Box> boxes;
  for (const Block& block : scan.blocks) {
    for (const Paragraph& paragraph : block.paragraphs) {
      for (const Line& line : paragraph.lines) boxes.push_back(line.box);
    }
  }
  return boxes;
}

}  // namespace visor::ocr::rules::detail

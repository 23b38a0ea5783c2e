// Layout rules: list markers and items, bullets merged into words.

#include "ocr/layout_rules.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "ocr/layout_support.hpp"

namespace visor::ocr::rules {

using namespace detail;

namespace {

// Lowercase roman numerals up to "xxxix"-ish length: i, iv, xii.
bool is_roman(std::string_view token) {
  return !token.empty() && token.size() <= 5 &&
         token.find_first_not_of("ivxlc") == std::string_view::npos;
}

// An enumerator token: 1-3 digits, one letter, or a lowercase roman numeral.
bool is_enumerator_token(std::string_view token) {
  if (token.empty()) return false;
  if (digit_run(token, 0) == token.size()) return token.size() <= 3;
  return (token.size() == 1 && is_alpha(token[0])) || is_roman(token);
}

// The bytes of the bullet glyph that `text` starts with; 0 for none.
std::size_t bullet_glyph_length(std::string_view text) {
  // The bullet glyphs themselves, then what Tesseract reads round bullets
  // as on scans and in small type: cent sign, copyright and registered
  // signs, degree sign, left guillemet, white circle. None of these opens a
  // sentence followed by a space.
  static constexpr std::array<std::string_view, 21> kBullets = {
      "\u2022", "-", "*", "+", "\u00b7", "\u25aa", "\u25e6", "\u25cf", "\u25a0", "\u2013", "\u2023",
      "\u2043", "\u25c6", "\u27a2", "\u2713", "\u00a2", "\u00a9", "\u00ae", "\u00b0", "\u00ab", "\u25cb"};
  for (std::string_view bullet : kBullets) {
    if (text.starts_with(bullet)) return bullet.size();
  }
  return 0;
}

std::optional<ListMarker> find_bullet(std::string_view text) {
  const std::size_t bullet = bullet_glyph_length(text);
  if (bullet == 0) return std::nullopt;
  if (std::size_t space = space_before_text(text, bullet); space > 0) {
    return ListMarker{ListMarker::Kind::bullet, bullet + space};
  }
  return std::nullopt;
}

std::optional<ListMarker> find_enumerator(std::string_view text) {
  const bool parenthesised = text.starts_with('(');
  const std::size_t token_start = parenthesised ? 1 : 0;
  std::size_t token_end = token_start;
  while (token_end < text.size() && std::isalnum(static_cast<unsigned char>(text[token_end]))) {
    ++token_end;
  }
  if (!is_enumerator_token(text.substr(token_start, token_end - token_start))) return std::nullopt;
  if (token_end >= text.size()) return std::nullopt;
  const char close = text[token_end];
  const bool closes = parenthesised ? close == ')' : (close == '.' || close == ')');
  if (!closes) return std::nullopt;
  const std::size_t space = space_before_text(text, token_end + 1);
  if (space == 0) return std::nullopt;
  return ListMarker{ListMarker::Kind::enumerator, token_end + 1 + space};
}

// The form of a list marker: "bullet", or for an enumerator its opening
// parenthesis, "9" for digits or "a" for letters and roman numerals, and its
// closing mark ("(a)", "9.", "a)"); empty when `text` starts with no marker.
std::string list_style(std::string_view text) {
  const auto marker = find_list_marker(text);
  if (!marker) return {};
  if (marker->kind == ListMarker::Kind::bullet) return "bullet";
  std::string_view token = text.substr(0, marker->length);
  while (!token.empty() && is_space(token.back())) token.remove_suffix(1);
  std::string style;
  if (token.front() == '(') style += '(';
  style += is_digit(token[style.size()]) ? '9' : 'a';
  style += token.back();
  return style;
}


}  // namespace

std::optional<ListMarker> find_list_marker(std::string_view text) {
  if (auto bullet = find_bullet(text)) return bullet;
  return find_enumerator(text);
}

std::string strip_bullet(std::string_view text) {
  const auto marker = find_list_marker(text);
  if (marker && marker->kind == ListMarker::Kind::bullet) text.remove_prefix(marker->length);
  return std::string(text);
}

bool has_hanging_indent(const Paragraph& paragraph, float body_height) {
  if (paragraph.lines.size() < 2) return false;
  return paragraph.lines[1].box.x1 - paragraph.lines[0].box.x1 >= 0.5f * body_height;
}

bool same_list_style(std::string_view a, std::string_view b) {
  const std::string style = list_style(a);
  return !style.empty() && style == list_style(b);
}

namespace {

// The glyph lies within the word's box (give or take `slack` pixels), as
// the recogniser's glyph boxes of upright text do; rotated text gets boxes
// elsewhere on the page.
bool inside_word(const Box& glyph, const Box& word, float slack) {
  return static_cast<float>(glyph.x1) >= static_cast<float>(word.x1) - slack &&
         static_cast<float>(glyph.x2) <= static_cast<float>(word.x2) + slack && glyph.y1 < word.y2 &&
         word.y1 < glyph.y2;
}

// The line's first word carries glyph boxes that lie inside it.
const Word* glyphs_known(const Line& line, float line_height) {
  if (line.words.empty() || line_height <= 0) return nullptr;
  const Word& word = line.words.front();
  if (word.first_glyph.width() <= 0 || word.second_glyph.width() <= 0) return nullptr;
  if (!inside_word(word.first_glyph, word.box, line_height / 2)) return nullptr;
  return &word;
}

// The bullet's box: the first glyph's, or for a stretched glyph its left
// end, one bullet-width wide.
Box bullet_box(const Word& word, float line_height) {
  Box box = word.first_glyph;
  box.x2 = std::min(box.x2, box.x1 + static_cast<int>(std::lround(0.4f * line_height)));
  return box;
}

// The line's left edge is that of a neighbouring line opening with a bullet.
bool beside_bullet(const Line& line, const Line* neighbour, float line_height) {
  if (neighbour == nullptr || neighbour->words.empty()) return false;
  const auto marker = find_bullet(line_text(*neighbour));
  return marker && static_cast<float>(std::abs(neighbour->box.x1 - line.box.x1)) <= line_height / 2;
}

}  // namespace

bool has_merged_bullet(const Word& word, float line_height) {
  const Box& bullet = word.first_glyph;
  const Box& next = word.second_glyph;
  if (line_height <= 0 || bullet.width() <= 0 || next.width() <= 0) return false;
  const bool bullet_sized = bullet.height() <= 0.6f * line_height && bullet.width() <= 0.6f * line_height;
  return bullet_sized && static_cast<float>(next.x1 - bullet.x2) > 0.5f * line_height;
}

bool has_stretched_first_glyph(const Word& word, float line_height) {
  const Box& glyph = word.first_glyph;
  if (line_height <= 0 || word.text.empty() || std::isalnum(static_cast<unsigned char>(word.text.front())) == 0) {
    return false;
  }
  return static_cast<float>(glyph.width()) > 1.2f * line_height &&
         static_cast<float>(glyph.height()) >= 0.4f * line_height;
}

Line split_merged_bullet(Line line) {
  const float height = line_height(line);
  if (glyphs_known(line, height) == nullptr) return line;
  Word& word = line.words.front();
  Word bullet{bullet_box(word, height), "\u2022"};
  word.text.erase(0, bullet_glyph_length(word.text));
  word.box.x1 = std::max(word.box.x1, bullet.box.x2);
  word.first_glyph = {};
  word.second_glyph = {};
  if (word.text.empty()) line.words.erase(line.words.begin());
  line.words.insert(line.words.begin(), std::move(bullet));
  return line;
}

PageScan restore_merged_bullets(PageScan scan) {
  std::vector<Line*> lines;
  for (Block& block : scan.blocks) {
    if (block.kind != BlockKind::text) continue;
    for (Paragraph& paragraph : block.paragraphs) {
      for (Line& line : paragraph.lines) lines.push_back(&line);
    }
  }
  // Decided on the lines as read, then applied, so that one restored bullet
  // is no evidence for the next.
  std::vector<bool> restore(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const Line& line = *lines[i];
    const float height = line_height(line);
    const Word* word = glyphs_known(line, height);
    if (word == nullptr) continue;
    const Line* above = i > 0 ? lines[i - 1] : nullptr;
    const Line* below = i + 1 < lines.size() ? lines[i + 1] : nullptr;
    restore[i] = has_merged_bullet(*word, height) ||
                 (has_stretched_first_glyph(*word, height) &&
                  (beside_bullet(line, above, height) || beside_bullet(line, below, height)));
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (restore[i]) *lines[i] = split_merged_bullet(std::move(*lines[i]));
  }
  return scan;
}

std::vector<LineRange> split_list_items(const std::vector<Line>& lines) {
  std::vector<LineRange> items;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const bool starts_item = items.empty() || find_list_marker(line_text(lines[i])).has_value();
    if (starts_item) {
      items.push_back({i, i + 1});
    } else {
      items.back().last = i + 1;
    }
  }
  return items;
}

}  // namespace visor::ocr::rules

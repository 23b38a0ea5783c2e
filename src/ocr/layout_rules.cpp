#include "ocr/layout_rules.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>

namespace visor::ocr::rules {
namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_lower(char c) { return std::islower(static_cast<unsigned char>(c)) != 0; }
bool is_upper(char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; }

bool has_letter(std::string_view text) { return std::any_of(text.begin(), text.end(), is_alpha); }

std::size_t count_words(std::string_view text) {
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

bool ends_sentence(std::string_view text) {
  return !text.empty() && (text.back() == '.' || text.back() == ',' || text.back() == ';');
}

// Length of the whitespace run at `pos` when more text follows it; 0 when
// there is no whitespace there or nothing after it.
std::size_t space_before_text(std::string_view text, std::size_t pos) {
  std::size_t end = pos;
  while (end < text.size() && is_space(text[end])) ++end;
  if (end == pos || end == text.size()) return 0;
  return end - pos;
}

std::size_t digit_run(std::string_view text, std::size_t pos) {
  std::size_t end = pos;
  while (end < text.size() && is_digit(text[end])) ++end;
  return end - pos;
}

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

template <class T>
T median(std::vector<T> values) {
  if (values.empty()) return T{};
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

Paragraph single_line_paragraph(const Line& line) {
  Paragraph paragraph;
  paragraph.box = line.box;
  paragraph.lines.push_back(line);
  return paragraph;
}

// --- Page assembly --------------------------------------------------------

struct PageContext {
  int page_height = 0;
  float body_height = 0;
  const Paragraph* title = nullptr;
};

Element make_element(const Box& box, const char* category, std::string text) {
  Element element;
  element.bbox = box;
  element.category = category;
  element.text = std::move(text);
  return element;
}

std::vector<std::string> line_texts(const std::vector<Line>& lines, LineRange range) {
  std::vector<std::string> texts;
  for (std::size_t i = range.first; i < range.last; ++i) texts.push_back(line_text(lines[i]));
  return texts;
}

Box lines_box(const std::vector<Line>& lines, LineRange range) {
  Box box;
  for (std::size_t i = range.first; i < range.last; ++i) box = unite(box, lines[i].box);
  return box;
}

std::string paragraph_text(const Paragraph& paragraph) {
  return join_lines(line_texts(paragraph.lines, {0, paragraph.lines.size()}));
}

std::optional<ListMarker> first_line_marker(const Paragraph& paragraph) {
  if (paragraph.lines.empty()) return std::nullopt;
  return find_list_marker(line_text(paragraph.lines.front()));
}

std::size_t marked_line_count(const Paragraph& paragraph) {
  return static_cast<std::size_t>(std::count_if(
      paragraph.lines.begin(), paragraph.lines.end(),
      [](const Line& line) { return find_list_marker(line_text(line)).has_value(); }));
}

// A bullet makes a list item. An enumerator alone is weak evidence ("10.
// Automatic Licensing..." opens many a plain paragraph). A wrapped
// paragraph shows by its indent: an item's lines hang under its text, a
// numbered paragraph's wrap to the margin. A one-line paragraph needs a
// second sign of a list: the engine's own list detection, or a neighbour
// with a marker of the same style.
bool is_list_paragraph(const Paragraph& paragraph, bool neighbour_marked, float body_height) {
  const auto marker = first_line_marker(paragraph);
  // Tesseract's own list flag alone proved unreliable (it marks plain
  // prose paragraphs), so a list item needs a marker.
  if (!marker) return false;
  if (marker->kind == ListMarker::Kind::bullet) return true;
  if (marked_line_count(paragraph) >= 2) return true;
  if (paragraph.lines.size() >= 2) return has_hanging_indent(paragraph, body_height);
  return paragraph.is_list_item || neighbour_marked;
}

void add_list_items(const Paragraph& paragraph, std::vector<Element>& out) {
  for (LineRange range : split_list_items(paragraph.lines)) {
    std::string text = strip_bullet(join_lines(line_texts(paragraph.lines, range)));
    out.push_back(make_element(lines_box(paragraph.lines, range), category::list_item, std::move(text)));
  }
}

const char* paragraph_category(const Paragraph& paragraph, std::string_view text, const PageContext& page) {
  if (const char* margin = margin_category(paragraph, page.page_height)) return margin;
  if (&paragraph == page.title) return category::title;
  if (is_footnote(paragraph, text, page.page_height, page.body_height)) return category::footnote;
  if (is_header_by_size(paragraph, text, page.body_height)) return category::section_header;
  return nullptr;
}

void add_paragraph(const Paragraph& paragraph, bool neighbour_marked, const PageContext& page,
                   std::vector<Element>& out) {
  std::string text = paragraph_text(paragraph);
  if (text.empty()) return;
  const char* category = paragraph_category(paragraph, text, page);
  if (category == nullptr && is_list_paragraph(paragraph, neighbour_marked, page.body_height)) {
    add_list_items(paragraph, out);
    return;
  }
  if (category == nullptr && paragraph.lines.size() == 1 && is_numbered_heading(text)) {
    category = category::section_header;
  }
  out.push_back(make_element(paragraph.box, category ? category : category::text, std::move(text)));
}

std::vector<Word> block_words(const Block& block) {
  std::vector<Word> words;
  for (const Paragraph& paragraph : block.paragraphs) {
    for (const Line& line : paragraph.lines) words.insert(words.end(), line.words.begin(), line.words.end());
  }
  return words;
}

Element table_element(const Block& block, const Box& box) {
  Element element = make_element(box, category::table, {});
  element.cells = table_cells(block_words(block));
  element.text = table_html(element.cells);
  return element;
}

Element formula_element(const Block& block) {
  std::vector<std::string> texts;
  for (const Paragraph& paragraph : block.paragraphs) texts.push_back(paragraph_text(paragraph));
  return make_element(block.box, category::formula, join_lines(texts));
}

// The first lines of the text paragraphs in page order, so that a paragraph
// can look at its neighbours across block boundaries.
struct TextParagraphs {
  std::vector<std::string> first_lines;

  // Whether a neighbouring paragraph opens with a marker of the same list
  // style as paragraph i's.
  bool neighbour_marked(std::size_t i) const {
    const auto same = [&](std::size_t j) { return same_list_style(first_lines[i], first_lines[j]); };
    return (i > 0 && same(i - 1)) || (i + 1 < first_lines.size() && same(i + 1));
  }
};

TextParagraphs text_paragraphs(const PageScan& scan) {
  TextParagraphs result;
  for (const Block& block : scan.blocks) {
    if (block.kind != BlockKind::text) continue;
    for (const Paragraph& paragraph : block.paragraphs) {
      result.first_lines.push_back(paragraph.lines.empty() ? std::string() : line_text(paragraph.lines.front()));
    }
  }
  return result;
}

bool is_touching(const Box& a, const Box& b, int tolerance) {
  return a.x1 <= b.x2 + tolerance && b.x1 <= a.x2 + tolerance && a.y1 <= b.y2 + tolerance &&
         b.y1 <= a.y2 + tolerance;
}

std::vector<Box> text_line_boxes(const PageScan& scan) {
  std::vector<Box> boxes;
  for (const Block& block : scan.blocks) {
    for (const Paragraph& paragraph : block.paragraphs) {
      for (const Line& line : paragraph.lines) boxes.push_back(line.box);
    }
  }
  return boxes;
}

// What the separator rules add to the page, per block index: a table's box
// grown by the rules that frame it, and picture frames, each emitted where
// its first rule appears in the engine's order.
struct RuleFigures {
  std::vector<Box> block_box;
  std::vector<std::optional<Box>> picture_at;
};

std::optional<std::size_t> touching_table(const PageScan& scan, const Box& frame, int tolerance) {
  for (std::size_t i = 0; i < scan.blocks.size(); ++i) {
    const Block& block = scan.blocks[i];
    if (block.kind == BlockKind::table && is_touching(block.box, frame, tolerance)) return i;
  }
  return std::nullopt;
}

RuleFigures rule_figures(const PageScan& scan, float body_height) {
  RuleFigures figures;
  std::vector<std::size_t> rule_blocks;
  std::vector<Box> rule_boxes;
  for (std::size_t i = 0; i < scan.blocks.size(); ++i) {
    figures.block_box.push_back(scan.blocks[i].box);
    if (scan.blocks[i].kind != BlockKind::rule) continue;
    rule_blocks.push_back(i);
    rule_boxes.push_back(scan.blocks[i].box);
  }
  figures.picture_at.resize(scan.blocks.size());
  const int tolerance = std::max(2, static_cast<int>(body_height / 2));
  const std::vector<Box> text_lines = text_line_boxes(scan);
  for (const auto& group : group_rules(rule_boxes, tolerance)) {
    Box frame;
    for (std::size_t member : group) frame = unite(frame, rule_boxes[member]);
    if (auto table = touching_table(scan, frame, tolerance)) {
      figures.block_box[*table] = unite(figures.block_box[*table], frame);
    } else if (group.size() >= 2 && is_picture_frame(frame, text_lines, body_height)) {
      figures.picture_at[rule_blocks[group.front()]] = frame;
    }
  }
  return figures;
}

bool is_figure(const Element& element) {
  return element.category == category::picture || element.category == category::table;
}

// Captions are often set a little larger or bolder than body text, so a
// caption label also overrides a size-based Section-header.
void mark_captions(std::vector<Element>& elements, int max_gap) {
  for (Element& element : elements) {
    const bool may_be_caption = element.category == category::text || element.category == category::section_header;
    if (!may_be_caption || !starts_like_caption(element.text)) continue;
    const bool beside_figure = std::any_of(elements.begin(), elements.end(), [&](const Element& other) {
      return is_figure(other) && is_adjacent(element.bbox, other.bbox, max_gap);
    });
    if (beside_figure) element.category = category::caption;
  }
}

bool contains(const Box& outer, const Box& inner) {
  return outer.x1 <= inner.x1 && outer.y1 <= inner.y1 && inner.x2 <= outer.x2 && inner.y2 <= outer.y2;
}

// A framed chart is found twice: by its frame and by its bars read as a
// graphic line; the frame wins.
void drop_nested_pictures(std::vector<Element>& elements) {
  const auto is_picture = [](const Element& e) { return e.category == category::picture; };
  std::vector<Box> pictures;
  for (const Element& e : elements) {
    if (is_picture(e)) pictures.push_back(e.bbox);
  }
  std::erase_if(elements, [&](const Element& e) {
    const long area = static_cast<long>(e.bbox.width()) * e.bbox.height();
    return is_picture(e) && std::any_of(pictures.begin(), pictures.end(), [&](const Box& other) {
             return contains(other, e.bbox) && static_cast<long>(other.width()) * other.height() > area;
           });
  });
}

void move_margins_to_ends(std::vector<Element>& elements) {
  std::stable_partition(elements.begin(), elements.end(),
                        [](const Element& e) { return e.category == category::page_header; });
  std::stable_partition(elements.begin(), elements.end(),
                        [](const Element& e) { return e.category != category::page_footer; });
}

}  // namespace

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
      for (const Line& line : paragraph.lines) heights.push_back(line_height(line));
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

const Paragraph* find_title(const PageScan& scan, float body_height) {
  if (body_height <= 0) return nullptr;
  const Paragraph* title = nullptr;
  float title_height = 1.6f * body_height;
  for (const Block& block : scan.blocks) {
    if (block.kind != BlockKind::text) continue;
    for (const Paragraph& paragraph : block.paragraphs) {
      const bool candidate = paragraph.lines.size() <= 3 && !paragraph.lines.empty() &&
                             paragraph.box.y1 < scan.height / 3 &&
                             margin_category(paragraph, scan.height) == nullptr;
      const float height = paragraph_line_height(paragraph);
      if (candidate && height >= title_height) {
        title = &paragraph;
        title_height = height;
      }
    }
  }
  return title;
}

bool is_header_by_size(const Paragraph& paragraph, std::string_view text, float body_height) {
  if (body_height <= 0 || paragraph.lines.empty() || paragraph.lines.size() > 2) return false;
  if (!has_letter(text) || ends_sentence(text) || count_words(text) > 20) return false;
  return paragraph_line_height(paragraph) >= 1.2f * body_height;
}

bool is_numbered_heading(std::string_view text) {
  std::size_t pos = digit_run(text, 0);
  if (pos == 0 || pos > 2) return false;
  while (pos + 1 < text.size() && text[pos] == '.' && is_digit(text[pos + 1])) {
    const std::size_t digits = digit_run(text, pos + 1);
    if (digits > 2) return false;
    pos += 1 + digits;
  }
  if (pos < text.size() && text[pos] == '.') ++pos;
  const std::size_t space = space_before_text(text, pos);
  if (space == 0) return false;
  const std::string_view phrase = text.substr(pos + space);
  return is_upper(phrase.front()) && count_words(phrase) <= 10 && !ends_sentence(phrase) &&
         phrase.back() != ':';
}

bool is_stacked_headings(const Paragraph& paragraph) {
  if (paragraph.lines.size() < 2) return false;
  return std::all_of(paragraph.lines.begin(), paragraph.lines.end(),
                     [](const Line& line) { return is_numbered_heading(line_text(line)); });
}

namespace {

void append_paragraph(Paragraph& first, const Paragraph& next) {
  first.lines.insert(first.lines.end(), next.lines.begin(), next.lines.end());
  first.box = unite(first.box, next.box);
}

}  // namespace

PageScan split_stacked_headings(PageScan scan) {
  for (Block& block : scan.blocks) {
    if (block.kind != BlockKind::text) continue;
    std::vector<Paragraph> paragraphs;
    for (Paragraph& paragraph : block.paragraphs) {
      if (!is_stacked_headings(paragraph)) {
        paragraphs.push_back(std::move(paragraph));
        continue;
      }
      for (const Line& line : paragraph.lines) paragraphs.push_back(single_line_paragraph(line));
    }
    block.paragraphs = std::move(paragraphs);
  }
  return scan;
}

namespace {

bool opens_with_bullet(const Line& line) {
  const auto marker = find_list_marker(line_text(line));
  return marker && marker->kind == ListMarker::Kind::bullet;
}

// The paragraph made of lines [first, last) of `paragraph`.
Paragraph line_slice(const Paragraph& paragraph, std::size_t first, std::size_t last) {
  Paragraph slice;
  slice.is_list_item = paragraph.is_list_item;
  for (std::size_t i = first; i < last; ++i) {
    slice.lines.push_back(paragraph.lines[i]);
    slice.box = unite(slice.box, paragraph.lines[i].box);
  }
  return slice;
}

}  // namespace

PageScan split_before_bullets(PageScan scan) {
  for (Block& block : scan.blocks) {
    if (block.kind != BlockKind::text) continue;
    std::vector<Paragraph> paragraphs;
    for (Paragraph& paragraph : block.paragraphs) {
      const auto& lines = paragraph.lines;
      const auto bullet = std::find_if(lines.begin(), lines.end(), opens_with_bullet);
      if (lines.empty() || bullet == lines.begin() || bullet == lines.end() ||
          find_list_marker(line_text(lines.front()))) {
        paragraphs.push_back(std::move(paragraph));
        continue;
      }
      const auto split = static_cast<std::size_t>(bullet - lines.begin());
      paragraphs.push_back(line_slice(paragraph, 0, split));
      paragraphs.push_back(line_slice(paragraph, split, lines.size()));
    }
    block.paragraphs = std::move(paragraphs);
  }
  return scan;
}

bool is_size_break(const Line& upper, const Line& lower, float body_height) {
  if (body_height <= 0) return false;
  const float larger = std::max(line_height(upper), line_height(lower));
  const float smaller = std::min(line_height(upper), line_height(lower));
  if (larger < 1.2f * body_height || larger < 1.2f * smaller) return false;
  return static_cast<float>(lower.box.y1 - upper.box.y2) >= 0.5f * body_height;
}

PageScan split_at_size_breaks(PageScan scan, float body_height) {
  for (Block& block : scan.blocks) {
    if (block.kind != BlockKind::text) continue;
    std::vector<Paragraph> paragraphs;
    for (const Paragraph& paragraph : block.paragraphs) {
      std::size_t first = 0;
      for (std::size_t i = 1; i <= paragraph.lines.size(); ++i) {
        if (i == paragraph.lines.size() || is_size_break(paragraph.lines[i - 1], paragraph.lines[i], body_height)) {
          paragraphs.push_back(line_slice(paragraph, first, i));
          first = i;
        }
      }
    }
    block.paragraphs = std::move(paragraphs);
  }
  return scan;
}

bool continues_heading(const Paragraph& first, const Paragraph& next, float body_height) {
  if (body_height <= 0 || first.lines.empty() || next.lines.empty() || next.lines.size() > 2) return false;
  const float first_height = paragraph_line_height(first);
  const float next_height = paragraph_line_height(next);
  if (std::min(first_height, next_height) < 1.2f * body_height) return false;
  if (std::abs(first_height - next_height) > 0.25f * std::max(first_height, next_height)) return false;
  const std::string first_text = line_text(first.lines.back());
  const std::string next_text = line_text(next.lines.front());
  if (ends_sentence(first_text) || is_numbered_heading(next_text)) return false;
  const int gap = next.box.y1 - first.box.y2;
  return gap <= 0.8f * std::max(first_height, next_height);
}

namespace {

// Merges each text paragraph for which `continues(previous, paragraph)`
// holds into the text paragraph before it, in its block or an earlier one
// (Tesseract may set the parts in two blocks); text blocks left empty are
// removed.
template <class Continues>
PageScan merge_continuations(PageScan scan, Continues continues) {
  // A merged paragraph is emptied and removed afterwards, with any block it
  // leaves empty.
  Paragraph* previous = nullptr;
  Block* previous_block = nullptr;
  for (Block& block : scan.blocks) {
    if (block.kind != BlockKind::text) continue;
    for (Paragraph& paragraph : block.paragraphs) {
      if (previous != nullptr && continues(*previous, paragraph)) {
        append_paragraph(*previous, paragraph);
        previous_block->box = unite(previous_block->box, paragraph.box);
        paragraph.lines.clear();
      } else {
        previous = &paragraph;
        previous_block = &block;
      }
    }
  }
  for (Block& block : scan.blocks) {
    std::erase_if(block.paragraphs, [](const Paragraph& p) { return p.lines.empty(); });
  }
  std::erase_if(scan.blocks, [](const Block& b) { return b.kind == BlockKind::text && b.paragraphs.empty(); });
  return scan;
}

bool ends_with_stop(std::string_view text) {
  return !text.empty() && (text.back() == '.' || text.back() == '!' || text.back() == '?' || text.back() == ':');
}

}  // namespace

PageScan merge_heading_continuations(PageScan scan, float body_height) {
  return merge_continuations(std::move(scan), [&](const Paragraph& first, const Paragraph& next) {
    return continues_heading(first, next, body_height);
  });
}

bool continues_paragraph(const Paragraph& first, const Paragraph& next, float body_height) {
  if (body_height <= 0 || first.lines.empty() || next.lines.empty()) return false;
  const Line& last = first.lines.back();
  const std::string last_text = line_text(last);
  const std::string next_text = line_text(next.lines.front());
  if (ends_with_stop(last_text) || next_text.empty() || !is_lower(next_text.front())) return false;
  const float height = std::max(paragraph_line_height(first), paragraph_line_height(next));
  const float smaller = std::min(paragraph_line_height(first), paragraph_line_height(next));
  if (smaller < 0.8f * height) return false;
  const bool wrapped = static_cast<float>(first.box.x2 - last.box.x2) <= height;
  const bool aligned = static_cast<float>(std::abs(next.box.x1 - first.box.x1)) <= 0.5f * body_height;
  const int gap = next.box.y1 - first.box.y2;
  // Type boxes of adjacent lines may overlap a little.
  return wrapped && aligned && std::abs(static_cast<float>(gap)) <= 0.6f * height;
}

PageScan merge_paragraph_continuations(PageScan scan, float body_height) {
  return merge_continuations(std::move(scan), [&](const Paragraph& first, const Paragraph& next) {
    return continues_paragraph(first, next, body_height);
  });
}

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

bool starts_like_caption(std::string_view text) {
  static constexpr std::array<std::string_view, 6> kLabels = {"Figure", "FIGURE", "Fig.", "FIG.", "Table",
                                                               "TABLE"};
  for (std::string_view label : kLabels) {
    if (!text.starts_with(label)) continue;
    std::size_t pos = label.size();
    while (pos < text.size() && text[pos] == ' ') ++pos;
    if (digit_run(text, pos) > 0) return true;
  }
  return false;
}

bool is_adjacent(const Box& a, const Box& b, int max_gap) {
  const bool overlap_x = a.x1 < b.x2 && b.x1 < a.x2;
  const int gap = std::max(a.y1 - b.y2, b.y1 - a.y2);
  return overlap_x && gap <= max_gap;
}

bool is_footnote(const Paragraph& paragraph, std::string_view text, int page_height, float body_height) {
  if (body_height <= 0 || paragraph.lines.empty() || paragraph.lines.size() > 4) return false;
  if (paragraph.box.y1 < 0.75 * page_height) return false;
  if (paragraph_line_height(paragraph) > 0.85f * body_height) return false;
  const std::size_t digits = digit_run(text, 0);
  const bool numbered = digits > 0 && digits <= 2 && space_before_text(text, digits) > 0;
  return numbered || text.starts_with('*') || text.starts_with("\u2020");
}

bool is_graphic_line(const Line& line, float body_height) {
  const float height = static_cast<float>(line.box.height());
  return body_height > 0 && height > 2.5f * body_height && height > 1.8f * line.row_height;
}

namespace {

// Moves the paragraph's graphic lines into `pictures`, refitting its box.
void take_graphic_lines(Paragraph& paragraph, float body_height, std::vector<Block>& pictures) {
  std::vector<Line> kept;
  Box box;
  for (Line& line : paragraph.lines) {
    if (is_graphic_line(line, body_height)) {
      pictures.push_back(Block{BlockKind::picture, line.box, {}});
    } else {
      box = unite(box, line.box);
      kept.push_back(std::move(line));
    }
  }
  paragraph.lines = std::move(kept);
  paragraph.box = box;
}

}  // namespace

PageScan separate_graphic_lines(PageScan scan, float body_height) {
  std::vector<Block> blocks;
  for (Block& block : scan.blocks) {
    std::vector<Block> pictures;
    if (block.kind == BlockKind::text) {
      for (Paragraph& paragraph : block.paragraphs) take_graphic_lines(paragraph, body_height, pictures);
      std::erase_if(block.paragraphs, [](const Paragraph& p) { return p.lines.empty(); });
    }
    if (block.kind != BlockKind::text || !block.paragraphs.empty()) blocks.push_back(std::move(block));
    blocks.insert(blocks.end(), pictures.begin(), pictures.end());
  }
  scan.blocks = std::move(blocks);
  return scan;
}

bool is_speck(const Box& box, float body_height) {
  return box.width() < 2 * body_height || box.height() < 2 * body_height;
}

std::vector<std::vector<std::size_t>> group_rules(const std::vector<Box>& rules, int tolerance) {
  std::vector<std::size_t> group_of(rules.size());
  for (std::size_t i = 0; i < rules.size(); ++i) group_of[i] = i;
  // Relabel until stable: each rule takes the smallest label among the rules
  // it touches, so a group ends up labelled by its first member.
  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t i = 0; i < rules.size(); ++i) {
      for (std::size_t j = 0; j < rules.size(); ++j) {
        if (group_of[j] < group_of[i] && is_touching(rules[i], rules[j], tolerance)) {
          group_of[i] = group_of[j];
          changed = true;
        }
      }
    }
  }
  std::vector<std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    if (group_of[i] == i) groups.emplace_back();
  }
  std::vector<std::size_t> slot(rules.size());
  for (std::size_t i = 0, next = 0; i < rules.size(); ++i) {
    if (group_of[i] == i) slot[i] = next++;
  }
  for (std::size_t i = 0; i < rules.size(); ++i) groups[slot[group_of[i]]].push_back(i);
  return groups;
}

bool is_picture_frame(const Box& frame, const std::vector<Box>& text_lines, float body_height) {
  if (body_height <= 0 || frame.width() < 3 * body_height || frame.height() < 3 * body_height) return false;
  return std::none_of(text_lines.begin(), text_lines.end(), [&](const Box& line) {
    const int x = (line.x1 + line.x2) / 2;
    const int y = (line.y1 + line.y2) / 2;
    return frame.x1 <= x && x < frame.x2 && frame.y1 <= y && y < frame.y2;
  });
}

std::vector<std::vector<std::string>> table_cells(const std::vector<Word>& words) {
  struct Row {
    Box box;
    std::vector<Word> words;
  };
  std::vector<Word> sorted = words;
  std::sort(sorted.begin(), sorted.end(), [](const Word& a, const Word& b) { return a.box.y1 < b.box.y1; });
  std::vector<Row> rows;
  for (Word& word : sorted) {
    const int centre = (word.box.y1 + word.box.y2) / 2;
    auto row = std::find_if(rows.begin(), rows.end(),
                            [&](const Row& r) { return r.box.y1 <= centre && centre < r.box.y2; });
    if (row == rows.end()) row = rows.insert(rows.end(), Row{});
    row->box = unite(row->box, word.box);
    row->words.push_back(std::move(word));
  }
  std::vector<std::vector<std::string>> cells;
  for (Row& row : rows) {
    std::sort(row.words.begin(), row.words.end(), [](const Word& a, const Word& b) { return a.box.x1 < b.box.x1; });
    std::vector<std::string> row_cells;
    int previous_x2 = 0;
    for (const Word& word : row.words) {
      const bool new_cell = row_cells.empty() || word.box.x1 - previous_x2 > row.box.height();
      if (new_cell) {
        row_cells.push_back(word.text);
      } else {
        row_cells.back() += ' ' + word.text;
      }
      previous_x2 = word.box.x2;
    }
    cells.push_back(std::move(row_cells));
  }
  return cells;
}

std::string table_html(const std::vector<std::vector<std::string>>& cells) {
  const auto escaped = [](std::string_view text) {
    std::string out;
    for (char c : text) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        default: out += c;
      }
    }
    return out;
  };
  std::string html = "<table>";
  for (const auto& row : cells) {
    html += "<tr>";
    for (const std::string& cell : row) html += "<td>" + escaped(cell) + "</td>";
    html += "</tr>";
  }
  return html + "</table>";
}

PageLayout build_layout(const PageScan& input) {
  PageLayout layout;
  layout.width = input.width;
  layout.height = input.height;
  const float body_height = median_body_line_height(input);
  PageScan scan = restore_merged_bullets(widen_figure_lines(separate_graphic_lines(input, body_height)));
  scan = split_at_size_breaks(split_stacked_headings(std::move(scan)), body_height);
  scan = merge_heading_continuations(split_before_bullets(std::move(scan)), body_height);
  scan = merge_paragraph_continuations(std::move(scan), body_height);
  const PageContext page{scan.height, body_height, find_title(scan, body_height)};
  const TextParagraphs text = text_paragraphs(scan);
  const RuleFigures figures = rule_figures(scan, body_height);
  std::size_t text_index = 0;
  for (std::size_t i = 0; i < scan.blocks.size(); ++i) {
    const Block& block = scan.blocks[i];
    switch (block.kind) {
      case BlockKind::picture:
        if (!is_speck(block.box, body_height)) {
          layout.elements.push_back(make_element(block.box, category::picture, {}));
        }
        break;
      case BlockKind::rule:
        if (figures.picture_at[i]) {
          layout.elements.push_back(make_element(*figures.picture_at[i], category::picture, {}));
        }
        break;
      case BlockKind::table:
        layout.elements.push_back(table_element(block, figures.block_box[i]));
        break;
      case BlockKind::formula:
        layout.elements.push_back(formula_element(block));
        break;
      case BlockKind::text:
        for (const Paragraph& paragraph : block.paragraphs) {
          add_paragraph(paragraph, text.neighbour_marked(text_index++), page, layout.elements);
        }
        break;
      case BlockKind::ignored:
        break;
    }
  }
  const int caption_gap = body_height > 0 ? static_cast<int>(2.5f * body_height) : scan.height / 50;
  drop_nested_pictures(layout.elements);
  mark_captions(layout.elements, caption_gap);
  move_margins_to_ends(layout.elements);
  return layout;
}

}  // namespace visor::ocr::rules

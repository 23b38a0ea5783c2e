// Layout rules: the whole page, from a scan to its elements in reading order.

#include "ocr/layout_rules.hpp"

#include <algorithm>
#include <optional>

#include "ocr/layout_support.hpp"

namespace visor::ocr::rules {

using namespace detail;

namespace {

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

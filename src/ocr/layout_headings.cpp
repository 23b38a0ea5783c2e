// Layout rules: titles and headings, and the repair of paragraphs that
// the engine grouped wrongly (stacked headings, size breaks, continuations).

#include "ocr/layout_rules.hpp"

#include <algorithm>

#include "ocr/layout_support.hpp"

namespace visor::ocr::rules {

using namespace detail;

const Paragraph* find_title(const PageScan& scan, float body_height) {
  if (body_height <= 0) return nullptr;
  const Paragraph* title = nullptr;
  float title_height = 0;
  for (const Block& block : scan.blocks) {
    if (block.kind != BlockKind::text) continue;
    for (const Paragraph& paragraph : block.paragraphs) {
      const bool candidate = paragraph.lines.size() <= 3 && !paragraph.lines.empty() &&
                             paragraph.box.y1 < scan.height / 3 &&
                             margin_category(paragraph, scan.height) == nullptr;
      const bool bold = std::all_of(paragraph.lines.begin(), paragraph.lines.end(),
                                    [](const Line& line) { return line.bold; });
      const float height = paragraph_line_height(paragraph);
      if (candidate && height >= (bold ? 1.3f : 1.6f) * body_height && height > title_height) {
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


}  // namespace visor::ocr::rules

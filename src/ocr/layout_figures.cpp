// Layout rules: captions, footnotes, pictures, separator rules, tables.

#include "ocr/layout_rules.hpp"

#include <algorithm>
#include <array>

#include "ocr/layout_support.hpp"

namespace visor::ocr::rules {

using namespace detail;

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
  return std::none_of(text_lines.begin(), text_lines.end(),
                      [&](const Box& line) { return detail::centre_inside(frame, line); });
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

}  // namespace visor::ocr::rules

#include "ocr/aligned_tables.hpp"

#include <algorithm>
#include <cmath>

#include "ocr/layout_support.hpp"

namespace visor::ocr {
namespace {

using rules::Line;
using rules::Word;

constexpr float kCellGap = 1.5f;        // body heights between two cells of a row
constexpr float kNarrowShare = 0.3f;    // of the text's width: a cell, not a column of prose
constexpr float kRowGap = 1.0f;         // body heights between two rows of a table
constexpr float kEdgeTolerance = 0.5f;  // body heights within which column edges agree
constexpr double kSharedEdgeShare = 0.6;
constexpr std::size_t kMinRows = 3;
constexpr double kRuledRowShare = 0.5;  // of the lines between a table's rules that are rows of cells
constexpr int kMaxHeadingLines = 3;

// One printed row: the lines that share a baseline across the page, left to
// right, cut into cells where the words stand far apart.
struct Row {
  Box box;
  std::vector<Box> cells;
};

std::vector<Row> rows_of(std::vector<Line> lines, float body_height) {
  std::sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) { return a.box.y1 < b.box.y1; });
  std::vector<std::vector<const Word*>> row_words;
  std::vector<Row> rows;
  for (const Line& line : lines) {
    if (line.words.empty()) continue;
    auto row = std::find_if(rows.begin(), rows.end(), [&](const Row& r) { return rules::detail::shares_baseline(r.box, line.box); });
    if (row == rows.end()) {
      rows.push_back(Row{line.box, {}});
      row_words.emplace_back();
      row = rows.end() - 1;
    }
    row->box = rules::unite(row->box, line.box);
    auto& words = row_words[static_cast<std::size_t>(row - rows.begin())];
    for (const Word& word : line.words) words.push_back(&word);
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto& words = row_words[i];
    std::sort(words.begin(), words.end(), [](const Word* a, const Word* b) { return a->box.x1 < b->box.x1; });
    for (const Word* word : words) {
      auto& cells = rows[i].cells;
      if (cells.empty() || static_cast<float>(word->box.x1 - cells.back().x2) > kCellGap * body_height) {
        cells.push_back(word->box);
      } else {
        cells.back() = rules::unite(cells.back(), word->box);
      }
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.box.y1 < b.box.y1; });
  return rows;
}

// Two cells or more, all but one narrow.
bool is_table_row(const Row& row, float text_width) {
  if (row.cells.size() < 2) return false;
  const auto wide = std::count_if(row.cells.begin(), row.cells.end(),
                                  [&](const Box& cell) { return static_cast<float>(cell.width()) >= kNarrowShare * text_width; });
  return wide <= 1;
}

bool overlaps_horizontally(const Box& a, const Box& b) {
  return std::min(a.x2, b.x2) - std::max(a.x1, b.x1) > 0;
}

// Most rows have a later cell (after their first) starting or ending at one
// place: the columns line up.
bool has_shared_column_edge(const std::vector<const Row*>& rows, float body_height) {
  std::vector<int> edges;
  for (const Row* row : rows) {
    for (std::size_t c = 1; c < row->cells.size(); ++c) {
      edges.push_back(row->cells[c].x1);
      edges.push_back(row->cells[c].x2);
    }
  }
  const float tolerance = kEdgeTolerance * body_height;
  for (const int edge : edges) {
    std::size_t sharing = 0;
    for (const Row* row : rows) {
      sharing += std::any_of(row->cells.begin() + 1, row->cells.end(), [&](const Box& cell) {
        return std::fabs(static_cast<float>(cell.x1 - edge)) <= tolerance ||
               std::fabs(static_cast<float>(cell.x2 - edge)) <= tolerance;
      });
    }
    if (static_cast<double>(sharing) >= kSharedEdgeShare * static_cast<double>(rows.size())) return true;
  }
  return false;
}

// Lines just above the table within its width, right of its first column or
// cut into cells themselves: its column headings.
Box with_headings(Box table, const std::vector<Row>& rows, std::size_t first_row, int first_column_end,
                  float body_height) {
  int added = 0;
  for (std::size_t i = first_row; i-- > 0 && added < kMaxHeadingLines;) {
    const Row& row = rows[i];
    const bool near = static_cast<float>(table.y1 - row.box.y2) <= kRowGap * body_height;
    const bool within = row.box.x1 >= table.x1 - static_cast<int>(body_height) &&
                        row.box.x2 <= table.x2 + static_cast<int>(body_height);
    const bool heading = row.cells.size() >= 2 || row.box.x1 > first_column_end;
    if (!near || !within || !heading) break;
    table = rules::unite(table, row.box);
    ++added;
  }
  return table;
}

}  // namespace

std::vector<Box> find_aligned_tables(const std::vector<Line>& lines, float body_height) {
  if (body_height <= 0 || lines.empty()) return {};
  const std::vector<Row> rows = rows_of(lines, body_height);
  int left = rows.front().box.x1;
  int right = rows.front().box.x2;
  for (const Row& row : rows) {
    left = std::min(left, row.box.x1);
    right = std::max(right, row.box.x2);
  }
  const auto text_width = static_cast<float>(right - left);

  std::vector<Box> tables;
  for (std::size_t i = 0; i < rows.size();) {
    if (!is_table_row(rows[i], text_width)) {
      ++i;
      continue;
    }
    std::vector<const Row*> run{&rows[i]};
    std::size_t next = i + 1;
    while (next < rows.size() && is_table_row(rows[next], text_width) &&
           static_cast<float>(rows[next].box.y1 - run.back()->box.y2) <= kRowGap * body_height &&
           overlaps_horizontally(rows[next].box, run.back()->box)) {
      run.push_back(&rows[next++]);
    }
    if (run.size() >= kMinRows && has_shared_column_edge(run, body_height)) {
      Box table = run.front()->box;
      for (const Row* row : run) table = rules::unite(table, row->box);
      // The first column: the cells that start at the table's left edge
      // (a heading row over the later columns starts further right).
      int first_column_end = table.x1;
      for (const Row* row : run) {
        const Box& first = row->cells.front();
        if (static_cast<float>(first.x1 - table.x1) <= kEdgeTolerance * body_height) {
          first_column_end = std::max(first_column_end, first.x2);
        }
      }
      tables.push_back(with_headings(table, rows, i, first_column_end, body_height));
    }
    i = next;
  }
  return tables;
}

namespace {

bool same_width(const Box& a, const Box& b, float body_height) {
  return std::fabs(static_cast<float>(a.x1 - b.x1)) <= body_height &&
         std::fabs(static_cast<float>(a.x2 - b.x2)) <= body_height;
}

// The lines between `top` and `bottom` (rules of one width) are a table:
// enough of them, mostly rows of cells.
bool rows_between(const std::vector<Line>& lines, const Box& top, const Box& bottom, std::size_t rules,
                  float body_height) {
  const Box region{top.x1, top.y1, top.x2, bottom.y2};
  std::vector<Line> inside;
  for (const Line& line : lines) {
    if (rules::detail::centre_inside(region, line.box)) inside.push_back(line);
  }
  const std::vector<Row> rows = rows_of(std::move(inside), body_height);
  const auto width = static_cast<float>(region.width());
  const auto table_rows = static_cast<std::size_t>(
      std::count_if(rows.begin(), rows.end(), [&](const Row& row) { return is_table_row(row, width); }));
  const std::size_t wanted = rules >= 3 ? 2 : kMinRows;
  return table_rows >= wanted && static_cast<double>(table_rows) >= kRuledRowShare * static_cast<double>(rows.size());
}

}  // namespace

std::vector<Box> find_rule_bounded_tables(const std::vector<Line>& lines, std::vector<Box> horizontal_rules,
                                          float body_height) {
  if (body_height <= 0) return {};
  std::sort(horizontal_rules.begin(), horizontal_rules.end(), [](const Box& a, const Box& b) { return a.y1 < b.y1; });
  std::vector<Box> tables;
  std::vector<bool> used(horizontal_rules.size(), false);
  for (std::size_t first = 0; first < horizontal_rules.size(); ++first) {
    if (used[first]) continue;
    std::vector<std::size_t> stack{first};
    for (std::size_t next = first + 1; next < horizontal_rules.size(); ++next) {
      if (!used[next] && same_width(horizontal_rules[first], horizontal_rules[next], body_height)) stack.push_back(next);
    }
    // The widest span of these rules whose lines are a table: from the
    // first rule to the furthest one that still encloses rows of cells.
    for (std::size_t last = stack.size(); last-- > 1;) {
      const Box& top = horizontal_rules[stack.front()];
      const Box& bottom = horizontal_rules[stack[last]];
      if (!rows_between(lines, top, bottom, last + 1, body_height)) continue;
      tables.push_back(Box{std::min(top.x1, bottom.x1), top.y1, std::max(top.x2, bottom.x2), bottom.y2});
      for (std::size_t k = 0; k <= last; ++k) used[stack[k]] = true;
      break;
    }
  }
  return tables;
}

}  // namespace visor::ocr

#include "ocr/layout.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

#include <nlohmann/json.hpp>

namespace visor::ocr {
namespace {

// nlohmann::json keeps object keys sorted, and "bbox" < "category" < "text"
// is exactly the order dots.ocr emits.
nlohmann::json dotsocr_element(const Element& element) {
  nlohmann::json object = {
      {"bbox", {element.bbox.x1, element.bbox.y1, element.bbox.x2, element.bbox.y2}},
      {"category", element.category},
  };
  if (element.category != category::picture) object["text"] = element.text;
  return object;
}

std::string single_line(std::string_view text) {
  std::string line(text);
  std::replace(line.begin(), line.end(), '\n', ' ');
  return line;
}

// "12. item" / "3) item" -> "12. item": Markdown's ordered-list syntax with the
// item's own number; anything else becomes a bullet.
std::string list_item_markdown(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  const bool numbered = digits > 0 && digits + 1 < text.size() && (text[digits] == '.' || text[digits] == ')') &&
                        text[digits + 1] == ' ';
  if (numbered) return std::string(text.substr(0, digits)) + ". " + single_line(text.substr(digits + 2));
  return "- " + single_line(text);
}

std::string table_cell_markdown(std::string_view cell) {
  std::string out;
  for (char c : cell) {
    if (c == '|') {
      out += "\\|";
    } else {
      out += c == '\n' ? ' ' : c;
    }
  }
  return out;
}

std::string table_row_markdown(const std::vector<std::string>& row, std::size_t columns) {
  std::string line = "|";
  for (std::size_t i = 0; i < columns; ++i) {
    line += ' ' + (i < row.size() ? table_cell_markdown(row[i]) : std::string()) + " |";
  }
  return line;
}

// First row is the header; shorter rows are padded so every row has the
// same number of columns, as pipe tables require.
std::string table_markdown(const Element& element) {
  if (element.cells.empty()) return element.text;
  std::size_t columns = 0;
  for (const auto& row : element.cells) columns = std::max(columns, row.size());
  if (columns == 0) return element.text;
  std::string table = table_row_markdown(element.cells.front(), columns) + '\n' + "|";
  for (std::size_t i = 0; i < columns; ++i) table += " --- |";
  for (std::size_t r = 1; r < element.cells.size(); ++r) {
    table += '\n' + table_row_markdown(element.cells[r], columns);
  }
  return table;
}

}  // namespace

std::string element_markdown(const Element& element) {
  const std::string& c = element.category;
  if (c == category::page_header || c == category::page_footer || c == category::picture) return {};
  if (c == category::title) return "# " + single_line(element.text);
  if (c == category::section_header) return "## " + single_line(element.text);
  if (c == category::list_item) return list_item_markdown(element.text);
  if (c == category::formula) return "$$\n" + element.text + "\n$$";
  if (c == category::table) return table_markdown(element);
  return element.text;
}

nlohmann::json to_dotsocr_json(const PageLayout& layout) {
  nlohmann::json elements = nlohmann::json::array();
  for (const Element& element : layout.elements) elements.push_back(dotsocr_element(element));
  return elements;
}

std::string to_markdown(const PageLayout& layout) {
  std::string markdown;
  for (const Element& element : layout.elements) {
    std::string block = element_markdown(element);
    if (block.empty()) continue;
    if (!markdown.empty()) markdown += "\n\n";
    markdown += block;
  }
  return markdown;
}

}  // namespace visor::ocr

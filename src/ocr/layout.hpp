#pragma once
// A page's layout: elements with boxes, dots.ocr categories and text, in
// reading order. Engines produce it; the dotsocr and Markdown writers consume it.

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace visor::ocr {

// The dots.ocr category vocabulary (11 categories).
namespace category {
inline constexpr const char* caption = "Caption";
inline constexpr const char* footnote = "Footnote";
inline constexpr const char* formula = "Formula";
inline constexpr const char* list_item = "List-item";
inline constexpr const char* page_footer = "Page-footer";
inline constexpr const char* page_header = "Page-header";
inline constexpr const char* picture = "Picture";
inline constexpr const char* section_header = "Section-header";
inline constexpr const char* table = "Table";
inline constexpr const char* text = "Text";
inline constexpr const char* title = "Title";
}  // namespace category

struct Box {
  int x1 = 0, y1 = 0, x2 = 0, y2 = 0;  // pixels, top-left origin, x2/y2 exclusive
  int width() const { return x2 - x1; }
  int height() const { return y2 - y1; }
};

struct Element {
  Box bbox;
  std::string category;
  std::string text;  // Markdown; HTML for Table; empty for Picture
  // Table cells (rows of cell texts) when category is Table; the Markdown
  // writer turns them into a pipe table.
  std::vector<std::vector<std::string>> cells;
};

struct PageLayout {
  int width = 0;   // pixels of the analysed image
  int height = 0;
  std::vector<Element> elements;  // reading order
};

// dots.ocr output: [{"bbox": [...], "category": ..., "text": ...}, ...];
// Picture elements carry no "text" key.
nlohmann::json to_dotsocr_json(const PageLayout& layout);

// The Markdown block of one element, as dots.ocr's authors convert
// (../shared/reference/models.md): Title "# ", Section-header "## ",
// List-item "- " (or its own number), Formula in "$$" lines, a Table as a
// pipe table from its cells (its HTML text when it has none), other text as
// it is; empty for page headers, footers and pictures, which the body leaves out.
std::string element_markdown(const Element& element);

// Markdown of the page body: Title "# ", Section-header "## ", List-item
// "- ", tables as pipe tables, paragraphs separated by a blank line; page
// headers, footers and pictures left out.
std::string to_markdown(const PageLayout& layout);

}  // namespace visor::ocr

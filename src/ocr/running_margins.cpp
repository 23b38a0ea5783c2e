#include "ocr/running_margins.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>

#include <nlohmann/json.hpp>

#include "ocr/layout.hpp"

namespace visor::ocr {
namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }

// "iv", "xii": the lower-case roman numerals of page numbers (front matter
// rarely runs past "l").
bool is_roman_numeral(std::string_view text) {
  return !text.empty() && text.size() <= 6 && text.find_first_not_of("ivx") == std::string_view::npos;
}

// --- dotsocr pages --------------------------------------------------------

struct Placed {
  nlohmann::json* element;
  double y1, y2;
};

std::optional<Placed> placed(nlohmann::json& element) {
  if (!element.is_object()) return std::nullopt;
  const auto bbox = element.find("bbox");
  if (bbox == element.end() || !bbox->is_array() || bbox->size() != 4) return std::nullopt;
  if (!std::all_of(bbox->begin(), bbox->end(), [](const nlohmann::json& v) { return v.is_number(); })) {
    return std::nullopt;
  }
  return Placed{&element, (*bbox)[1].get<double>(), (*bbox)[3].get<double>()};
}

std::string category_of(const nlohmann::json& element) {
  const auto category = element.find("category");
  return category != element.end() && category->is_string() ? category->get<std::string>() : std::string();
}

std::string text_of(const nlohmann::json& element) {
  const auto text = element.find("text");
  return text != element.end() && text->is_string() ? text->get<std::string>() : std::string();
}

// One element of a page's top or bottom row, as the pass compares it.
struct RowEntry {
  nlohmann::json* element;
  std::string signature;  // empty: takes no part
  double y;               // top edge for the top row, bottom edge for the bottom row
  double height;
};

enum class Edge { top, bottom };

// The elements of the page's top (bottom) row: those that start above the
// bottom of its top-most element (end below the top of its bottom-most one).
std::vector<RowEntry> edge_row(nlohmann::json& page, Edge edge) {
  std::vector<Placed> all;
  for (nlohmann::json& element : page) {
    if (auto p = placed(element); p && category_of(element) != category::picture) all.push_back(*p);
  }
  std::vector<RowEntry> row;
  if (all.empty()) return row;
  const auto outer = edge == Edge::top
                         ? std::min_element(all.begin(), all.end(), [](auto& a, auto& b) { return a.y1 < b.y1; })
                         : std::max_element(all.begin(), all.end(), [](auto& a, auto& b) { return a.y2 < b.y2; });
  for (const Placed& p : all) {
    const bool in_row = edge == Edge::top ? p.y1 < outer->y2 : p.y2 > outer->y1;
    if (!in_row) continue;
    const std::string text = text_of(*p.element);
    std::string signature = text.size() <= kMaxRunningLength ? running_signature(text) : std::string();
    row.push_back({p.element, std::move(signature), edge == Edge::top ? p.y1 : p.y2, p.y2 - p.y1});
  }
  return row;
}

bool repeats_elsewhere(const RowEntry& entry, std::size_t page, const std::vector<std::vector<RowEntry>>& rows) {
  for (std::size_t other = 0; other < rows.size(); ++other) {
    if (other == page) continue;
    for (const RowEntry& candidate : rows[other]) {
      const double tolerance = 2 * std::max(entry.height, candidate.height);
      if (candidate.signature == entry.signature && std::abs(candidate.y - entry.y) <= tolerance) return true;
    }
  }
  return false;
}

void mark_rows(std::vector<nlohmann::json*>& pages, Edge edge) {
  std::vector<std::vector<RowEntry>> rows;
  for (nlohmann::json* page : pages) rows.push_back(edge_row(*page, edge));
  const char* margin = edge == Edge::top ? category::page_header : category::page_footer;
  for (std::size_t page = 0; page < rows.size(); ++page) {
    for (const RowEntry& entry : rows[page]) {
      if (entry.signature.empty() || category_of(*entry.element) != category::text) continue;
      if (repeats_elsewhere(entry, page, rows)) (*entry.element)["category"] = margin;
    }
  }
}

void move_margins_to_ends(nlohmann::json& page) {
  std::vector<nlohmann::json> elements(page.begin(), page.end());
  std::stable_partition(elements.begin(), elements.end(),
                        [](const nlohmann::json& e) { return category_of(e) == category::page_header; });
  std::stable_partition(elements.begin(), elements.end(),
                        [](const nlohmann::json& e) { return category_of(e) != category::page_footer; });
  page = nlohmann::json(std::move(elements));
}

void mark_element_pages(std::vector<nlohmann::json*> pages) {
  if (pages.size() < 2) return;
  mark_rows(pages, Edge::top);
  mark_rows(pages, Edge::bottom);
  for (nlohmann::json* page : pages) move_margins_to_ends(*page);
}

// --- lightonocr pages -----------------------------------------------------

std::vector<std::string> paragraphs_of(const std::string& markdown) {
  std::vector<std::string> paragraphs;
  std::size_t start = 0;
  while (start <= markdown.size()) {
    const std::size_t end = std::min(markdown.find("\n\n", start), markdown.size());
    paragraphs.push_back(markdown.substr(start, end - start));
    start = end + 2;
  }
  return paragraphs;
}

std::string joined(const std::vector<std::string>& paragraphs) {
  std::string markdown;
  for (const std::string& paragraph : paragraphs) {
    if (!markdown.empty()) markdown += "\n\n";
    markdown += paragraph;
  }
  return markdown;
}

// A paragraph of plain text: no heading, list item, table, formula or HTML.
// A page number set as "- 3 -" reads as a list item in Markdown; text
// without letters is taken as plain all the same.
bool is_plain_paragraph(std::string_view text) {
  if (text.empty() || text.find('\n') != std::string_view::npos) return false;
  for (std::string_view mark : {"#", "|", "$$", "<"}) {
    if (text.starts_with(mark)) return false;
  }
  if (std::none_of(text.begin(), text.end(), is_alpha)) return true;
  for (std::string_view mark : {"- ", "* ", "+ "}) {
    if (text.starts_with(mark)) return false;
  }
  std::size_t digits = 0;
  while (digits < text.size() && is_digit(text[digits])) ++digits;
  return !(digits > 0 && text.substr(digits).starts_with(". "));
}

// The signature of the page's first (last) paragraph when it is plain and
// short; empty otherwise.
std::string edge_signature(const std::vector<std::string>& paragraphs, Edge edge) {
  if (paragraphs.empty()) return {};
  const std::string& paragraph = edge == Edge::top ? paragraphs.front() : paragraphs.back();
  if (!is_plain_paragraph(paragraph) || paragraph.size() > kMaxRunningLength) return {};
  return running_signature(paragraph);
}

void mark_markdown_pages(const std::vector<nlohmann::json*>& pages) {
  if (pages.size() < 2) return;
  std::vector<std::vector<std::string>> paragraphs;
  for (const nlohmann::json* page : pages) paragraphs.push_back(paragraphs_of(page->get<std::string>()));
  std::vector<bool> drop_first(pages.size()), drop_last(pages.size());
  for (const Edge edge : {Edge::top, Edge::bottom}) {
    std::vector<std::string> signatures;
    for (const auto& page : paragraphs) signatures.push_back(edge_signature(page, edge));
    for (std::size_t page = 0; page < pages.size(); ++page) {
      const std::string& mine = signatures[page];
      std::size_t same = 0;
      for (const std::string& other : signatures) same += !mine.empty() && other == mine ? 1 : 0;
      if (same >= 2) (edge == Edge::top ? drop_first : drop_last)[page] = true;
    }
  }
  for (std::size_t page = 0; page < pages.size(); ++page) {
    std::vector<std::string>& kept = paragraphs[page];
    if (drop_last[page] && !kept.empty()) kept.pop_back();
    if (drop_first[page] && !kept.empty()) kept.erase(kept.begin());
    *pages[page] = joined(kept);
  }
}

}  // namespace

std::string running_signature(std::string_view text) {
  std::string signature;
  bool pending_space = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (is_space(c)) {
      pending_space = !signature.empty();
      continue;
    }
    if (pending_space) signature += ' ';
    pending_space = false;
    if (is_digit(c)) {
      if (signature.empty() || signature.back() != '#') signature += '#';
      while (i + 1 < text.size() && is_digit(text[i + 1])) ++i;
      continue;
    }
    signature += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return is_roman_numeral(signature) ? "#" : signature;
}

bool marks_running_margins(std::string_view engine_name) {
  return engine_name.starts_with("tesseract") || engine_name.starts_with("text layer");
}

void mark_running_margins(const std::vector<nlohmann::json*>& pages) {
  std::vector<nlohmann::json*> element_pages;
  std::vector<nlohmann::json*> markdown_pages;
  for (nlohmann::json* page : pages) {
    if (page == nullptr) continue;
    if (page->is_array()) element_pages.push_back(page);
    if (page->is_string()) markdown_pages.push_back(page);
  }
  mark_element_pages(element_pages);
  mark_markdown_pages(markdown_pages);
}

}  // namespace visor::ocr

#include "ocr/text_placement.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "ocr/document_text.hpp"
#include "ocr/layout.hpp"
#include "util/utf8.hpp"

namespace visor::ocr {
namespace {

using json = nlohmann::json;

// Typical proportions of Latin text: advance per character and line
// pitch, in ems.
constexpr double kCharacterAdvance = 0.5;
constexpr double kLinePitch = 1.2;

std::size_t characters_in(const std::string& text) { return util::decode_utf8(text).size(); }

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string word; in >> word;) words.push_back(std::move(word));
  return words;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::replace(line.begin(), line.end(), '\t', ' ');
    if (!words_of(line).empty()) lines.push_back(std::move(line));
  }
  return lines;
}

struct ElementBox {
  int x1 = 0, y1 = 0, x2 = 0, y2 = 0;
};

std::optional<ElementBox> box_of(const json& element) {
  const json bbox = element.value("bbox", json());
  if (!bbox.is_array() || bbox.size() != 4) return std::nullopt;
  for (const json& v : bbox) {
    if (!v.is_number()) return std::nullopt;
  }
  ElementBox box{bbox[0].get<int>(), bbox[1].get<int>(), bbox[2].get<int>(), bbox[3].get<int>()};
  if (box.x2 <= box.x1 || box.y2 <= box.y1) return std::nullopt;
  return box;
}

// The text the layer carries for an element: its plain text, with the
// running headers and footers the body leaves out, since they are printed.
std::string layer_text(const json& element) {
  const std::string category = element.value("category", "");
  if (category == category::page_header || category == category::page_footer) {
    json as_text = element;
    as_text["category"] = category::text;
    return element_plain_text(as_text);
  }
  return element_plain_text(element);
}

// The element's lines: its own when its text has line breaks (table rows),
// else an estimate from the box.
std::vector<std::string> element_lines(const std::string& text, const ElementBox& box) {
  std::vector<std::string> lines = lines_of(text);
  if (lines.size() != 1) return lines;
  const std::vector<std::string> words = words_of(lines.front());
  const int count = estimated_line_count(box.x2 - box.x1, box.y2 - box.y1, characters_in(lines.front()), words.size());
  return balanced_lines(words, count);
}

void place_element(const json& element, std::vector<pdf::RecognisedLine>& out) {
  const auto box = box_of(element);
  if (!box) return;
  const std::vector<std::string> lines = element_lines(layer_text(element), *box);
  if (lines.empty()) return;
  std::size_t longest = 1;
  for (const auto& line : lines) longest = std::max(longest, characters_in(line));
  const double pitch = static_cast<double>(box->y2 - box->y1) / static_cast<double>(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    pdf::RecognisedLine line;
    // The longest line spans the box; shorter ones (a paragraph's last)
    // in proportion to their length.
    const double share = static_cast<double>(characters_in(lines[i])) / static_cast<double>(longest);
    line.x1 = box->x1;
    line.x2 = box->x1 + std::max(1, static_cast<int>(std::lround((box->x2 - box->x1) * share)));
    line.y1 = box->y1 + static_cast<int>(std::lround(pitch * static_cast<double>(i)));
    line.y2 = std::max(line.y1 + 1, box->y1 + static_cast<int>(std::lround(pitch * static_cast<double>(i + 1))));
    line.text = lines[i];
    out.push_back(std::move(line));
  }
}

}  // namespace

int estimated_line_count(int width, int height, std::size_t characters, std::size_t words) {
  if (width <= 0 || height <= 0 || characters == 0 || words == 0) return 1;
  // n lines of c/n characters fill the width at em = w·n / (advance·c), and
  // fill the height at n·pitch·em = h: n² = advance·c·h / (pitch·w).
  const double squared = kCharacterAdvance * static_cast<double>(characters) * height / (kLinePitch * width);
  const long estimate = std::lround(std::sqrt(squared));
  return static_cast<int>(std::clamp<long>(estimate, 1, static_cast<long>(words)));
}

std::vector<std::string> balanced_lines(const std::vector<std::string>& words, int lines) {
  std::size_t total = 0;
  for (const auto& word : words) total += characters_in(word) + 1;
  const double target = static_cast<double>(total) / std::max(1, lines);
  std::vector<std::string> out;
  std::string current;
  std::size_t placed = 0;  // characters of the words before this one, with their spaces
  for (const auto& word : words) {
    const std::size_t length = characters_in(word) + 1;
    // A word goes to the next line when more than half of it would lie
    // past this line's share of the text.
    const bool past_share = static_cast<double>(placed) + static_cast<double>(length) / 2 >
                            target * static_cast<double>(out.size() + 1);
    if (!current.empty() && past_share && static_cast<int>(out.size()) + 1 < lines) {
      out.push_back(std::move(current));
      current.clear();
    }
    current += (current.empty() ? "" : " ") + word;
    placed += length;
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

pdf::PageText page_text_layer(int page_index, const json& data) {
  pdf::PageText page;
  page.page_index = page_index;
  if (data.is_string()) {
    page.unplaced_lines = lines_of(markdown_plain_text(data.get<std::string>()));
    return page;
  }
  if (!data.is_array()) return page;
  for (const json& element : data) {
    if (element.is_object()) place_element(element, page.lines);
  }
  return page;
}

}  // namespace visor::ocr

#include "ocr/remote/dots_output.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <optional>
#include <regex>
#include <set>

namespace visor::ocr::remote {
namespace {

using nlohmann::json;

constexpr int kRepeatLimit = 5;
constexpr std::array<std::string_view, 11> kCategories = {
    "Caption", "Footnote",       "Formula", "List-item", "Page-footer", "Page-header",
    "Picture", "Section-header", "Table",   "Text",      "Title"};

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// "```json\n[...]\n```" → "[...]".
std::string_view strip_code_fence(std::string_view text) {
  text = trim(text);
  if (!text.starts_with("```")) return text;
  const auto newline = text.find('\n');
  if (newline == std::string_view::npos) return {};
  text.remove_prefix(newline + 1);
  if (const auto fence = text.rfind("```"); fence != std::string_view::npos) text = text.substr(0, fence);
  return trim(text);
}

std::string insert_missing_commas(std::string_view text) {
  static const std::regex adjacent_objects(R"(\}\s*\{)");
  return std::regex_replace(std::string(text), adjacent_objects, "},{");
}

// A reply cut by the token limit ends inside an element: keep the elements
// before the last one that started.
std::string cut_truncated_tail(std::string text) {
  if (std::string_view(trim(text)).ends_with("]")) return text;
  const auto last = text.rfind("{\"bbox\"");
  if (last != std::string::npos && last > 0) text.resize(last);
  while (!text.empty() && (std::isspace(static_cast<unsigned char>(text.back())) || text.back() == ',')) {
    text.pop_back();
  }
  if (!text.ends_with("]")) text += ']';
  return text;
}

std::string force_brackets(std::string text) {
  const std::string_view view = trim(text);
  std::string out(view);
  if (!out.starts_with("[")) out = "[" + out;
  if (!out.ends_with("]")) out += "]";
  return out;
}

// Every balanced {...} that parses on its own, in order.
json salvage_objects(std::string_view text) {
  json out = json::array();
  for (std::size_t start = text.find('{'); start != std::string_view::npos; start = text.find('{', start + 1)) {
    int depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (std::size_t i = start; i < text.size(); ++i) {
      const char c = text[i];
      if (in_string) {
        if (escaped) escaped = false;
        else if (c == '\\') escaped = true;
        else if (c == '"') in_string = false;
        continue;
      }
      if (c == '"') in_string = true;
      else if (c == '{') ++depth;
      else if (c == '}' && --depth == 0) {
        json object = json::parse(text.substr(start, i - start + 1), nullptr, false);
        if (object.is_object()) {
          out.push_back(std::move(object));
          start = i;
        }
        break;
      }
    }
  }
  return out;
}

json parse_array(const std::string& text) {
  json parsed = json::parse(text, nullptr, false);
  if (parsed.is_object()) return json::array({parsed});
  return parsed.is_array() ? parsed : json();
}

// Exact duplicates, pairs repeated kRepeatLimit times, and repeated boxes
// are what a model stuck in a loop emits.
json drop_repetitions(const json& elements, bool& changed) {
  std::set<std::string> seen_objects;
  std::set<std::string> seen_boxes;
  std::map<std::string, int> pair_counts;
  for (const auto& e : elements) {
    if (e.is_object()) ++pair_counts[e.value("category", "") + '\x1f' + e.value("text", "")];
  }
  std::set<std::string> kept_pairs;
  json out = json::array();
  for (const auto& e : elements) {
    if (!e.is_object()) continue;
    const std::string pair = e.value("category", "") + '\x1f' + e.value("text", "");
    const std::string box = e.contains("bbox") ? e["bbox"].dump() : std::string();
    const bool duplicate = !seen_objects.insert(e.dump()).second;
    const bool repeated_pair = pair_counts[pair] > kRepeatLimit && !kept_pairs.insert(pair).second;
    const bool repeated_box = !box.empty() && !seen_boxes.insert(box).second;
    if (duplicate || repeated_pair || repeated_box) {
      changed = true;
      continue;
    }
    out.push_back(e);
  }
  return out;
}

std::optional<std::array<double, 4>> read_box(const json& element) {
  const auto it = element.find("bbox");
  if (it == element.end() || !it->is_array() || it->size() != 4) return std::nullopt;
  std::array<double, 4> box{};
  for (std::size_t i = 0; i < 4; ++i) {
    if (!(*it)[i].is_number()) return std::nullopt;
    box[i] = (*it)[i].get<double>();
  }
  return box;
}

int scale_coordinate(double value, int from, int to) {
  const long scaled = std::lround(value * to / from);
  return static_cast<int>(std::clamp<long>(scaled, 0, to));
}

bool known_category(std::string_view category) {
  return std::find(kCategories.begin(), kCategories.end(), category) != kCategories.end();
}

}  // namespace

Result<DotsParse> parse_dots_output(std::string_view reply) {
  DotsParse result;
  const std::string_view body = strip_code_fence(reply);
  if (body.empty()) return result;

  json elements = parse_array(std::string(body));
  if (elements.is_null()) {
    result.repaired = true;
    const std::string with_commas = insert_missing_commas(body);
    elements = parse_array(force_brackets(with_commas));
    if (elements.is_null()) elements = parse_array(force_brackets(cut_truncated_tail(with_commas)));
    if (elements.is_null()) elements = salvage_objects(body);
  }
  if (elements.empty() && !body.starts_with("[")) {
    return Error::bad_input("The model's reply is not layout JSON: " + std::string(body.substr(0, 120)));
  }
  result.elements = drop_repetitions(elements, result.repaired);
  return result;
}

json map_dots_elements(const json& elements, ImageSize model_image, ImageSize page) {
  json out = json::array();
  for (const auto& element : elements) {
    if (!element.is_object()) continue;
    const auto box = read_box(element);
    if (!box || model_image.width <= 0 || model_image.height <= 0) continue;
    const std::string category = element.value("category", std::string("Text"));
    json mapped = json::object();
    mapped["bbox"] = {scale_coordinate((*box)[0], model_image.width, page.width),
                      scale_coordinate((*box)[1], model_image.height, page.height),
                      scale_coordinate((*box)[2], model_image.width, page.width),
                      scale_coordinate((*box)[3], model_image.height, page.height)};
    mapped["category"] = category;
    if (category != "Picture") {
      const auto text = element.find("text");
      mapped["text"] = text != element.end() && text->is_string() ? text->get<std::string>() : std::string();
    }
    if (!known_category(category)) mapped["unknown_category"] = true;
    out.push_back(std::move(mapped));
  }
  return out;
}

}  // namespace visor::ocr::remote

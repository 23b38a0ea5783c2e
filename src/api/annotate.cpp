#include "api/annotate.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include <nlohmann/json.hpp>

namespace visor::api {

unsigned category_colour(std::string_view category) {
  static constexpr std::array<std::pair<std::string_view, unsigned>, 11> kColours{{
      {"Text", 0x00FF00},
      {"Title", 0xFF0000},
      {"Section-header", 0xFF00FF},
      {"Picture", 0x00FFFF},
      {"Table", 0xFFFF00},
      {"Formula", 0xFFA500},
      {"Caption", 0xFFC0CB},
      {"Footnote", 0xA9A9A9},
      {"List-item", 0x90EE90},
      {"Page-header", 0x87CEEB},
      {"Page-footer", 0xDDA0DD},
  }};
  for (const auto& [name, colour] : kColours) {
    if (name == category) return colour;
  }
  return 0xFFFFFF;
}

std::vector<pdf::Annotation> annotations_for_page(const nlohmann::json& elements) {
  std::vector<pdf::Annotation> out;
  if (!elements.is_array()) return out;
  for (const auto& element : elements) {
    if (!element.is_object()) continue;
    const auto bbox = element.find("bbox");
    if (bbox == element.end() || !bbox->is_array() || bbox->size() != 4) continue;
    if (!std::all_of(bbox->begin(), bbox->end(), [](const auto& v) { return v.is_number(); })) continue;
    pdf::Annotation annotation;
    annotation.x1 = (*bbox)[0].get<int>();
    annotation.y1 = (*bbox)[1].get<int>();
    annotation.x2 = (*bbox)[2].get<int>();
    annotation.y2 = (*bbox)[3].get<int>();
    annotation.label = element.value("category", std::string());
    annotation.rgb = category_colour(annotation.label);
    out.push_back(std::move(annotation));
  }
  return out;
}

int outline_width_for(int dpi) { return std::max(1, static_cast<int>(std::lround(4.0 * dpi / 200.0))); }

}  // namespace visor::api

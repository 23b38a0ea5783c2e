#pragma once
// What annotate=true draws: each dotsocr element's box in its category's
// colour (the original Visor palette, ../shared/reference/models.md).

#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "pdf/document.hpp"

namespace visor::api {

// 0xRRGGBB for a dots.ocr category; white for unknown ones.
unsigned category_colour(std::string_view category);

// The boxes of one page's dotsocr data (a JSON array of elements); elements
// without a valid bbox are skipped.
std::vector<pdf::Annotation> annotations_for_page(const nlohmann::json& elements);

// Outline width: about 4 px at 200 DPI, never under 1 px.
int outline_width_for(int dpi);

}  // namespace visor::api

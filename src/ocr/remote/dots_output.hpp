#pragma once
// Reading dots.ocr's replies: the layout JSON, repaired the way the model's
// reference parser repairs it (../shared/reference/models.md), and its boxes
// mapped from the resized image the model saw back to the rendered page.

#include <string_view>

#include <nlohmann/json.hpp>

#include "ocr/remote/smart_resize.hpp"
#include "util/result.hpp"

namespace visor::ocr::remote {

struct DotsParse {
  nlohmann::json elements = nlohmann::json::array();  // objects as the model wrote them
  bool repaired = false;  // the reply needed repair (truncated, malformed or repetitive)
};

// Parses a reply: strips a ```json fence, inserts missing commas between
// objects, cuts a truncated tail at the last complete element, forces the
// [ ... ] wrapper, and as a last resort keeps every object that parses on
// its own. Then drops exact duplicates, a (category, text) pair seen 5 or
// more times after its first copy, and repeated boxes after their first
// copy. bad_input only when nothing usable is found in a non-empty reply.
Result<DotsParse> parse_dots_output(std::string_view reply);

// The page result: elements with integer boxes in page pixels
// (x = x' * page.width / model.width, clamped to the page), category, and
// text (omitted for Picture). Elements without a usable box are dropped;
// categories outside the dots.ocr vocabulary are kept and marked
// "unknown_category": true.
nlohmann::json map_dots_elements(const nlohmann::json& elements, ImageSize model_image, ImageSize page);

}  // namespace visor::ocr::remote

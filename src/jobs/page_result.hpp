#pragma once
// The API's page shape, built here and nowhere else. Every page of a result
// is {"status": "success", "data": ..., "source": "text-layer" | "ocr"} or
// {"status": "error", "error": "..."}:
// the workers store pages in it, the stores write the page errors they
// decide themselves (attempts used up, a dead worker) in it, and the API
// reads it back.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/result.hpp"

namespace visor::jobs {

// Keys keep their order ("status" first), as the seed API shows pages.
using PageJson = nlohmann::ordered_json;

// `source` says which path made the data ("text-layer", "ocr").
PageJson page_success(const nlohmann::json& data, std::string_view source);
PageJson page_error(std::string_view message);

// page_error(message) as stored JSON text.
std::string page_error_text(std::string_view message);

// Whether a stored page is a success page with data.
bool is_page_success(const PageJson& page);

}  // namespace visor::jobs

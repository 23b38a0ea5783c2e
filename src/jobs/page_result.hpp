#pragma once
// The API's page shape, built here and nowhere else. Every page of a result
// is {"status": "success", "data": ...} or {"status": "error", "error": "..."}:
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

PageJson page_success(const nlohmann::json& data);
PageJson page_error(std::string_view message);

// The success page of `outcome`'s data, or the error page of its message.
PageJson page_result(const Result<nlohmann::json>& outcome);

// page_error(message) as stored JSON text.
std::string page_error_text(std::string_view message);

// Whether a stored page is a success page with data.
bool is_page_success(const PageJson& page);

}  // namespace visor::jobs

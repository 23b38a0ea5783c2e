#include "jobs/page_result.hpp"

namespace visor::jobs {

PageJson page_success(const nlohmann::json& data, std::string_view source) {
  return {{"status", "success"}, {"data", PageJson(data)}, {"source", source}};
}

PageJson page_error(std::string_view message) { return {{"status", "error"}, {"error", message}}; }

std::string page_error_text(std::string_view message) {
  return page_error(message).dump(-1, ' ', false, PageJson::error_handler_t::replace);
}

bool is_page_success(const PageJson& page) {
  return page.is_object() && page.value("status", "") == "success" && page.contains("data");
}

}  // namespace visor::jobs

#include "jobs/page_result.hpp"

namespace visor::jobs {

PageJson page_success(const nlohmann::json& data) { return {{"status", "success"}, {"data", PageJson(data)}}; }

PageJson page_error(std::string_view message) { return {{"status", "error"}, {"error", message}}; }

PageJson page_result(const Result<nlohmann::json>& outcome) {
  return outcome ? page_success(*outcome) : page_error(outcome.error().message);
}

std::string page_error_text(std::string_view message) {
  return page_error(message).dump(-1, ' ', false, PageJson::error_handler_t::replace);
}

bool is_page_success(const PageJson& page) {
  return page.is_object() && page.value("status", "") == "success" && page.contains("data");
}

}  // namespace visor::jobs

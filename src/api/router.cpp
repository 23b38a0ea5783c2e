#include "api/router.hpp"

#include <array>

namespace visor::api {
namespace {

using boost::beast::http::verb;

struct FixedRoute {
  std::string_view path;
  verb method;
  RouteId id;
};

constexpr std::array<FixedRoute, 4> kFixedRoutes{{
    {"/", verb::get, RouteId::index},
    {"/ocr/models", verb::get, RouteId::models},
    {"/ocr/submit", verb::post, RouteId::submit},
    {"/ocr", verb::post, RouteId::legacy_ocr},
}};

struct JobRoute {
  std::string_view prefix;
  RouteId id;
};

constexpr std::array<JobRoute, 3> kJobRoutes{{
    {"/ocr/status/", RouteId::status},
    {"/ocr/result/", RouteId::result},
    {"/ocr/stream/", RouteId::stream},
}};

Route with_method(verb method, verb expected, Route route) {
  if (method == verb::options) return {RouteId::preflight, {}};
  if (method == expected) return route;
  return {RouteId::method_not_allowed, {}};
}

}  // namespace

Route match_route(verb method, std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  for (const auto& fixed : kFixedRoutes) {
    if (path == fixed.path) return with_method(method, fixed.method, {fixed.id, {}});
  }
  for (const auto& job : kJobRoutes) {
    if (!path.starts_with(job.prefix)) continue;
    const std::string_view id = path.substr(job.prefix.size());
    if (id.empty() || id.find('/') != std::string_view::npos) break;
    return with_method(method, verb::get, {job.id, std::string(id)});
  }
  return {RouteId::not_found, {}};
}

}  // namespace visor::api

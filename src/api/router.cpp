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

constexpr std::array<FixedRoute, 12> kFixedRoutes{{
    {"/", verb::get, RouteId::web_app},
    {"/api", verb::get, RouteId::api_index},
    {"/healthz", verb::get, RouteId::health},
    {"/readyz", verb::get, RouteId::ready},
    {"/metrics", verb::get, RouteId::metrics},
    {"/openapi.json", verb::get, RouteId::openapi},
    {"/docs", verb::get, RouteId::docs},
    {"/ocr/jobs", verb::get, RouteId::jobs_list},
    {"/ocr/models", verb::get, RouteId::models},
    {"/ocr/submit", verb::post, RouteId::submit},
    {"/ocr", verb::post, RouteId::legacy_ocr},
}};

struct JobRoute {
  std::string_view prefix;
  verb method;
  RouteId id;
};

constexpr std::array<JobRoute, 4> kJobRoutes{{
    {"/ocr/status/", verb::get, RouteId::status},
    {"/ocr/result/", verb::get, RouteId::result},
    {"/ocr/stream/", verb::get, RouteId::stream},
    {"/ocr/jobs/", verb::delete_, RouteId::cancel},
}};

// Routes of the form <prefix>{job_id}/{item}.
constexpr std::array<JobRoute, 2> kJobItemRoutes{{
    {"/ocr/page/", verb::get, RouteId::page_image},
    {"/ocr/download/", verb::get, RouteId::download},
}};

constexpr std::string_view kAssetPrefix = "/static/";

struct RouteName {
  RouteId id;
  std::string_view name;
};

constexpr std::array<RouteName, 21> kRouteNames{{
    {RouteId::web_app, "/"},
    {RouteId::api_index, "/api"},
    {RouteId::health, "/healthz"},
    {RouteId::ready, "/readyz"},
    {RouteId::metrics, "/metrics"},
    {RouteId::openapi, "/openapi.json"},
    {RouteId::docs, "/docs"},
    {RouteId::asset, "/static/{file}"},
    {RouteId::jobs_list, "/ocr/jobs"},
    {RouteId::models, "/ocr/models"},
    {RouteId::submit, "/ocr/submit"},
    {RouteId::legacy_ocr, "/ocr"},
    {RouteId::status, "/ocr/status/{job_id}"},
    {RouteId::result, "/ocr/result/{job_id}"},
    {RouteId::stream, "/ocr/stream/{job_id}"},
    {RouteId::page_image, "/ocr/page/{job_id}/{page}"},
    {RouteId::download, "/ocr/download/{job_id}/{format}"},
    {RouteId::cancel, "/ocr/jobs/{job_id}"},
    {RouteId::preflight, "preflight"},
    {RouteId::not_found, "not_found"},
    {RouteId::method_not_allowed, "method_not_allowed"},
}};

Route route_of(RouteId id) {
  Route route;
  route.id = id;
  return route;
}

Route with_method(verb method, verb expected, Route route) {
  if (method == verb::options) return route_of(RouteId::preflight);
  if (method == expected) return route;
  return route_of(RouteId::method_not_allowed);
}

}  // namespace

Route match_route(verb method, std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  for (const auto& fixed : kFixedRoutes) {
    if (path == fixed.path) return with_method(method, fixed.method, route_of(fixed.id));
  }
  for (const auto& job : kJobRoutes) {
    if (!path.starts_with(job.prefix)) continue;
    const std::string_view id = path.substr(job.prefix.size());
    if (id.empty() || id.find('/') != std::string_view::npos) break;
    Route route = route_of(job.id);
    route.job_id = id;
    return with_method(method, job.method, std::move(route));
  }
  for (const auto& job : kJobItemRoutes) {
    if (!path.starts_with(job.prefix)) continue;
    const std::string_view rest = path.substr(job.prefix.size());
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size() ||
        rest.find('/', slash + 1) != std::string_view::npos) {
      return route_of(RouteId::not_found);
    }
    Route route = route_of(job.id);
    route.job_id = rest.substr(0, slash);
    route.item = rest.substr(slash + 1);
    return with_method(method, job.method, std::move(route));
  }
  if (path.starts_with(kAssetPrefix) && path.size() > kAssetPrefix.size()) {
    Route route = route_of(RouteId::asset);
    route.asset = path.substr(kAssetPrefix.size());
    return with_method(method, verb::get, std::move(route));
  }
  return route_of(RouteId::not_found);
}

std::string_view route_name(RouteId id) {
  for (const auto& route : kRouteNames) {
    if (route.id == id) return route.name;
  }
  return "unknown";
}

}  // namespace visor::api

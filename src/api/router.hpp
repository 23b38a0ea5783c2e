#pragma once
// Maps a method and path to a route. Pure: no I/O, no state.

#include <string>
#include <string_view>

#include <ostream>  // boost/core/detail/string_view.hpp uses std::ostream without including it

#include <boost/beast/http/verb.hpp>

namespace visor::api {

enum class RouteId {
  web_app,    // GET /: the web UI's page
  api_index,  // GET /api: the JSON list of endpoints
  health,
  ready,
  metrics,
  openapi,
  docs,
  asset,  // GET /static/...: an embedded file
  jobs_list,
  models,
  submit,
  legacy_ocr,
  status,
  result,
  stream,
  page_image,  // GET /ocr/page/{job_id}/{page}
  download,    // GET /ocr/download/{job_id}/{format}
  cancel,      // DELETE /ocr/jobs/{job_id}
  preflight,
  not_found,
  method_not_allowed,
};

struct Route {
  RouteId id = RouteId::not_found;
  std::string job_id;  // for status, result, stream, page_image, download and cancel; not yet validated
  std::string asset;   // for asset: the path after /static/
  // The segment after the job id: page_image's page index, download's
  // format, as written; not yet validated.
  std::string item;
};

Route match_route(boost::beast::http::verb method, std::string_view path);

// The route's path template ("/ocr/status/{job_id}"), a bounded set of
// names fit for metric labels and logs.
std::string_view route_name(RouteId id);

}  // namespace visor::api

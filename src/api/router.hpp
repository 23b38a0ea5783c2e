#pragma once
// Maps a method and path to a route. Pure: no I/O, no state.

#include <string>
#include <string_view>

#include <ostream>  // boost/core/detail/string_view.hpp uses std::ostream without including it

#include <boost/beast/http/verb.hpp>

namespace visor::api {

enum class RouteId {
  index,
  models,
  submit,
  legacy_ocr,
  status,
  result,
  stream,
  preflight,
  not_found,
  method_not_allowed,
};

struct Route {
  RouteId id = RouteId::not_found;
  std::string job_id;  // for status, result and stream; not yet validated
};

Route match_route(boost::beast::http::verb method, std::string_view path);

}  // namespace visor::api

#include <gtest/gtest.h>

#include "api/http.hpp"
#include "api/router.hpp"

namespace visor::api {
namespace {

using boost::beast::http::verb;

TEST(RouterTest, MatchesEverySeedEndpoint) {
  EXPECT_EQ(match_route(verb::post, "/ocr/submit").id, RouteId::submit);
  EXPECT_EQ(match_route(verb::post, "/ocr").id, RouteId::legacy_ocr);
  EXPECT_EQ(match_route(verb::get, "/ocr/models").id, RouteId::models);
  const Route status = match_route(verb::get, "/ocr/status/fc-01ABC");
  EXPECT_EQ(status.id, RouteId::status);
  EXPECT_EQ(status.job_id, "fc-01ABC");
  EXPECT_EQ(match_route(verb::get, "/ocr/result/fc-1").id, RouteId::result);
  EXPECT_EQ(match_route(verb::get, "/ocr/stream/fc-1").id, RouteId::stream);
}

TEST(RouterTest, WrongMethodIsNotAllowedAndOptionsIsAPreflight) {
  EXPECT_EQ(match_route(verb::get, "/ocr/submit").id, RouteId::method_not_allowed);
  EXPECT_EQ(match_route(verb::post, "/ocr/status/fc-1").id, RouteId::method_not_allowed);
  EXPECT_EQ(match_route(verb::options, "/ocr/submit").id, RouteId::preflight);
}

TEST(RouterTest, DeleteOnAJobCancelsItAndOtherMethodsThereAreNotAllowed) {
  const Route cancel = match_route(verb::delete_, "/ocr/jobs/fc-1");
  EXPECT_EQ(cancel.id, RouteId::cancel);
  EXPECT_EQ(cancel.job_id, "fc-1");
  EXPECT_EQ(match_route(verb::get, "/ocr/jobs/fc-1").id, RouteId::method_not_allowed);
  EXPECT_EQ(match_route(verb::delete_, "/ocr/jobs").id, RouteId::method_not_allowed);
  EXPECT_EQ(match_route(verb::get, "/ocr/jobs").id, RouteId::jobs_list);
  EXPECT_EQ(route_name(RouteId::cancel), "/ocr/jobs/{job_id}");
}

TEST(RouterTest, UnknownPathsAndEmptyOrNestedIdsAreNotFound) {
  EXPECT_EQ(match_route(verb::get, "/ocr/status/").id, RouteId::not_found);
  EXPECT_EQ(match_route(verb::get, "/ocr/status/a/b").id, RouteId::not_found);
  EXPECT_EQ(match_route(verb::get, "/nope").id, RouteId::not_found);
  EXPECT_EQ(match_route(verb::get, "/ocr/statusfc-1").id, RouteId::not_found);
}

TEST(RouterTest, MatchesOperatorDocsAndWebRoutes) {
  EXPECT_EQ(match_route(verb::get, "/").id, RouteId::web_app);
  EXPECT_EQ(match_route(verb::get, "/api").id, RouteId::api_index);
  EXPECT_EQ(match_route(verb::get, "/healthz").id, RouteId::health);
  EXPECT_EQ(match_route(verb::get, "/readyz").id, RouteId::ready);
  EXPECT_EQ(match_route(verb::get, "/metrics").id, RouteId::metrics);
  EXPECT_EQ(match_route(verb::get, "/openapi.json").id, RouteId::openapi);
  EXPECT_EQ(match_route(verb::get, "/docs/").id, RouteId::docs);
  EXPECT_EQ(match_route(verb::get, "/ocr/jobs").id, RouteId::jobs_list);
  EXPECT_EQ(match_route(verb::post, "/ocr/jobs").id, RouteId::method_not_allowed);
  const Route asset = match_route(verb::get, "/static/app.js");
  EXPECT_EQ(asset.id, RouteId::asset);
  EXPECT_EQ(asset.asset, "app.js");
  EXPECT_EQ(match_route(verb::get, "/static/").id, RouteId::not_found);
}

TEST(RouterTest, PageImageRouteTakesAJobIdAndAPage) {
  const Route route = match_route(verb::get, "/ocr/page/fc-1/3");
  EXPECT_EQ(route.id, RouteId::page_image);
  EXPECT_EQ(route.job_id, "fc-1");
  EXPECT_EQ(route.item, "3");
  EXPECT_EQ(match_route(verb::get, "/ocr/page/fc-1").id, RouteId::not_found);
  EXPECT_EQ(match_route(verb::get, "/ocr/page/fc-1/").id, RouteId::not_found);
  EXPECT_EQ(match_route(verb::get, "/ocr/page/fc-1/3/4").id, RouteId::not_found);
  EXPECT_EQ(match_route(verb::post, "/ocr/page/fc-1/3").id, RouteId::method_not_allowed);
}

TEST(RouterTest, RouteNamesAreTemplatesNotRawPaths) {
  EXPECT_EQ(route_name(match_route(verb::get, "/ocr/status/fc-1").id), "/ocr/status/{job_id}");
  EXPECT_EQ(route_name(RouteId::asset), "/static/{file}");
  EXPECT_EQ(route_name(RouteId::not_found), "not_found");
}

TEST(TargetTest, SplitsPathAndDecodesQuery) {
  const Target target = parse_target("/ocr/submit?model=dots%6Fcr&dpi=200&empty&x=a+b&dpi=300");
  EXPECT_EQ(target.path, "/ocr/submit");
  EXPECT_EQ(target.param("model"), "dotsocr");
  EXPECT_EQ(target.param("dpi"), "200");  // the first occurrence wins
  EXPECT_EQ(target.param("empty"), "");
  EXPECT_EQ(target.param("x"), "a b");
  EXPECT_FALSE(target.param("missing").has_value());
}

TEST(TargetTest, KeepsMalformedPercentEscapesLiterally) {
  EXPECT_EQ(parse_target("/a?q=100%").param("q"), "100%");
  EXPECT_EQ(parse_target("/a?q=%zz").param("q"), "%zz");
}

TEST(ParseBoolTest, AcceptsFastApiSpellings) {
  EXPECT_EQ(parse_bool("true"), true);
  EXPECT_EQ(parse_bool("True"), true);
  EXPECT_EQ(parse_bool("1"), true);
  EXPECT_EQ(parse_bool("off"), false);
  EXPECT_EQ(parse_bool("0"), false);
  EXPECT_FALSE(parse_bool("maybe").has_value());
}

TEST(ErrorMappingTest, EachKindHasItsStatus) {
  EXPECT_EQ(status_for(Error::bad_input("")), http::status::bad_request);
  EXPECT_EQ(status_for(Error::invalid_request("")), http::status::unprocessable_entity);
  EXPECT_EQ(status_for(Error::too_large("")), http::status::payload_too_large);
  EXPECT_EQ(status_for(Error::not_found("")), http::status::not_found);
  EXPECT_EQ(status_for(Error::unavailable("")), http::status::service_unavailable);
  EXPECT_EQ(status_for(Error::unauthenticated("")), http::status::unauthorized);
  EXPECT_EQ(status_for(Error::too_many("", 1)), http::status::too_many_requests);
}

TEST(ErrorResponseTest, SaysWhenToRetryAndWhichSchemeAuthenticates) {
  const Response limited = error_response(Error::too_many("slow down", 7));
  EXPECT_EQ(limited[http::field::retry_after], "7");
  const Response full = error_response(Error::unavailable("full").retry_after(5));
  EXPECT_EQ(full[http::field::retry_after], "5");
  // Every 503 says when to come back, also when its cause could not say.
  EXPECT_EQ(error_response(Error::unavailable("locked"))[http::field::retry_after], "5");
  EXPECT_EQ(error_response(Error::bad_input("x"))[http::field::retry_after], "");
  EXPECT_EQ(error_response(Error::unauthenticated("who?"))[http::field::www_authenticate], "Bearer");
}

TEST(ErrorResponseTest, BodyIsFastApiDetail) {
  const Response response = error_response(Error::bad_input("Unsupported model 'xyz'"));
  EXPECT_EQ(response.result(), http::status::bad_request);
  EXPECT_EQ(response[http::field::content_type], "application/json");
  EXPECT_EQ(response.body(), R"({"detail":"Unsupported model 'xyz'"})");
}

}  // namespace
}  // namespace visor::api

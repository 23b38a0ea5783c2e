#include "api/connection.hpp"

namespace visor::api {
namespace {

constexpr auto kDrainTimeLimit = std::chrono::seconds(30);

}  // namespace

boost::asio::awaitable<bool> write_response(Connection& c, Response response, const RequestParser& parser,
                                            bool keep_alive) {
  c.status = response.result_int();
  add_cors_headers(response.base());
  response.version(parser.get().version());
  response.keep_alive(keep_alive && parser.get().keep_alive());
  c.stream.expires_after(c.options.body_timeout);
  auto [ec, n] = co_await http::async_write(c.stream, response, kUseTuple);
  co_return !ec && response.keep_alive();
}

boost::asio::awaitable<bool> drain_body(Connection& c, RequestParser& parser) {
  const auto deadline = std::chrono::steady_clock::now() + kDrainTimeLimit;
  Status s = co_await read_body(c, parser, [&](std::string_view) -> Status {
    if (std::chrono::steady_clock::now() > deadline) return Error::timeout("drain time limit");
    return {};
  });
  co_return s.ok();
}


}  // namespace visor::api

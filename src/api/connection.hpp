#pragma once
// One HTTP connection as the session code sees it, and the helpers that
// every handler writing to it shares: answer, read a body in pieces, drop a
// body. Internal to api/: server.cpp runs sessions, event_stream.cpp streams
// SSE over them.

#include <array>
#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "api/http.hpp"
#include "api/server.hpp"
#include "api/service.hpp"

namespace visor::api {

namespace beast = boost::beast;

inline constexpr auto kUseTuple = boost::asio::experimental::as_tuple(boost::asio::use_awaitable);
inline constexpr std::uint64_t kSmallBodyLimit = 1 << 20;  // routes without uploads

using RequestParser = http::request_parser<http::buffer_body>;

// What every connection of one server shares.
struct ServerState {
  std::atomic<int> connections_open{0};
  std::atomic<int> requests_in_flight{0};
  std::atomic<bool> draining{false};
};

struct Connection {
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  const ServerOptions& options;
  Service& service;
  ServerState& shared;
  std::string client_address;
  // What the current request was answered with, for metrics and logs.
  unsigned status = 0;
  std::string job_id;
  // The current request's body must have arrived by then.
  std::chrono::steady_clock::time_point body_deadline{};
};

// Writes `response` with the CORS headers; false when the connection must
// close (write failed or not keep-alive).
boost::asio::awaitable<bool> write_response(Connection& c, Response response, const RequestParser& parser,
                                            bool keep_alive);

// Reads the rest of the body in pieces, handing each to `sink`. Errors from
// the sink stop reading and are returned as they are.
template <class Sink>
boost::asio::awaitable<Status> read_body(Connection& c, RequestParser& parser, Sink&& sink) {
  std::array<char, 64 * 1024> chunk;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    c.stream.expires_at(std::min(std::chrono::steady_clock::now() + c.options.body_timeout, c.body_deadline));
    auto [ec, n] = co_await http::async_read(c.stream, c.buffer, parser, kUseTuple);
    if (ec == http::error::need_buffer) ec = {};
    if (ec == http::error::body_limit) co_return Error::too_large("The request body is too large");
    if (ec == beast::error::timeout) {
      co_return Error::timeout("The request body arrived too slowly; the connection was closed");
    }
    if (ec) co_return Error::bad_input("The request body could not be read: " + ec.message());
    if (Status s = sink(std::string_view(chunk.data(), chunk.size() - parser.get().body().size)); !s) co_return s;
  }
  co_return Status{};
}

// Reads and drops the rest of a body we will not use, so the client finishes
// sending and reads our reply instead of a connection reset. Bounded in time.
boost::asio::awaitable<bool> drain_body(Connection& c, RequestParser& parser);

}  // namespace visor::api

#include "api/server.hpp"

#include <array>
#include <atomic>
#include <utility>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/experimental/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "api/assets.hpp"
#include "api/connection.hpp"
#include "api/event_stream.hpp"
#include "api/router.hpp"
#include "api/sse.hpp"
#include "api/stream_cursor.hpp"
#include "api/views.hpp"
#include "util/duration.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

namespace visor::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using asio::awaitable;
using json = Json;

constexpr std::size_t kHeaderLimit = 16 * 1024;
constexpr std::size_t kTargetLimit = 8 * 1024;
constexpr std::uint64_t kMultipartOverhead = 1 << 20;  // framing and small fields around the file
// The slowest upload we wait for, on average, beyond body_timeout: a client
// trickling a body slower than this cannot hold a connection for ever.
constexpr std::uint64_t kMinUploadBytesPerSecond = 32 * 1024;
constexpr auto kDrainPoll = std::chrono::milliseconds(100);

// Routes that act on jobs or models: with API keys on, they need a caller.
bool needs_caller(RouteId id) {
  switch (id) {
    case RouteId::jobs_list:
    case RouteId::models:
    case RouteId::submit:
    case RouteId::legacy_ocr:
    case RouteId::status:
    case RouteId::result:
    case RouteId::stream:
    case RouteId::page_image:
    case RouteId::download:
    case RouteId::cancel:
      return true;
    default:
      return false;
  }
}

// Routes a browser loads without a chance to add headers (EventSource,
// <img>, a download link): they also take the key as ?api_key=.
bool accepts_query_key(RouteId id) {
  return id == RouteId::stream || id == RouteId::page_image || id == RouteId::download;
}

Result<Caller> identify_caller(const Connection& c, const RequestParser& parser, const Target& target,
                               RouteId route) {
  std::optional<std::string_view> key = bearer_token(parser.get()[http::field::authorization]);
  if (!key && accepts_query_key(route)) key = target.param("api_key");
  return c.service.identify(key);
}

// Who a submission is for, as the rate limit counts and the workers share
// out (jobs::Job::tenant): the API key, or the client's address when keys
// are off.
std::string tenant_of(const Connection& c, const Caller& caller) {
  return caller.owner ? *caller.owner : "addr " + c.client_address;
}

// The latest time a request's body may finish arriving.
std::chrono::steady_clock::time_point body_deadline(const Connection& c, const RequestParser& parser,
                                                    std::uint64_t max_body) {
  const std::uint64_t expected = parser.content_length().value_or(max_body);
  return std::chrono::steady_clock::now() + c.options.body_timeout +
         std::chrono::seconds(expected / kMinUploadBytesPerSecond);
}
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

bool expects_100_continue(const RequestParser& parser) {
  return beast::iequals(parser.get()[http::field::expect], "100-continue");
}

awaitable<void> send_100_continue(Connection& c, const RequestParser& parser) {
  http::response<http::empty_body> go_on(http::status::continue_, parser.get().version());
  co_await http::async_write(c.stream, go_on, kUseTuple);
}

// Replies with an error to a request whose body is not wanted. A client
// waiting for "100 Continue" has not sent the body: answer at once and
// close. Otherwise the body is on its way: drain it first, so the client
// reads the reply instead of a connection reset.
awaitable<bool> reject_request(Connection& c, RequestParser& parser, const Error& error, bool body_is_coming) {
  if (!body_is_coming) co_return co_await write_response(c, error_response(error), parser, false);
  parser.body_limit(boost::none);
  const bool drained = co_await drain_body(c, parser);
  co_return co_await write_response(c, error_response(error), parser, drained && error.kind != Error::Kind::too_large);
}

// Waits, for the deprecated POST /ocr, until the job finishes.
awaitable<jobs::Job> wait_until_finished(Service& service, const jobs::Job& accepted) {
  auto watch = service.watcher().watch(accepted.id, accepted);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    auto latest = watch->latest();
    if (latest && latest->ok()) {
      const jobs::Job& job = latest->value();
      if (jobs::effective_status(job, util::now_ms()) != jobs::JobStatus::pending &&
          jobs::effective_status(job, util::now_ms()) != jobs::JobStatus::running) {
        co_return job;
      }
    }
    timer.expires_after(service.options().sse_poll);
    co_await timer.async_wait(kUseTuple);
  }
}

awaitable<bool> handle_upload(Connection& c, RequestParser& parser, const Target& target, bool legacy,
                              const Caller& caller) {
  Service& service = c.service;
  const std::uint64_t max_upload = service.options().max_upload_bytes;
  const bool body_is_coming = !expects_100_continue(parser);

  auto submission =
      co_await service.parse_submission(target, parser.get()["Idempotency-Key"], tenant_of(c, caller), legacy);
  if (!submission) co_return co_await reject_request(c, parser, submission.error(), body_is_coming);
  auto boundary = multipart_boundary(parser.get()[http::field::content_type]);
  if (!boundary) {
    const auto missing =
        Error::invalid_request("Missing form field 'file': upload the PDF as multipart/form-data field 'file'");
    co_return co_await reject_request(c, parser, missing, body_is_coming);
  }
  if (parser.content_length() && *parser.content_length() > max_upload + kMultipartOverhead) {
    const auto too_large = Error::too_large("The upload exceeds the " + util::describe_size(max_upload) + " limit");
    co_return co_await reject_request(c, parser, too_large, body_is_coming);
  }
  if (!body_is_coming) co_await send_100_continue(c, parser);

  parser.body_limit(max_upload + kMultipartOverhead);
  c.body_deadline = body_deadline(c, parser, max_upload + kMultipartOverhead);
  MultipartParser multipart(std::move(*boundary), MultipartLimits{.max_file_bytes = max_upload});
  Status body = co_await read_body(c, parser, [&](std::string_view piece) { return multipart.feed(piece); });
  if (body) body = multipart.finish();
  if (!body) co_return co_await reject_request(c, parser, body.error(), true);

  auto submitted = co_await service.submit(*submission, multipart.parts(), caller);
  if (!submitted) co_return co_await write_response(c, error_response(submitted.error()), parser, true);
  const jobs::Job& job = submitted->job;
  c.job_id = job.id;
  if (!legacy) {
    Response response = json_response(http::status::ok, submit_body(job));
    if (submitted->replayed) response.set("Idempotent-Replayed", "true");
    co_return co_await write_response(c, std::move(response), parser, true);
  }

  const jobs::Job finished = co_await wait_until_finished(service, job);
  Response response = co_await service.result_for(finished, false);
  if (submitted->replayed) response.set("Idempotent-Replayed", "true");
  response.set("Deprecation", "true");
  co_return co_await write_response(c, std::move(response), parser, true);
}

Response api_index_response() {
  return json_response(http::status::ok,
                       {{"service", "visor"},
                        {"description", "OCR job server"},
                        {"endpoints",
                         {"POST /ocr/submit", "GET /ocr/stream/{job_id}", "GET /ocr/status/{job_id}",
                          "GET /ocr/result/{job_id}", "DELETE /ocr/jobs/{job_id}", "GET /ocr/jobs", "GET /ocr/models",
                          "GET /ocr/page/{job_id}/{page}", "POST /ocr (deprecated)",
                          "GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.json", "GET /docs"}},
                        {"openapi", "/openapi.json"},
                        {"docs", "/docs"}});
}

// An embedded file; 404 {"detail"} when there is none by that name.
Response asset_response(std::string_view name) {
  const Asset* asset = find_asset(name);
  if (asset == nullptr) return error_response(Error::not_found("Not Found"));
  Response response(http::status::ok, 11);
  response.set(http::field::content_type, asset->content_type);
  // Embedded files change only with the binary; a short max-age keeps an
  // upgraded server's page fresh.
  response.set(http::field::cache_control, "public, max-age=300");
  response.body() = std::string(asset->body);
  response.prepare_payload();
  return response;
}

// Routes whose request body is ignored and whose reply is one response.
awaitable<Response> answer(Connection& c, const Route& route, const Target& target, const RequestParser& parser,
                           const Caller& caller) {
  switch (route.id) {
    case RouteId::web_app: co_return asset_response("index.html");
    case RouteId::docs: co_return asset_response("docs.html");
    case RouteId::openapi: co_return asset_response("openapi.json");
    case RouteId::asset: co_return asset_response(route.asset);
    case RouteId::api_index: co_return api_index_response();
    case RouteId::health: co_return c.service.health();
    case RouteId::ready: co_return co_await c.service.ready();
    case RouteId::metrics: co_return co_await c.service.metrics();
    case RouteId::jobs_list: co_return co_await c.service.list_jobs(target, caller);
    case RouteId::page_image: co_return co_await c.service.page_image(route.job_id, route.item, target, caller);
    case RouteId::download: co_return co_await c.service.download(route.job_id, route.item, caller);
    case RouteId::models: co_return c.service.models();
    case RouteId::status: co_return co_await c.service.status(route.job_id, caller);
    case RouteId::cancel: co_return co_await c.service.cancel(route.job_id, caller);
    case RouteId::result: {
      const auto annotate_text = target.param("annotate");
      const auto annotate = annotate_text ? parse_bool(*annotate_text) : std::optional<bool>(false);
      if (!annotate) co_return error_response(Error::invalid_request("annotate must be true or false"));
      co_return co_await c.service.result(route.job_id, *annotate, caller);
    }
    case RouteId::preflight:
      co_return preflight_response(parser.get()[http::field::access_control_request_headers]);
    case RouteId::method_not_allowed: co_return error_response(http::status::method_not_allowed, "Method Not Allowed");
    default: co_return error_response(Error::not_found("Not Found"));
  }
}

// Runs the route's handler for an identified caller; false when the
// connection must close.
awaitable<bool> dispatch(Connection& c, RequestParser& parser, const Target& target, const Route& route) {
  Caller caller;
  if (needs_caller(route.id)) {
    auto identified = identify_caller(c, parser, target, route.id);
    if (!identified) co_return co_await reject_request(c, parser, identified.error(), !expects_100_continue(parser));
    caller = std::move(*identified);
  }
  switch (route.id) {
    case RouteId::submit:
    case RouteId::legacy_ocr:
      co_return co_await handle_upload(c, parser, target, route.id == RouteId::legacy_ocr, caller);
    case RouteId::stream:
      co_await stream_job(c, parser, target, route.job_id, caller);
      co_return false;
    default: {
      parser.body_limit(kSmallBodyLimit);
      const bool drained = co_await drain_body(c, parser);
      co_return co_await write_response(c, co_await answer(c, route, target, parser, caller), parser, drained);
    }
  }
}

// Counts one thing (a connection, a request in flight) for its lifetime, so
// the limits and the drain read the counts. Movable, to follow a
// connection into its coroutine.
class Counted {
 public:
  explicit Counted(std::atomic<int>& count) : count_(&count) { ++*count_; }
  Counted(Counted&& other) noexcept : count_(std::exchange(other.count_, nullptr)) {}
  Counted& operator=(Counted&&) = delete;
  ~Counted() {
    if (count_ != nullptr) --*count_;
  }

 private:
  std::atomic<int>* count_;
};

// Handles one request; false when the connection must close.
awaitable<bool> handle_request(Connection& c, RequestParser& parser) {
  const Counted in_flight(c.shared.requests_in_flight);
  const Target target = parse_target(parser.get().target());
  const Route route = match_route(parser.get().method(), target.path);
  const auto started = std::chrono::steady_clock::now();
  c.status = 0;
  c.job_id = route.job_id;
  c.body_deadline = body_deadline(c, parser, kSmallBodyLimit);
  const bool keep_alive = co_await dispatch(c, parser, target, route);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  const std::string_view name = route_name(route.id);
  if (c.status != 0) c.service.api_metrics().count_request(name, c.status);  // 0: the client left unanswered
  log_request(c.options.log_format, {.method = parser.get().method_string(),
                                     .route = name,
                                     .path = target.path,
                                     .status = c.status,
                                     .ms = ms.count(),
                                     .job_id = c.job_id});
  co_return keep_alive;
}

// Answers a connection over the limit and closes it.
awaitable<void> refuse_connection(tcp::socket socket, const ServerOptions& options) {
  beast::tcp_stream stream(std::move(socket));
  Response busy = error_response(Error::unavailable("The server has " + std::to_string(options.max_connections) +
                                                    " connections open, its limit; retry shortly")
                                     .retry_after(1));
  busy.keep_alive(false);
  stream.expires_after(std::chrono::seconds(5));
  co_await http::async_write(stream, busy, kUseTuple);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

awaitable<void> run_session(tcp::socket socket, const ServerOptions& options, Service& service,
                            ServerState& shared) {
  Connection c{beast::tcp_stream(std::move(socket)), {}, options, service, shared};
  beast::error_code address_error;
  c.client_address = c.stream.socket().remote_endpoint(address_error).address().to_string();
  for (;;) {
    RequestParser parser;
    parser.header_limit(kHeaderLimit);
    // Each route sets its own body limit once it knows the route; until
    // then a declared Content-Length must not fail the header read.
    parser.body_limit(boost::none);
    c.stream.expires_after(options.header_timeout);
    auto [ec, n] = co_await http::async_read_header(c.stream, c.buffer, parser, kUseTuple);
    if (ec == http::error::header_limit) {
      co_await write_response(c, error_response(http::status::request_header_fields_too_large,
                                                "Request headers are too large"), parser, false);
      break;
    }
    if (ec) break;
    if (parser.get().target().size() > kTargetLimit) {
      co_await write_response(c, error_response(http::status::uri_too_long, "The request URL is too long"), parser,
                              false);
      break;
    }
    if (!co_await handle_request(c, parser)) break;
    if (shared.draining) break;
  }
  beast::error_code ignored;
  c.stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

// Runs on the acceptor's strand; each connection gets a strand of its own
// on `io`, so sessions run in parallel on the I/O threads.
awaitable<void> accept_loop(tcp::acceptor& acceptor, asio::io_context& io, const ServerOptions& options,
                            Service& service, ServerState& shared) {
  asio::steady_timer pause(acceptor.get_executor());
  int failures = 0;  // in a row
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(io), kUseTuple);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors (EMFILE, ENFILE) or buffers, the connection stays
      // in the backlog and an immediate retry fails the same way: that spun
      // an I/O thread and wrote a warning per try (about 200,000 a second).
      // Wait for connections to close instead, and warn once per episode.
      if (failures++ == 0) util::log_warn("http.accept_failed", {{"error", ec.message()}});
      pause.expires_after(kAcceptRetryDelay);
      co_await pause.async_wait(kUseTuple);
      continue;
    }
    if (failures > 0) {
      util::log_info("http.accept_resumed", {{"failed_tries", std::to_string(failures)}});
      failures = 0;
    }
    auto executor = socket.get_executor();
    if (shared.connections_open >= options.max_connections) {
      asio::co_spawn(executor, refuse_connection(std::move(socket), options), asio::detached);
      continue;
    }
    auto session = [](tcp::socket socket, const ServerOptions& options, Service& service, ServerState& shared,
                      Counted) -> awaitable<void> {
      co_await run_session(std::move(socket), options, service, shared);
    };
    asio::co_spawn(executor, session(std::move(socket), options, service, shared, Counted(shared.connections_open)),
                   [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        util::log_error("http.session_failed", {{"error", ex.what()}});
      }
    });
  }
}

}  // namespace

struct HttpServer::Impl {
  Impl(ServerOptions o, Service& s)
      : options(std::move(o)), service(s), acceptor(asio::make_strand(io)), signals(io, SIGINT, SIGTERM) {}

  // Stops accepting, ends streams with a final event and lets requests in
  // flight finish (up to the drain timeout) before the I/O threads stop.
  awaitable<void> drain() {
    // The accept loop uses the acceptor on its strand; close it there too.
    co_await asio::dispatch(acceptor.get_executor(), asio::use_awaitable);
    acceptor.close();
    shared.draining = true;
    service.begin_draining();
    const auto deadline = std::chrono::steady_clock::now() + options.drain_timeout;
    asio::steady_timer timer(io);
    while (shared.requests_in_flight > 0 && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(kDrainPoll);
      co_await timer.async_wait(kUseTuple);
    }
    util::log_info("server.drained", {{"requests_cut_off", std::to_string(shared.requests_in_flight.load())}});
    io.stop();
  }

  ServerOptions options;
  Service& service;
  asio::io_context io;
  tcp::acceptor acceptor;  // on a strand of its own: the accept loop and drain() share it
  asio::signal_set signals;
  ServerState shared;
};

HttpServer::HttpServer(ServerOptions options, Service& service)
    : impl_(std::make_unique<Impl>(std::move(options), service)) {}

HttpServer::~HttpServer() = default;

Status HttpServer::listen() {
  beast::error_code ec;
  const auto address = asio::ip::make_address(impl_->options.host, ec);
  if (ec) return Error::bad_input("Invalid --host '" + impl_->options.host + "': " + ec.message());
  const tcp::endpoint endpoint(address, impl_->options.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error::unavailable("Cannot listen on " + impl_->options.host + ":" +
                              std::to_string(impl_->options.port) + ": " + ec.message());
  }
  return {};
}

unsigned short HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpServer::run() {
  impl_->signals.async_wait([this](const beast::error_code& ec, int signal) {
    if (ec) return;
    util::log_info("server.stopping", {{"signal", std::to_string(signal)}});
    asio::co_spawn(impl_->io, impl_->drain(), asio::detached);
  });
  asio::co_spawn(impl_->acceptor.get_executor(),
                 accept_loop(impl_->acceptor, impl_->io, impl_->options, impl_->service, impl_->shared),
                 asio::detached);
  util::log_info("server.listening", {{"host", impl_->options.host}, {"port", std::to_string(port())}});

  std::vector<std::thread> threads;
  for (int i = 1; i < impl_->options.io_threads; ++i) threads.emplace_back([this] { impl_->io.run(); });
  impl_->io.run();
  for (auto& thread : threads) thread.join();
}

void HttpServer::stop() { impl_->io.stop(); }

}  // namespace visor::api

#pragma once
// The HTTP server: an accept loop and one coroutine per connection on a
// small pool of I/O threads. Sessions parse and write; the Service decides.

#include <chrono>
#include <memory>
#include <string>

#include "api/access_log.hpp"
#include "api/service.hpp"
#include "util/result.hpp"

namespace visor::api {

struct ServerOptions {
  std::string host = "0.0.0.0";
  unsigned short port = 8003;  // 0 picks a free port
  int io_threads = 2;
  std::chrono::seconds header_timeout{30};  // to receive a request's headers
  std::chrono::seconds body_timeout{60};    // between two pieces of a body
  // Connections open at once; more are answered 503 and closed.
  int max_connections = 10000;
  // On SIGTERM/SIGINT: how long requests in flight may take to finish.
  std::chrono::seconds drain_timeout{10};
  LogFormat log_format = LogFormat::text;   // of the per-request log (access_log.hpp)
};

class HttpServer {
 public:
  // REQUIRES: `service` outlives the server.
  HttpServer(ServerOptions options, Service& service);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; unavailable with the reason when the address is taken.
  Status listen();
  unsigned short port() const;

  // Serves until stop() or SIGINT/SIGTERM. A signal drains: no new
  // connections, submissions answered 503, SSE streams ended with a final
  // `timeout` + `close`, requests in flight given drain_timeout to finish.
  // REQUIRES: listen() succeeded.
  void run();
  // Thread-safe.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace visor::api

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

  // Serves until stop() or SIGINT/SIGTERM. REQUIRES: listen() succeeded.
  void run();
  // Thread-safe.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace visor::api

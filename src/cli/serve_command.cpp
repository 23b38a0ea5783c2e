// `visor serve`: the HTTP API, the worker pool and the retention sweeper in
// one process around one job store.

#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include <boost/asio/thread_pool.hpp>

#include "api/server.hpp"
#include "api/service.hpp"
#include "cli/command_list.hpp"
#include "cli/engine_setup.hpp"
#include "cli/options.hpp"
#include "jobs/retention.hpp"
#include "ocr/engine.hpp"
#include "ocr/remote/remote_engine.hpp"
#include "util/duration.hpp"
#include "util/log.hpp"
#include "worker/worker_pool.hpp"

namespace visor::cli {
namespace {

constexpr int kBlockingThreads = 4;

std::vector<OptionSpec> serve_options() {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::vector<OptionSpec> specs = {
      {"host", "127.0.0.1", "Address to listen on (0.0.0.0 for every interface)"},
      {"port", "8003", "TCP port to listen on"},
      {"data", "./data", "Directory for the job store (created if missing)"},
      {"workers", std::to_string(cores), "Worker threads, each with its own OCR engine"},
      {"max-pages-per-job", "8", "Pages of one job in flight at once"},
      {"result-ttl", "7d", "How long results are kept after a job finishes (s, m, h, d)"},
      {"sse-timeout", "10m", "How long an SSE stream follows a job before a timeout event"},
      {"max-upload", "100MiB", "Largest accepted upload"},
      {"max-pages", "2000", "Most pages accepted in one document"},
      {"lease-timeout", "30s", "How long a page stays with a worker that stopped renewing it"},
      {"io-threads", "2", "Threads serving HTTP connections"},
      {"log-level", "info", "debug, info, warn or error"},
      {"log-format", "text", "Request log: text (debug lines on stderr) or json (one object per request on stdout)"},
      {"help", "", "Show this help", true},
  };
  const auto engines = engine_options();
  specs.insert(specs.end() - 1, engines.begin(), engines.end());
  return specs;
}

struct ServeConfig {
  std::map<ocr::Model, ocr::remote::RemoteModelConfig> remote;
  api::ServerOptions server;
  api::ServiceOptions service;
  worker::WorkerOptions workers;
  std::filesystem::path data_dir;
  util::LogLevel log_level = util::LogLevel::info;
};

Result<api::LogFormat> log_format_option(const std::string& text) {
  if (text == "text") return api::LogFormat::text;
  if (text == "json") return api::LogFormat::json;
  return Error::bad_input("--log-format must be text or json");
}

Result<int> positive_int(const ParsedOptions& options, const std::string& name, int max) {
  const std::string text = options.get(name);
  try {
    std::size_t used = 0;
    const int value = std::stoi(text, &used);
    if (used == text.size() && value > 0 && value <= max) return value;
  } catch (const std::exception&) {
  }
  return Error::bad_input("--" + name + " must be a whole number from 1 to " + std::to_string(max) + ", got '" +
                          text + "'");
}

Result<std::chrono::seconds> duration_option(const ParsedOptions& options, const std::string& name) {
  auto value = util::parse_duration(options.get(name));
  if (!value) return Error::bad_input("--" + name + ": " + value.error().message);
  return value;
}

Result<util::LogLevel> log_level_option(const std::string& text) {
  if (text == "debug") return util::LogLevel::debug;
  if (text == "info") return util::LogLevel::info;
  if (text == "warn") return util::LogLevel::warn;
  if (text == "error") return util::LogLevel::error;
  return Error::bad_input("--log-level must be debug, info, warn or error");
}

// Collects the first error of many conversions, so the config reads as a list.
class ConfigReader {
 public:
  template <class T>
  T take(Result<T> value, T fallback = T()) {
    if (value) return std::move(value).value();
    if (error_.empty()) error_ = value.error().message;
    return fallback;
  }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

Result<ServeConfig> read_config(const ParsedOptions& options) {
  ServeConfig config;
  ConfigReader reader;
  config.server.host = options.get("host");
  config.server.port = static_cast<unsigned short>(reader.take(positive_int(options, "port", 65535)));
  config.server.io_threads = reader.take(positive_int(options, "io-threads", 64));
  config.data_dir = options.get("data");
  config.workers.threads = reader.take(positive_int(options, "workers", 256));
  config.workers.max_pages_in_flight_per_job = reader.take(positive_int(options, "max-pages-per-job", 10000));
  config.workers.lease_duration = reader.take(duration_option(options, "lease-timeout"));
  config.service.result_ttl = reader.take(duration_option(options, "result-ttl"));
  config.service.sse_timeout = reader.take(duration_option(options, "sse-timeout"));
  config.service.max_pages = reader.take(positive_int(options, "max-pages", 1000000));
  auto upload = util::parse_size(options.get("max-upload"));
  if (!upload) upload = Error::bad_input("--max-upload: " + upload.error().message);
  config.service.max_upload_bytes = reader.take(std::move(upload));
  config.log_level = reader.take(log_level_option(options.get("log-level")), util::LogLevel::info);
  config.server.log_format = reader.take(log_format_option(options.get("log-format")), api::LogFormat::text);
  config.remote = reader.take(engine_config(options));
  if (!reader.error().empty()) return Error::bad_input(reader.error());
  return config;
}

std::string node_id() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(::getpid());
}

int serve(const ServeConfig& config) {
  util::set_log_level(config.log_level);
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    std::cerr << "visor: cannot create the data directory " << config.data_dir << ": " << ec.message() << "\n";
    return 1;
  }
  const std::string store_path = (config.data_dir / "visor.db").string();
  auto store = jobs::open_sqlite_job_store(store_path, {.result_ttl = config.service.result_ttl});
  if (!store) {
    std::cerr << "visor: " << store.error().message << "\n";
    return 1;
  }

  ocr::remote::RemoteBackends backends(config.remote);
  EngineCatalog catalog(backends);
  util::metrics::Registry metrics;
  worker::WorkerOptions worker_options = config.workers;
  worker_options.node_id = node_id();
  worker_options.metrics = &metrics;
  worker::WorkerPool workers(**store, [&backends] { return ocr::remote::make_engine_router(backends); },
                             worker_options);
  jobs::RetentionSweeper sweeper(**store, jobs::RetentionSweeper::interval_for(config.service.result_ttl));
  boost::asio::thread_pool blocking(kBlockingThreads);
  api::Service service(**store, blocking, config.service, catalog, metrics,
                       {.on_job_created = [&workers] { workers.notify_work(); },
                        .live_workers = [&workers] { return workers.live_workers(); }});
  api::HttpServer server(config.server, service);
  if (Status s = server.listen(); !s) {
    std::cerr << "visor: " << s.error().message << "\n";
    return 1;
  }
  util::log_info("server.started", {{"store", store_path}, {"workers", std::to_string(worker_options.threads)},
                                    {"port", std::to_string(server.port())}});
  server.run();
  blocking.join();
  util::log_info("server.stopped");
  return 0;
}

}  // namespace

int serve_command(int argc, char** argv) {
  const auto specs = serve_options();
  auto options = parse_options(specs, argc, argv, 2);
  if (!options) {
    std::cerr << "visor serve: " << options.error().message << "\n";
    return 2;
  }
  if (options->has("help")) {
    std::cout << format_help("visor serve [options]", specs);
    return 0;
  }
  auto config = read_config(*options);
  if (!config) {
    std::cerr << "visor serve: " << config.error().message << "\n";
    return 2;
  }
  return serve(*config);
}

}  // namespace visor::cli

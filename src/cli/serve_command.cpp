// `visor serve`: the HTTP API and the retention sweeper around one job store,
// with supervised `visor worker` processes doing the OCR, so a document that
// crashes a C library costs one worker process, never the API.

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include <boost/asio/thread_pool.hpp>

#include "api/server.hpp"
#include "api/service.hpp"
#include "cli/command_list.hpp"
#include "cli/engine_setup.hpp"
#include "cli/worker_settings.hpp"
#include "cli/options.hpp"
#include "cli/check.hpp"
#include "jobs/maintenance.hpp"
#include "ocr/model.hpp"
#include "pdf/document_tool.hpp"
#include "ocr/remote/remote_backends.hpp"
#include "util/duration.hpp"
#include "util/log.hpp"
#include "util/time.hpp"
#include "webhooks/deliverer.hpp"
#include "webhooks/destination.hpp"
#include "worker/orphaned_leases.hpp"
#include "worker/reports.hpp"
#include "worker/supervisor.hpp"

namespace visor::cli {
namespace {

// Threads for store calls: every open SSE stream takes and gives back a slot
// in the store, so a thousand streams churning need more than a handful
// (a load run with 4 did 132 submits/s, with 16 274/s).
constexpr int kBlockingThreads = 16;
// Threads waiting for the child processes that read uploads: at most this
// many run at once, each within --document-memory.
constexpr int kDocumentThreads = 4;

std::vector<OptionSpec> serve_options() {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::vector<OptionSpec> specs = {
      {"host", "127.0.0.1", "Address to listen on (0.0.0.0 for every interface)"},
      {"port", "8003", "TCP port to listen on"},
      {"workers", std::to_string(cores),
       "Worker processes, restarted when they die; 0 for an API-only node of a fleet (workers run elsewhere)"},
      {"threads-per-worker", "1", "Threads per worker process, each with its own engine (raise for remote models)"},
      {"sse-timeout", "10m", "How long an SSE stream follows a job before a timeout event"},
      {"max-upload", "100MiB", "Largest accepted upload"},
      {"max-pages", "2000", "Most pages accepted in one document"},
      {"ocr-mode", "auto",
       "ocr_mode of a job whose submit names none: auto (text layer where trusted), ocr (always OCR) or text"},
      {"document-memory", "2GiB",
       "Address space of each short-lived process that reads an upload for the API (e.g. 2GiB, or unlimited)"},
      {"document-timeout", "30s", "Wall time of each short-lived process that reads an upload for the API"},
      {"io-threads", "2", "Threads serving HTTP connections"},
      {"log-format", "text", "Request log: text (debug lines on stderr) or json (one object per request on stdout)"},
      {"api-keys-file", "", "File of API keys, one per line as KEY [label]; with keys, every /ocr/* request needs one"},
      {"api-keys", "", "API keys, comma-separated (prefer VISOR_API_KEYS or --api-keys-file: command lines are visible)"},
      {"submit-rate", "off", "Submissions per API key (per client address without keys): N/s, N/min, N/h or off"},
      {"submit-burst", "0", "Submissions a key may make at once before the rate applies; 0 for one period's worth"},
      {"max-queued-pages-per-key", "10000",
       "Pages one API key (one client address without keys) may have waiting or in progress; more get 429. 0: no limit"},
      {"max-streams", "4000", "Open SSE streams in total; more get 503"},
      {"max-streams-per-key", "100", "Open SSE streams per API key; more get 429"},
      {"max-connections", "10000", "Open HTTP connections; more are answered 503 and closed"},
      {"drain-timeout", "10s", "On SIGTERM: how long requests in flight may take to finish"},
      {"header-timeout", "30s", "How long a client may take to send a request's headers"},
      {"body-timeout", "60s", "Longest pause between two pieces of a request body (uploads must also average 32 KiB/s)"},
      {"webhook-secret", "",
       "Signs webhooks (Standard Webhooks, HMAC-SHA256): whsec_ + base64 of 16+ random bytes; a key's own "
       "webhook-secret= in --api-keys-file wins. Unset: webhooks go unsigned (prefer VISOR_WEBHOOK_SECRET)"},
      {"webhook-url", "", "Webhook of every job submitted without webhook_url; empty for none"},
      {"webhook-allow-private", "",
       "Let webhooks go to loopback, private and link-local addresses (refused by default against SSRF)", true},
      {"webhook-timeout", "10s", "Time limit of one webhook delivery attempt"},
      {"webhook-retry-delay", "5s",
       "Wait before a failed webhook's first retry; each later one waits twice as long (at most 1h), for 24h"},
      {"webhook-concurrency", "4", "Webhook deliveries this node makes at once"},
      {"public-url", "", "The server's public base URL (https://ocr.example.com), for absolute links in webhooks"},
  };
  const auto shared = worker_option_specs();
  specs.insert(specs.end(), shared.begin(), shared.end());
  specs.push_back({"check", "", "Check the configuration and the store, then exit (0 when both are fine)", true});
  specs.push_back({"help", "", "Show this help", true});
  return specs;
}

struct WebhookConfig {
  std::optional<webhooks::SigningSecret> secret;
  webhooks::DelivererOptions delivery;
};

struct ServeConfig {
  WebhookConfig webhooks;
  WorkerSettings worker;
  api::ServerOptions server;
  api::ServiceOptions service;
  worker::SupervisorOptions processes;
  pdf::DocumentToolOptions documents;
};

// The child processes that read uploads for the API (page count at submit,
// page images): bounded by --document-memory, --document-timeout and
// --max-page-pixels, which their errors name.
Result<pdf::DocumentToolOptions> document_tool_options(const ParsedOptions& options, double max_pixels) {
  pdf::DocumentToolOptions documents;
  documents.executable = "/proc/self/exe";
  auto memory = memory_option(options, "document-memory");
  if (!memory) return memory.take_error();
  // The binary and its libraries alone take a few hundred MiB of address space.
  if (*memory != 0 && *memory < kMinWorkerMemory) {
    return Error::bad_input("--document-memory must be at least " + util::describe_size(kMinWorkerMemory) +
                            ", got '" + options.get("document-memory") + "'");
  }
  auto timeout = duration_option(options, "document-timeout");
  if (!timeout) return timeout.take_error();
  documents.memory_bytes = *memory;
  documents.timeout = *timeout;
  documents.max_pixels = max_pixels;
  documents.memory_setting = "--document-memory";
  documents.timeout_setting = "--document-timeout";
  documents.max_pixels_setting = "--max-page-pixels";
  return documents;
}

Result<api::LogFormat> log_format_option(const std::string& text) {
  if (text == "text") return api::LogFormat::text;
  if (text == "json") return api::LogFormat::json;
  return Error::bad_input("--log-format must be text or json");
}

Result<int> count_option(const ParsedOptions& options, const std::string& name) {
  if (options.get(name) == "0") return 0;
  return positive_int(options, name, 1000000000);
}

Result<util::Rate> rate_option(const ParsedOptions& options, const std::string& name) {
  const auto rate = util::parse_rate(options.get(name));
  if (!rate) return Error::bad_input("--" + name + " must be N/s, N/min, N/h or off, got '" + options.get(name) + "'");
  return *rate;
}

Result<WebhookConfig> webhook_config(const ParsedOptions& options) {
  WebhookConfig config;
  if (const std::string secret = options.get("webhook-secret"); !secret.empty()) {
    auto parsed = webhooks::SigningSecret::parse(secret);
    if (!parsed) return Error::bad_input("--webhook-secret: " + parsed.error().message);
    config.secret = std::move(*parsed);
  }
  ConfigReader reader;
  config.delivery.allow_private = options.has("webhook-allow-private");
  config.delivery.timeout = reader.take(duration_option(options, "webhook-timeout"));
  config.delivery.retry.first_delay = reader.take(duration_option(options, "webhook-retry-delay"));
  config.delivery.concurrency = reader.take(positive_int(options, "webhook-concurrency", 256));
  config.delivery.public_url = options.get("public-url");
  if (const std::string url = options.get("webhook-url"); !url.empty()) {
    // The operator's own default may point anywhere the flag allows.
    if (Status s = webhooks::check_url(url, config.delivery.allow_private); !s) {
      return Error::bad_input("--webhook-url: " + s.error().message);
    }
  }
  if (!reader.error().empty()) return Error::bad_input(reader.error());
  return config;
}

Result<ServeConfig> read_config(const ParsedOptions& options) {
  auto worker = read_worker_settings(options);
  if (!worker) return worker.take_error();
  ServeConfig config;
  config.worker = std::move(*worker);
  ConfigReader reader;
  config.server.host = options.get("host");
  config.server.port = static_cast<unsigned short>(reader.take(positive_int(options, "port", 65535)));
  config.server.io_threads = reader.take(positive_int(options, "io-threads", 64));
  config.processes.processes = reader.take(int_option(options, "workers", 0, 256));
  const int threads = reader.take(positive_int(options, "threads-per-worker", 256));
  const std::uint64_t share =
      reader.take(worker_memory_share(config.worker.worker_memory, config.processes.processes));
  config.processes.argv = worker_command_line("/proc/self/exe", options, threads, share);
  config.processes.environment = worker_environment(config.worker);
  config.documents = reader.take(document_tool_options(options, config.worker.pool.page_limits.max_pixels),
                                 pdf::DocumentToolOptions{});
  config.service.result_ttl = config.worker.store.result_ttl;
  config.service.sse_timeout = reader.take(duration_option(options, "sse-timeout"));
  config.service.max_pages = reader.take(positive_int(options, "max-pages", 1000000));
  config.service.default_ocr_mode = reader.take(ocr_mode_option(options), ocr::OcrMode::automatic);
  auto upload = util::parse_size(options.get("max-upload"));
  if (!upload) upload = Error::bad_input("--max-upload: " + upload.error().message);
  config.service.max_upload_bytes = reader.take(std::move(upload));
  config.server.log_format = reader.take(log_format_option(options.get("log-format")), api::LogFormat::text);
  config.server.max_connections = reader.take(positive_int(options, "max-connections", 1000000));
  config.server.drain_timeout = reader.take(duration_option(options, "drain-timeout"));
  config.server.header_timeout = reader.take(duration_option(options, "header-timeout"));
  config.server.body_timeout = reader.take(duration_option(options, "body-timeout"));
  config.service.submit_rate = reader.take(rate_option(options, "submit-rate"));
  config.service.submit_burst = reader.take(count_option(options, "submit-burst"));
  config.service.max_queued_pages_per_tenant = reader.take(count_option(options, "max-queued-pages-per-key"));
  config.service.max_streams = reader.take(count_option(options, "max-streams"));
  config.service.max_streams_per_key = reader.take(count_option(options, "max-streams-per-key"));
  config.service.api_keys = reader.take(api::ApiKeys::load(options.get("api-keys-file"), options.get("api-keys")));
  config.webhooks = reader.take(webhook_config(options), WebhookConfig{});
  config.service.default_webhook_url = options.get("webhook-url");
  config.service.webhook_allow_private = config.webhooks.delivery.allow_private;
  if (!reader.error().empty()) return Error::bad_input(reader.error());
  return config;
}

// Every connection and SSE stream holds a file descriptor: take all the
// descriptors the hard limit allows, and keep the connection limit below
// them so accept() never fails for lack of one.
int fit_connections_to_descriptors(int max_connections) {
  constexpr rlim_t kReserved = 128;  // the store, worker pipes, logs
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return max_connections;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur <= kReserved) return max_connections;
  const auto fitting = static_cast<int>(std::min<rlim_t>(limit.rlim_cur - kReserved, 1000000000));
  if (fitting >= max_connections) return max_connections;
  util::log_warn("server.connections_limited", {{"max_connections", std::to_string(fitting)},
                                                {"open_file_limit", std::to_string(limit.rlim_cur)}});
  return fitting;
}

// Pages leased by the workers of a server that was killed on this host go
// back to the queue now rather than when their leases time out.
void return_pages_of_dead_workers(jobs::JobStore& store) {
  std::string host = node_id(::getpid());
  host.erase(host.rfind(':'));
  auto returned = worker::return_orphaned_leases(store, host);
  if (!returned) {
    util::log_warn("worker.orphans_not_returned", {{"error", returned.error().message}});
  } else if (*returned > 0) {
    util::log_info("worker.orphans_returned", {{"pages", std::to_string(*returned)}});
  }
}

void log_access_mode(const api::ApiKeys& keys) {
  if (keys.enabled()) {
    util::log_info("server.api_keys", {{"keys", std::to_string(keys.size())}});
  } else {
    util::log_warn("server.open", {{"detail", "no API keys configured: anyone who can reach the port can use the API"}});
  }
}

// Starts the worker processes of this node in `workers`; none on an
// API-only node.
void start_workers(const ServeConfig& config, jobs::JobStore& jobs, worker::ProcessReports& reports,
                   std::optional<worker::Supervisor>& workers) {
  if (config.processes.processes == 0) return;
  // A worker that died gives its pages back at once, naming the cause; the
  // page becomes a page error once its attempts are used up.
  workers.emplace(
      config.processes,
      [&jobs](pid_t pid, const std::string& how) {
        const std::string reason = "The worker process processing this page ended (" + how + ")";
        auto released = jobs.release_worker_leases(node_id(pid) + "/", reason, util::now_ms());
        if (!released) util::log_error("worker.leases_not_released", {{"error", released.error().message}});
      },
      [&reports](pid_t pid, std::string_view line) { reports.replay(pid, line); });
}

int serve(ServeConfig config) {
  util::set_log_level(config.worker.log_level);
  config.server.max_connections = fit_connections_to_descriptors(config.server.max_connections);
  log_access_mode(config.service.api_keys);
  auto store = open_store(config.worker);
  if (!store) {
    std::cerr << "visor: " << store.error().message << "\n";
    return 1;
  }

  // The server's own view of the remote endpoints, for GET /ocr/models and
  // 503 on submit; the worker processes hold their own.
  ocr::remote::RemoteBackends backends(config.worker.remote);
  EngineCatalog catalog(backends);
  jobs::JobStore& jobs = **store;
  util::metrics::Registry metrics;
  return_pages_of_dead_workers(jobs);
  worker::WorkerMetrics worker_metrics(metrics);
  worker::ProcessReports reports(worker_metrics);
  std::optional<worker::Supervisor> workers;
  start_workers(config, jobs, reports, workers);
  const jobs::Maintenance maintenance(jobs, maintenance_options(config.worker));
  boost::asio::thread_pool blocking(kBlockingThreads);
  boost::asio::thread_pool document_waits(kDocumentThreads);
  // Uploads are read in bounded child processes, never in this one.
  const auto documents = pdf::make_isolated_document_tool(config.documents);
  api::ServiceHooks hooks;
  if (workers) {
    hooks.on_job_created = [&workers] { workers->notify_work(); };
    hooks.live_workers = [&workers] { return workers->running(); };
  }
  config.service.node_id = config.worker.pool.node_id;
  api::Service service(jobs, blocking, document_waits, config.service, catalog, *documents, metrics,
                       std::move(hooks));
  const api::ApiKeys& keys = config.service.api_keys;
  const webhooks::SigningSecret* server_secret = config.webhooks.secret ? &*config.webhooks.secret : nullptr;
  const webhooks::Deliverer deliverer(
      jobs, config.webhooks.delivery,
      [&keys, server_secret](std::string_view owner) {
        const webhooks::SigningSecret* own = keys.webhook_secret(owner);
        return own != nullptr ? own : server_secret;
      },
      metrics);
  api::HttpServer server(config.server, service);
  if (Status s = server.listen(); !s) {
    std::cerr << "visor: " << s.error().message << "\n";
    return 1;
  }
  util::log_info("server.started", {{"store", jobs::describe_store(config.worker.store_location)},
                                    {"workers", std::to_string(config.processes.processes)},
                                    {"worker_memory", config.worker.worker_memory == 0
                                                          ? std::string("unlimited")
                                                          : util::describe_size(config.worker.worker_memory)},
                                    {"port", std::to_string(server.port())}});
  server.run();
  blocking.join();
  document_waits.join();
  util::log_info("server.stopped");
  return 0;
}

}  // namespace

int serve_command(int argc, char** argv) {
  const auto specs = serve_options();
  int exit_code = 0;
  const auto options = parse_command("serve", "visor serve [options]", specs, argc, argv, exit_code);
  if (!options) return exit_code;
  auto config = read_config(*options);
  if (!config) {
    std::cerr << "visor serve: " << config.error().message << "\n";
    return 2;
  }
  if (options->has("check")) return check_configuration("serve", config->worker);
  return serve(std::move(*config));
}

}  // namespace visor::cli

#include "cli/worker_settings.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "cli/engine_setup.hpp"
#include "util/duration.hpp"
#include "util/integer.hpp"

namespace visor::cli {
namespace {

// Options of the worker itself; engine options are appended.
const std::vector<OptionSpec>& own_specs() {
  static const std::vector<OptionSpec> specs = {
      {"store", "", "The job store: sqlite:PATH (one host) or a PostgreSQL URI, postgresql://user:password@host:5432/db "
                    "(a fleet of nodes); default sqlite:<--data>/visor.db"},
      {"data", "./data", "Directory of the default SQLite store (created if missing)"},
      {"max-pages-per-job", "8", "Pages of one job in flight at once"},
      {"result-ttl", "7d", "How long results are kept after a job finishes (s, m, h, d)"},
      {"lease-timeout", "30s", "How long a page stays with a worker that stopped renewing it"},
      {"heartbeat-timeout", "10s",
       "A worker process silent this long is taken for dead and its pages go back to the queue"},
      {"max-page-pixels", "200M", "Largest page image rendered, in pixels (K, M, G); a larger page is a page error"},
      {"page-timeout", "10m",
       "Wall time of rendering and embedded recognition of one page; a page over it is a page error (the default is "
       "twice the slowest legitimate page measured at 600 DPI: docs/robustness.md)"},
      {"page-memory", "auto",
       "Most MuPDF may hold while reading one page: auto (64 bytes a pixel of the page at its DPI, at least 1GiB), "
       "a size, or unlimited; a page over it (a decompression bomb) is a page error at once"},
      {"worker-memory", "auto",
       "Address space of all worker processes together, split evenly between them (e.g. 8GiB; auto: 3/4 of the "
       "memory of the machine or its cgroup; unlimited)"},
      {"max-store-size", "0", "Largest the job store may grow (e.g. 20GiB): submissions past it get 503; 0 for no limit but the disk"},
      {"log-level", "info", "debug, info, warn or error"},
  };
  return specs;
}

// Past this, a limit on pixels protects nothing: 10 billion pixels are 30 GB
// of RGB.
constexpr std::uint64_t kMostPixels = 10'000'000'000;

Result<double> max_pixels_option(const ParsedOptions& options) {
  const std::string text = options.get("max-page-pixels");
  auto count = util::parse_count(text);
  if (!count || *count > kMostPixels) {
    return Error::bad_input("--max-page-pixels must be a pixel count from 1 to 10G (e.g. 200M), got '" + text + "'");
  }
  return static_cast<double>(*count);
}

// The memory this machine, or the cgroup (v2) this process runs in, has;
// 0 when unknown.
std::uint64_t available_memory() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  std::uint64_t memory = pages > 0 && page_size > 0
                             ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size)
                             : 0;
  std::ifstream cgroup("/sys/fs/cgroup/memory.max");
  std::uint64_t cgroup_limit = 0;
  if (cgroup >> cgroup_limit && cgroup_limit > 0) memory = memory == 0 ? cgroup_limit : std::min(memory, cgroup_limit);
  return memory;
}

Result<util::LogLevel> log_level_option(const std::string& text) {
  if (text == "debug") return util::LogLevel::debug;
  if (text == "info") return util::LogLevel::info;
  if (text == "warn") return util::LogLevel::warn;
  if (text == "error") return util::LogLevel::error;
  return Error::bad_input("--log-level must be debug, info, warn or error");
}

}  // namespace

std::vector<OptionSpec> worker_option_specs() {
  std::vector<OptionSpec> specs = own_specs();
  const auto engines = engine_options();
  specs.insert(specs.end(), engines.begin(), engines.end());
  return specs;
}

Result<int> int_option(const ParsedOptions& options, const std::string& name, int min, int max) {
  auto value = util::parse_integer_in(options.get(name), min, max, "--" + name);
  if (!value) return value.take_error();
  return static_cast<int>(*value);
}

Result<int> positive_int(const ParsedOptions& options, const std::string& name, int max) {
  return int_option(options, name, 1, max);
}

Result<std::chrono::seconds> duration_option(const ParsedOptions& options, const std::string& name) {
  auto value = util::parse_duration(options.get(name));
  if (!value) return Error::bad_input("--" + name + ": " + value.error().message);
  return value;
}

Result<ocr::OcrMode> ocr_mode_option(const ParsedOptions& options) {
  const auto mode = ocr::parse_ocr_mode(options.get("ocr-mode"));
  if (!mode) {
    return Error::bad_input("--ocr-mode must be one of " + std::string(ocr::kOcrModes) + ", got '" +
                            options.get("ocr-mode") + "'");
  }
  return *mode;
}

Result<std::uint64_t> memory_option(const ParsedOptions& options, const std::string& name) {
  const std::string text = options.get(name);
  if (text == "unlimited") return std::uint64_t{0};
  if (text == "auto") return available_memory() / 4 * 3;
  auto size = util::parse_size(text);
  if (!size) return Error::bad_input("--" + name + " must be a size (e.g. 8GiB), auto or unlimited, got '" + text + "'");
  return size;
}

// --page-memory: nullopt for auto, 0 for unlimited, else the bytes.
Result<std::optional<std::uint64_t>> page_memory_option(const ParsedOptions& options) {
  const std::string text = options.get("page-memory");
  if (text == "auto") return std::optional<std::uint64_t>();
  if (text == "unlimited") return std::optional<std::uint64_t>(0);
  auto size = util::parse_size(text);
  if (!size || *size < (std::uint64_t{64} << 20)) {
    return Error::bad_input("--page-memory must be auto, unlimited or a size of at least 64MiB, got '" + text + "'");
  }
  return std::optional<std::uint64_t>(*size);
}

Result<std::uint64_t> worker_memory_share(std::uint64_t total, int processes) {
  if (total == 0) return std::uint64_t{0};
  const std::uint64_t share = total / static_cast<std::uint64_t>(std::max(1, processes));
  if (share >= kMinWorkerMemory) return share;
  const std::string needed = "a worker process needs at least " + util::describe_size(kMinWorkerMemory);
  if (processes <= 1) return Error::bad_input("--worker-memory " + util::describe_size(total) + " is too little: " + needed);
  return Error::bad_input("--worker-memory " + util::describe_size(total) + " split across " +
                          std::to_string(processes) + " worker processes leaves " + util::describe_size(share) +
                          " each; " + needed + ": raise --worker-memory or lower --workers");
}

Status limit_own_memory(std::uint64_t bytes) {
  if (bytes == 0) return {};
  const rlimit limit{bytes, bytes};
  if (::setrlimit(RLIMIT_AS, &limit) != 0) {
    return Error::unavailable("Cannot limit the address space to " + util::describe_size(bytes) + ": " +
                              std::strerror(errno));
  }
  return {};
}

Result<std::uint64_t> size_option(const ParsedOptions& options, const std::string& name) {
  if (options.get(name) == "0") return std::uint64_t{0};
  auto value = util::parse_size(options.get(name));
  if (!value) return Error::bad_input("--" + name + ": " + value.error().message);
  return value;
}

Result<jobs::StoreLocation> store_option(const ParsedOptions& options) {
  const std::string text = options.get("store");
  if (text.empty()) {
    return jobs::StoreLocation{jobs::StoreLocation::Kind::sqlite,
                               (std::filesystem::path(options.get("data")) / "visor.db").string()};
  }
  return jobs::parse_store_location(text);
}

Result<WorkerSettings> read_worker_settings(const ParsedOptions& options) {
  WorkerSettings settings;
  ConfigReader reader;
  settings.store_location = reader.take(store_option(options));
  settings.store.result_ttl = reader.take(duration_option(options, "result-ttl"));
  settings.store.max_bytes = static_cast<std::int64_t>(reader.take(size_option(options, "max-store-size")));
  settings.pool.max_pages_in_flight_per_job = reader.take(positive_int(options, "max-pages-per-job", 10000));
  settings.pool.lease_duration = reader.take(duration_option(options, "lease-timeout"));
  settings.pool.heartbeat_timeout = reader.take(duration_option(options, "heartbeat-timeout"));
  settings.pool.node_id = node_id(::getpid());
  settings.pool.host = host_name();
  settings.pool.page_limits.max_pixels = reader.take(max_pixels_option(options), 200e6);
  settings.pool.page_limits.timeout = reader.take(duration_option(options, "page-timeout"));
  settings.pool.page_limits.page_memory = reader.take(page_memory_option(options), std::optional<std::uint64_t>());
  settings.worker_memory = reader.take(memory_option(options, "worker-memory"));
  settings.log_level = reader.take(log_level_option(options.get("log-level")), util::LogLevel::info);
  settings.remote = reader.take(engine_config(options));
  if (!reader.error().empty()) return Error::bad_input(reader.error());
  return settings;
}

std::vector<std::string> worker_command_line(const std::string& executable, const ParsedOptions& options,
                                             int threads, std::uint64_t memory_per_process) {
  std::vector<std::string> argv = {executable, "worker", "--threads=" + std::to_string(threads),
                                   "--parent-pid=" + std::to_string(::getpid())};
  for (const auto& spec : worker_option_specs()) {
    // The store goes by the environment (worker_environment): its URI may
    // hold a password.
    if (spec.name == "worker-memory" || spec.name == "store") continue;
    if (options.has(spec.name)) argv.push_back("--" + spec.name + "=" + options.get(spec.name));
  }
  argv.push_back("--worker-memory=" + (memory_per_process == 0 ? std::string("unlimited")
                                                               : std::to_string(memory_per_process)));
  return argv;
}

jobs::MaintenanceOptions maintenance_options(const WorkerSettings& settings) {
  jobs::MaintenanceOptions options;
  options.node_id = settings.pool.node_id;
  options.retention_interval = jobs::Maintenance::retention_interval_for(settings.store.result_ttl);
  return options;
}

std::vector<std::string> worker_environment(const WorkerSettings& settings) {
  const bool sqlite = settings.store_location.kind == jobs::StoreLocation::Kind::sqlite;
  return {env_name("store") + "=" + (sqlite ? "sqlite:" : "") + settings.store_location.target};
}

Result<std::unique_ptr<jobs::JobStore>> open_store(const WorkerSettings& settings) {
  return jobs::open_job_store(settings.store_location, settings.store);
}

std::string host_name() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return host;
}

std::string node_id(pid_t pid) { return host_name() + ":" + std::to_string(pid); }

}  // namespace visor::cli

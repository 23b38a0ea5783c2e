#include "cli/worker_settings.hpp"

#include <unistd.h>

#include "cli/engine_setup.hpp"
#include "util/duration.hpp"

namespace visor::cli {
namespace {

// Options of the worker itself; engine options are appended.
const std::vector<OptionSpec>& own_specs() {
  static const std::vector<OptionSpec> specs = {
      {"data", "./data", "Directory of the job store (created if missing)"},
      {"max-pages-per-job", "8", "Pages of one job in flight at once"},
      {"result-ttl", "7d", "How long results are kept after a job finishes (s, m, h, d)"},
      {"lease-timeout", "30s", "How long a page stays with a worker that stopped renewing it"},
      {"max-store-size", "0", "Largest the job store may grow (e.g. 20GiB): submissions past it get 503; 0 for no limit but the disk"},
      {"log-level", "info", "debug, info, warn or error"},
  };
  return specs;
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

Result<std::uint64_t> size_option(const ParsedOptions& options, const std::string& name) {
  if (options.get(name) == "0") return std::uint64_t{0};
  auto value = util::parse_size(options.get(name));
  if (!value) return Error::bad_input("--" + name + ": " + value.error().message);
  return value;
}

Result<WorkerSettings> read_worker_settings(const ParsedOptions& options) {
  WorkerSettings settings;
  ConfigReader reader;
  settings.data_dir = options.get("data");
  settings.store.result_ttl = reader.take(duration_option(options, "result-ttl"));
  settings.store.max_bytes = static_cast<std::int64_t>(reader.take(size_option(options, "max-store-size")));
  settings.pool.max_pages_in_flight_per_job = reader.take(positive_int(options, "max-pages-per-job", 10000));
  settings.pool.lease_duration = reader.take(duration_option(options, "lease-timeout"));
  settings.pool.node_id = node_id(::getpid());
  settings.log_level = reader.take(log_level_option(options.get("log-level")), util::LogLevel::info);
  settings.remote = reader.take(engine_config(options));
  if (!reader.error().empty()) return Error::bad_input(reader.error());
  return settings;
}

std::vector<std::string> worker_command_line(const std::string& executable, const ParsedOptions& options,
                                             int threads) {
  std::vector<std::string> argv = {executable, "worker", "--threads=" + std::to_string(threads),
                                   "--parent-pid=" + std::to_string(::getpid())};
  for (const auto& spec : worker_option_specs()) {
    if (options.has(spec.name)) argv.push_back("--" + spec.name + "=" + options.get(spec.name));
  }
  return argv;
}

Result<std::unique_ptr<jobs::JobStore>> open_store(const WorkerSettings& settings) {
  std::error_code ec;
  std::filesystem::create_directories(settings.data_dir, ec);
  if (ec) {
    return Error::unavailable("Cannot create the data directory " + settings.data_dir.string() + ": " +
                              ec.message());
  }
  return jobs::open_sqlite_job_store((settings.data_dir / "visor.db").string(), settings.store);
}

std::string node_id(pid_t pid) {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(pid);
}

}  // namespace visor::cli

#pragma once
// What a worker needs, read the same way by `visor serve` (which passes it on
// to its worker processes) and `visor worker`: the store, the pool's
// options, the engines, logging.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/options.hpp"
#include "jobs/job_store.hpp"
#include "jobs/maintenance.hpp"
#include "jobs/store_factory.hpp"
#include "ocr/model.hpp"
#include "ocr/remote/remote_backends.hpp"
#include "util/log.hpp"
#include "worker/worker_pool.hpp"

namespace visor::cli {

// Options shared by serve and worker, engine options included.
std::vector<OptionSpec> worker_option_specs();

struct WorkerSettings {
  jobs::StoreLocation store_location;  // --store, or the SQLite file under --data
  jobs::StoreOptions store;
  worker::WorkerOptions pool;  // node_id, page limits filled in
  std::map<ocr::Model, ocr::remote::RemoteModelConfig> remote;
  util::LogLevel log_level = util::LogLevel::info;
  // --worker-memory: the address space of all worker processes together,
  // in bytes; 0 for unlimited.
  std::uint64_t worker_memory = 0;
};

// bad_input naming the first malformed option.
Result<WorkerSettings> read_worker_settings(const ParsedOptions& options);

// --store, or the SQLite file visor.db under --data when it is empty.
Result<jobs::StoreLocation> store_option(const ParsedOptions& options);

// The least address space a worker process works in: the binary, its
// libraries, Tesseract's models and a few pages' images.
inline constexpr std::uint64_t kMinWorkerMemory = std::uint64_t{512} << 20;

// Each of `processes` worker processes' share of `total` bytes (0:
// unlimited); bad_input naming --worker-memory and --workers when a share
// is under kMinWorkerMemory.
Result<std::uint64_t> worker_memory_share(std::uint64_t total, int processes);

// Limits this process's address space (RLIMIT_AS) to `bytes` (0: no limit):
// allocations beyond it fail (MuPDF and Tesseract report them as page
// errors) instead of growing until the system kills something.
Status limit_own_memory(std::uint64_t bytes);

// The `visor worker` command line that runs one worker process with the
// same settings: every shared option, as given or defaulted, as
// --name=value, with --worker-memory set to the process's share
// (`memory_per_process` bytes, 0 for unlimited).
std::vector<std::string> worker_command_line(const std::string& executable, const ParsedOptions& options,
                                             int threads, std::uint64_t memory_per_process);

// What a worker process started by serve gets in its environment rather
// than on its command line: VISOR_STORE (a PostgreSQL URI may hold a
// password, and command lines are visible to every user of the host).
std::vector<std::string> worker_environment(const WorkerSettings& settings);

// Periodic maintenance of the store (maintenance.hpp), led by this process
// when no other node leads it.
jobs::MaintenanceOptions maintenance_options(const WorkerSettings& settings);

// Opens the store the settings name (creating a SQLite file's directory).
Result<std::unique_ptr<jobs::JobStore>> open_store(const WorkerSettings& settings);

// "host:pid": names this process's workers in leases; a worker thread's id
// is node_id() + "/" + its index.
std::string node_id(pid_t pid);
std::string host_name();

// Helpers for reading option values, each failing with a message that
// names the option.
Result<int> int_option(const ParsedOptions& options, const std::string& name, int min, int max);
Result<int> positive_int(const ParsedOptions& options, const std::string& name, int max);
Result<std::chrono::seconds> duration_option(const ParsedOptions& options, const std::string& name);
// --ocr-mode: auto, ocr or text.
Result<ocr::OcrMode> ocr_mode_option(const ParsedOptions& options);
// A size (KiB, MiB, GiB), "auto" (3/4 of the memory of the machine, or of
// its cgroup when that has less) or "unlimited" (0).
Result<std::uint64_t> memory_option(const ParsedOptions& options, const std::string& name);
// A size such as 100MiB, or 0.
Result<std::uint64_t> size_option(const ParsedOptions& options, const std::string& name);

// Collects the first error of many conversions, so a config reads as a list.
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

}  // namespace visor::cli

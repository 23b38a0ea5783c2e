// The limit flags shared by `visor serve` and `visor worker`: how they are
// read, the errors that name them, how serve splits memory between its
// worker processes.

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "cli/worker_settings.hpp"

namespace visor::cli {
namespace {

using namespace std::chrono_literals;

Result<ParsedOptions> parse(std::vector<std::string> args) {
  for (const char* name : {"VISOR_MAX_PAGE_PIXELS", "VISOR_PAGE_TIMEOUT", "VISOR_WORKER_MEMORY"}) ::unsetenv(name);
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  return parse_options(worker_option_specs(), static_cast<int>(argv.size()), argv.data(), 0);
}

Result<WorkerSettings> settings(std::vector<std::string> args) {
  auto options = parse(std::move(args));
  if (!options) return options.take_error();
  return read_worker_settings(*options);
}

TEST(WorkerSettingsTest, LimitsDefaultTo200MegapixelsTenMinutesAPageBudgetAndThreeQuartersOfMemory) {
  auto read = settings({});
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->pool.page_limits.max_pixels, 200e6);
  EXPECT_EQ(read->pool.page_limits.timeout, 10min);
  EXPECT_FALSE(read->pool.page_limits.page_memory.has_value());  // auto
  const auto physical = static_cast<std::uint64_t>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGE_SIZE);
  EXPECT_LE(read->worker_memory, physical / 4 * 3);
  EXPECT_GT(read->worker_memory, 0u);
}

TEST(WorkerSettingsTest, LimitsAreReadFromFlagsAndEnvironment) {
  auto read = settings({"--max-page-pixels=50M", "--page-timeout", "90s", "--worker-memory=6GiB", "--page-memory=2GiB"});
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->pool.page_limits.max_pixels, 50e6);
  EXPECT_EQ(read->pool.page_limits.timeout, 90s);
  EXPECT_EQ(read->worker_memory, 6ull << 30);
  EXPECT_EQ(read->pool.page_limits.page_memory, std::optional<std::uint64_t>(2ull << 30));
  EXPECT_EQ(settings({"--worker-memory=unlimited"})->worker_memory, 0u);
  EXPECT_EQ(settings({"--page-memory=unlimited"})->pool.page_limits.page_memory, std::optional<std::uint64_t>(0));
  EXPECT_FALSE(settings({"--page-memory=1KiB"}).ok());

  ::setenv("VISOR_PAGE_TIMEOUT", "2m", 1);
  std::vector<char*> none;
  auto options = parse_options(worker_option_specs(), 0, none.data(), 0);
  ::unsetenv("VISOR_PAGE_TIMEOUT");
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(read_worker_settings(*options)->pool.page_limits.timeout, 2min);
}

TEST(WorkerSettingsTest, MalformedLimitsAreErrorsNamingTheFlag) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--max-page-pixels=lots", "--max-page-pixels must be a pixel count from 1 to 10G (e.g. 200M), got 'lots'"},
      {"--max-page-pixels=0", "--max-page-pixels must be a pixel count from 1 to 10G (e.g. 200M), got '0'"},
      {"--max-page-pixels=20G", "--max-page-pixels must be a pixel count from 1 to 10G (e.g. 200M), got '20G'"},
      {"--page-timeout=soon", "--page-timeout: Invalid duration (use e.g. 30s, 10m, 12h, 7d) 'soon'"},
      {"--worker-memory=plenty", "--worker-memory must be a size (e.g. 8GiB), auto or unlimited, got 'plenty'"},
  };
  for (const auto& [flag, message] : cases) {
    auto read = settings({flag});
    ASSERT_FALSE(read.ok()) << flag;
    EXPECT_EQ(read.error().kind, Error::Kind::bad_input);
    EXPECT_EQ(read.error().message, message);
  }
}

TEST(WorkerSettingsTest, MemoryIsSplitEvenlyAndASmallShareIsAnErrorNamingBothFlags) {
  EXPECT_EQ(*worker_memory_share(8ull << 30, 4), 2ull << 30);
  EXPECT_EQ(*worker_memory_share(0, 4), 0u) << "unlimited stays unlimited";
  auto small = worker_memory_share(1ull << 30, 8);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.error().message,
            "--worker-memory 1 GiB split across 8 worker processes leaves 128 MiB each; a worker process needs at "
            "least 512 MiB: raise --worker-memory or lower --workers");
  EXPECT_EQ(worker_memory_share(100ull << 20, 1).error().message,
            "--worker-memory 100 MiB is too little: a worker process needs at least 512 MiB");
}

TEST(WorkerSettingsTest, EachWorkerProcessIsGivenItsShareNotTheTotal) {
  auto options = parse({"--worker-memory=8GiB", "--page-timeout=1m"});
  ASSERT_TRUE(options.ok());
  const auto argv = worker_command_line("/bin/visor", *options, 1, 2ull << 30);
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "--worker-memory=2147483648"), 1);
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "--worker-memory=8GiB"), 0);
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "--page-timeout=1m"), 1);
  const auto unlimited = worker_command_line("/bin/visor", *options, 1, 0);
  EXPECT_EQ(std::count(unlimited.begin(), unlimited.end(), "--worker-memory=unlimited"), 1);
}

TEST(WorkerSettingsTest, LimitingOwnMemorySetsTheAddressSpaceLimit) {
  // In a child process: the limit cannot be raised again.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (!limit_own_memory(3ull << 30)) ::_exit(2);
    rlimit limit{};
    ::getrlimit(RLIMIT_AS, &limit);
    ::_exit(limit.rlim_cur == (3ull << 30) && limit.rlim_max == (3ull << 30) ? 0 : 1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace visor::cli

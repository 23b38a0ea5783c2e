// visor_queue_bench --store URI --processes N [--jobs J] [--pages P]
//                   [--max-pages-per-job M] [--seconds S]
//
// The job queue alone: J jobs of P pages are queued in the store, then N
// processes, each with its own connections as worker processes have,
// claim pages and record a result for each (a no-op engine) until the
// queue is empty or S seconds have passed. Prints one JSON line:
// {"store", "processes", "pages", "seconds", "claims_per_second",
// "store_busy"}, where a claim is a lease_page and the complete_page that
// records its result, and store_busy counts the calls the store answered
// `unavailable` (a SQLite file locked longer than its busy timeout), which
// are retried after 10 ms as a worker retries them.
//
// Exit status: 0 on success, 1 when the store fails, 2 on bad arguments.

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "jobs/store_factory.hpp"
#include "util/integer.hpp"
#include "util/time.hpp"

namespace {

using namespace visor;
using Clock = std::chrono::steady_clock;

struct Settings {
  jobs::StoreLocation store;
  int processes = 1;
  int jobs = 100;
  int pages = 40;
  int max_pages_per_job = 8;
  int seconds = 60;
};

int usage(const std::string& problem) {
  std::cerr << "visor_queue_bench: " << problem
            << "\nusage: visor_queue_bench --store URI --processes N [--jobs J] [--pages P] "
               "[--max-pages-per-job M] [--seconds S]\n";
  return 2;
}

std::optional<Settings> parse(int argc, char** argv, std::string& problem) {
  std::map<std::string, std::string> values;
  for (int i = 1; i + 1 < argc; i += 2) values[argv[i]] = argv[i + 1];
  if (argc % 2 == 0) {
    problem = "every option takes a value";
    return std::nullopt;
  }
  Settings settings;
  auto location = jobs::parse_store_location(values["--store"]);
  if (!location) {
    problem = location.error().message;
    return std::nullopt;
  }
  settings.store = *location;
  for (auto [name, target] : {std::pair{"--processes", &settings.processes}, std::pair{"--jobs", &settings.jobs},
                              std::pair{"--pages", &settings.pages},
                              std::pair{"--max-pages-per-job", &settings.max_pages_per_job},
                              std::pair{"--seconds", &settings.seconds}}) {
    if (!values.contains(name)) continue;
    auto value = util::parse_integer_in(values[name], 1, 100000, name);
    if (!value) {
      problem = value.error().message;
      return std::nullopt;
    }
    *target = static_cast<int>(*value);
  }
  return settings;
}

Status queue_jobs(jobs::JobStore& store, const Settings& settings) {
  const auto document = std::make_shared<const std::string>(std::string(20 * 1024, 'x'));
  for (int j = 0; j < settings.jobs; ++j) {
    jobs::NewJob job;
    job.submitted_at = util::now_ms();
    job.id = jobs::new_job_id(job.submitted_at);
    job.filename = "bench.pdf";
    job.model = "dotsocr";
    job.total_pages = settings.pages;
    job.document = document;
    if (Status s = store.create_job(job); !s) return s;
  }
  return {};
}

// One claiming process: claims and completes until nothing is left or the
// time is up; writes how many it did to `report`. Never returns.
[[noreturn]] void claim_until_empty(const Settings& settings, int index, int go, int report) {
  auto store = jobs::open_job_store(settings.store, jobs::StoreOptions{});
  char start = 0;
  if (!store || ::read(go, &start, 1) != 1) ::_exit(1);
  const auto end = Clock::now() + std::chrono::seconds(settings.seconds);
  const std::string worker = "bench:" + std::to_string(::getpid()) + "/" + std::to_string(index);
  long claimed = 0;
  long busy = 0;
  // A store error other than `unavailable` ends the run; `unavailable` is
  // counted and tried again.
  const auto usable = [&](const Error& error) {
    if (error.kind != Error::Kind::unavailable) {
      std::cerr << "visor_queue_bench: " << error.message << "\n";
      ::_exit(1);
    }
    ++busy;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  };
  int empty = 0;
  while (empty < 3 && Clock::now() < end) {
    auto task = (*store)->lease_page({.worker_id = worker,
                                      .now_ms = util::now_ms(),
                                      .lease_duration = std::chrono::seconds(60),
                                      .max_pages_in_flight_per_job = settings.max_pages_per_job});
    if (!task) {
      usable(task.error());
      continue;
    }
    if (!task->has_value()) {
      ++empty;
      continue;
    }
    empty = 0;
    for (;;) {
      Status s = (*store)->complete_page(**task, R"({"status":"success","data":[]})", "none", util::now_ms());
      if (s) break;
      usable(s.error());
    }
    ++claimed;
  }
  const std::string line = std::to_string(claimed) + " " + std::to_string(busy) + "\n";
  if (::write(report, line.data(), line.size()) != static_cast<ssize_t>(line.size())) ::_exit(1);
  ::_exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  std::string problem;
  const auto settings = parse(argc, argv, problem);
  if (!settings) return usage(problem);
  auto store = jobs::open_job_store(settings->store, jobs::StoreOptions{});
  if (!store) {
    std::cerr << "visor_queue_bench: " << store.error().message << "\n";
    return 1;
  }
  if (Status s = queue_jobs(**store, *settings); !s) {
    std::cerr << "visor_queue_bench: " << s.error().message << "\n";
    return 1;
  }
  int go[2];
  int report[2];
  if (::pipe(go) != 0 || ::pipe(report) != 0) return 1;
  std::vector<pid_t> children;
  for (int p = 0; p < settings->processes; ++p) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(go[1]);
      ::close(report[0]);
      claim_until_empty(*settings, p, go[0], report[1]);
    }
    children.push_back(pid);
  }
  ::close(go[0]);
  ::close(report[1]);
  // Every process has connected (or is about to): start them at once.
  ::sleep(1);
  const auto started = Clock::now();
  const std::string starts(static_cast<std::size_t>(settings->processes), 'g');
  if (::write(go[1], starts.data(), starts.size()) != static_cast<ssize_t>(starts.size())) return 1;
  bool failed = false;
  for (const pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    failed = failed || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  long claimed = 0;
  long busy = 0;
  FILE* counts = ::fdopen(report[0], "r");
  for (long n = 0, b = 0; std::fscanf(counts, "%ld %ld", &n, &b) == 2;) {
    claimed += n;
    busy += b;
  }
  std::fclose(counts);
  if (failed) return 1;
  std::printf(
      "{\"store\": \"%s\", \"processes\": %d, \"pages\": %ld, \"seconds\": %.3f, \"claims_per_second\": %.1f, "
      "\"store_busy\": %ld}\n",
      settings->store.kind == jobs::StoreLocation::Kind::sqlite ? "sqlite" : "postgres", settings->processes, claimed,
      seconds, static_cast<double>(claimed) / seconds, busy);
  return 0;
}

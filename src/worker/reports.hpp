#pragma once
// How a supervised worker process tells its server what it did, for the
// server's metrics: one line per event on a pipe (the child's stdout).
//   page <TAB> model <TAB> engine <TAB> outcome <TAB> seconds
//   busy <TAB> count

#include <sys/types.h>

#include <map>
#include <mutex>
#include <string_view>

#include "worker/worker_pool.hpp"

namespace visor::worker {

// Writes a pool's reports as lines to `fd`. Thread-safe.
class LineReporter final : public PoolObserver {
 public:
  explicit LineReporter(int fd) : fd_(fd) {}
  void page_processed(const std::string& model, const std::string& engine, std::string_view outcome,
                      double seconds) override;
  void busy_workers(int count) override;

 private:
  void write_line(const std::string& line);
  int fd_;
  std::mutex mutex_;
};

// Replays one report line on `observer`; false for a line that is not a
// report (it is ignored).
bool replay_report(std::string_view line, PoolObserver& observer);

// Merges the reports of several worker processes into one observer: page
// reports pass through, busy counts are summed across processes. Thread-safe.
class ProcessReports {
 public:
  explicit ProcessReports(PoolObserver& sink) : sink_(sink) {}
  void replay(pid_t pid, std::string_view line);

 private:
  class PerProcess;
  PoolObserver& sink_;
  std::mutex mutex_;
  std::map<pid_t, int> busy_;
};

}  // namespace visor::worker

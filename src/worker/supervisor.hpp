#pragma once
// Runs worker processes and restarts any that die, so a document that
// crashes MuPDF or Tesseract (segfault, abort, out of memory) costs one
// worker process, never the API. Linux only (posix_spawn, waitpid).

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/periodic.hpp"

namespace visor::worker {

struct SupervisorOptions {
  std::vector<std::string> argv;  // a child's command line; argv[0] is the executable
  std::vector<std::string> environment;  // "NAME=value" added to a child's environment
  int processes = 2;
  std::chrono::milliseconds stop_grace{std::chrono::seconds(10)};
};

class Supervisor {
 public:
  // Called when a child ends on its own (crash, abort, non-zero exit),
  // before it is replaced, or is killed at shutdown after the grace period:
  // `how` says how it ended, e.g. "killed by signal 11 (Segmentation fault)".
  using ExitHandler = std::function<void(pid_t pid, const std::string& how)>;
  // Called on the supervising thread with each line a child writes to its
  // stdout (a pipe), without the line break; after a child ends, with
  // "busy\t0" so its report of busy workers is withdrawn.
  using ReportHandler = std::function<void(pid_t pid, std::string_view line)>;

  // Starts the children at once.
  Supervisor(SupervisorOptions options, ExitHandler on_unexpected_exit, ReportHandler on_report = {});
  // SIGTERM to every child (they finish or release their pages), SIGKILL to
  // those still running after stop_grace.
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Wakes idle children (SIGUSR1): new work is in the store. Thread-safe.
  void notify_work();
  int running() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
  util::PeriodicThread reaper_;  // last: reaps and restarts once state exists
};

}  // namespace visor::worker

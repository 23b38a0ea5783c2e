#pragma once
// A fork server: a helper process, started once with exec, that forks a
// fresh child for each request. Each child is a new process, as isolated as
// a spawned program (its own address space, limits and process group; it
// ends after one request), but costs a fork instead of an exec: starting a
// large binary with its libraries costs milliseconds of CPU, a fork of a
// small single-threaded process a fraction of one.
//
// The two sides:
// - ForkServer, in the caller, is a ChildLauncher for run_bounded(). It
//   starts the helper on first use and again after it died.
// - serve_forks(), in the helper, answers requests until the caller goes
//   away; each child runs a handler on the request's arguments.

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "util/process.hpp"

namespace visor::util {

class ForkServer final : public ChildLauncher {
 public:
  // `argv` starts the helper, a program that calls serve_forks() on its
  // stdin. The helper inherits the caller's stderr and environment.
  explicit ForkServer(std::vector<std::string> argv);
  // Ends the helper, which kills the children it still has.
  ~ForkServer() override;
  ForkServer(const ForkServer&) = delete;
  ForkServer& operator=(const ForkServer&) = delete;

  // The child runs the helper's handler on `argv`. Limits are set by the
  // child itself before the handler runs.
  Result<ChildId> start(const std::vector<std::string>& argv, const ChildStreams& streams,
                        const ChildLimits& limits) override;
  void kill(ChildId child) override;
  Result<std::optional<int>> wait_until(ChildId child, Clock::time_point deadline) override;

  // The helper's pid, or -1 while none runs. For tests and diagnostics.
  pid_t helper_pid() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// The helper's side: serves the requests of a ForkServer arriving on
// `control` (its stdin) until the ForkServer closes it or its process
// ends, then kills its remaining children and returns. Each request forks a
// child that sets its limits, takes the request's streams as its stdin,
// stdout and stderr, closes every other descriptor, restores default signal
// handling, and exits with handler(argv).
// REQUIRES: called in a single-threaded process.
int serve_forks(int control, const std::function<int(const std::vector<std::string>&)>& handler);

}  // namespace visor::util

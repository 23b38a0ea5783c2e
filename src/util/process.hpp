#pragma once
// Child processes: spawning one with chosen standard streams, and running a
// short-lived one bounded in memory, CPU time, wall time and output, for
// work that must not be able to harm its parent. Linux only (posix_spawn,
// prlimit).

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace visor::util {

struct SpawnOptions {
  // The descriptors the child gets as its stdin, stdout and stderr; -1
  // keeps the parent's.
  int in = -1;
  int out = -1;
  int err = -1;
  // Starts a process group of its own, so that kill(-pid) also reaches
  // any process it starts.
  bool new_process_group = false;
  // Signals blocked in the child from its first instruction. A worker blocks
  // SIGUSR1 ("new work") so that one sent while it is still loading waits
  // for its sigwait() instead of killing it.
  std::vector<int> blocked_signals;
  // "NAME=value" entries that replace or add to the parent's environment:
  // for settings a command line would show to every user of the host
  // (a database password).
  std::vector<std::string> environment;
};

// Starts argv[0] (a path, not searched in PATH) with the parent's
// environment (and options.environment), default signal handling and a signal mask of only
// options.blocked_signals, whatever the calling thread has blocked. The child inherits no descriptor above
// stderr, so it holds none of the parent's sockets or pipes.
// unavailable when the program cannot be started.
Result<pid_t> spawn_process(const std::vector<std::string>& argv, const SpawnOptions& options = {});

// How a child ended, from a waitpid() status: "exited with status 3",
// "killed by signal 9 (Killed)".
std::string describe_exit(int wait_status);

struct ChildLimits {
  // Address space (RLIMIT_AS) in bytes; 0 leaves it unlimited.
  std::uint64_t address_space_bytes = 0;
  // CPU time (RLIMIT_CPU): SIGXCPU at the limit, SIGKILL a second later;
  // zero leaves it unlimited.
  std::chrono::seconds cpu_time{0};
  // The child is killed (SIGKILL) when it runs longer than this.
  std::chrono::milliseconds wall_time{std::chrono::seconds(30)};
  // The child is killed when its stdout grows beyond this.
  std::size_t max_output_bytes = std::size_t{64} << 20;
};

struct ChildRun {
  int wait_status = 0;           // as waitpid() reports it
  bool timed_out = false;        // killed at ChildLimits::wall_time
  bool output_too_large = false;  // killed at ChildLimits::max_output_bytes
  std::string output;            // everything it wrote to stdout, up to the limit
  std::string errors;            // the first 4 KiB it wrote to stderr
  std::chrono::milliseconds elapsed{0};

  // Exited on its own with status 0, within every limit.
  bool succeeded() const;
  // Ended on its own with `code` (not killed, not by a signal).
  bool exited_with(int code) const;
  // The signal that ended it when it was not killed by the parent; 0 otherwise.
  int crash_signal() const;
};

// The descriptors a launched child gets as its stdin, stdout and stderr.
struct ChildStreams {
  int in = -1;
  int out = -1;
  int err = -1;
};

// How run_bounded starts a child, stops it and learns how it ended. Two
// ways exist: spawning a program for each child (spawn_launcher(), simple,
// costs an exec per child) and asking a fork server that was started once
// (util/fork_server.hpp, costs a fork).
// Thread safety: every method may be called from any thread, concurrently.
class ChildLauncher {
 public:
  using Clock = std::chrono::steady_clock;
  using ChildId = std::uint64_t;

  virtual ~ChildLauncher() = default;

  // Starts `argv` with `streams` as its standard streams (the caller closes
  // its copies afterwards), in a process group of its own, with no other
  // descriptor of the caller, and within `limits`' address space and CPU
  // time and without a core file from before it reads its first byte of
  // input. unavailable when it cannot be started.
  virtual Result<ChildId> start(const std::vector<std::string>& argv, const ChildStreams& streams,
                                const ChildLimits& limits) = 0;
  // SIGKILL to the child's process group; nothing once it has ended.
  virtual void kill(ChildId child) = 0;
  // Its waitpid() status once it has ended, or nullopt when `deadline`
  // comes first; unavailable when how it ended can no longer be known.
  // After a status is returned, the id is forgotten.
  virtual Result<std::optional<int>> wait_until(ChildId child, Clock::time_point deadline) = 0;
};

// Spawns argv[0] (a path) for each child; stateless, shared.
ChildLauncher& spawn_launcher();

// Runs `argv` through `launcher` with `input` (its parts one after the
// other) on its stdin and collects its stdout and stderr, enforcing
// `limits`; a kill reaches its whole process group. A child that reads
// untrusted data only from stdin reads all of it under the limits. Never
// blocks beyond limits.wall_time (plus the time to reap a killed child).
// Errors: unavailable when the child cannot be started or its end cannot
// be learnt; every way the child itself ends (crash, timeout, non-zero
// exit) is a ChildRun for the caller to judge.
// Thread safety: any thread; children run concurrently.
Result<ChildRun> run_bounded(ChildLauncher& launcher, const std::vector<std::string>& argv,
                             const std::vector<std::string_view>& input, const ChildLimits& limits);

// run_bounded(spawn_launcher(), ...).
Result<ChildRun> run_bounded(const std::vector<std::string>& argv, const std::vector<std::string_view>& input,
                             const ChildLimits& limits);

}  // namespace visor::util

#include "worker/supervisor.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <array>
#include <cstring>
#include <mutex>
#include <thread>

#include "util/log.hpp"
#include "util/process.hpp"

namespace visor::worker {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kReapInterval = std::chrono::milliseconds(100);
// A child that dies sooner than this after starting is crash-looping (a bad
// engine setup, not a bad page): restart it ever more slowly.
constexpr auto kHealthyRun = std::chrono::seconds(5);
constexpr auto kLongestRestartDelay = std::chrono::seconds(30);

}  // namespace

struct Supervisor::State {
  struct Slot {
    pid_t pid = -1;
    int reports = -1;     // read end of the child's stdout
    std::string partial;  // the unfinished last line read from it
    Clock::time_point started{};
    Clock::time_point restart_at{};
    std::chrono::milliseconds delay{500};
  };

  SupervisorOptions options;
  ExitHandler on_exit;
  ReportHandler on_report;
  mutable std::mutex mutex;
  std::vector<Slot> slots;
  bool stopping = false;

  void start(Slot& slot) {
    int pipe_fds[2] = {-1, -1};
    const bool piped = on_report && ::pipe2(pipe_fds, O_CLOEXEC) == 0;
    auto pid = util::spawn_process(options.argv, {.out = piped ? pipe_fds[1] : -1, .blocked_signals = {SIGUSR1}, .environment = options.environment});
    if (!pid) util::log_error("worker.spawn_failed", {{"command", options.argv[0]}, {"error", pid.error().message}});
    slot.pid = pid ? *pid : -1;
    slot.started = Clock::now();
    if (piped) {
      ::close(pipe_fds[1]);
      ::fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);
      slot.reports = pipe_fds[0];
      slot.partial.clear();
    }
    if (slot.pid > 0) util::log_info("worker.started_process", {{"pid", std::to_string(slot.pid)}});
  }

  // Hands every complete line the child has written to on_report.
  void read_reports(Slot& slot) {
    if (slot.reports < 0) return;
    std::array<char, 4096> buffer;
    for (;;) {
      const ssize_t n = ::read(slot.reports, buffer.data(), buffer.size());
      if (n <= 0) break;
      slot.partial.append(buffer.data(), static_cast<std::size_t>(n));
    }
    std::size_t start = 0;
    for (auto end = slot.partial.find('\n'); end != std::string::npos; end = slot.partial.find('\n', start)) {
      on_report(slot.pid, std::string_view(slot.partial).substr(start, end - start));
      start = end + 1;
    }
    slot.partial.erase(0, start);
  }

  void close_reports(Slot& slot) {
    if (slot.reports < 0) return;
    ::close(slot.reports);
    slot.reports = -1;
    on_report(slot.pid, "busy\t0");
  }

  // Reaps children that ended and restarts them after their delay.
  void tick() {
    std::unique_lock lock(mutex);
    if (stopping) return;
    const auto now = Clock::now();
    for (Slot& slot : slots) {
      if (slot.pid > 0) {
        read_reports(slot);
        int status = 0;
        if (waitpid(slot.pid, &status, WNOHANG) != slot.pid) continue;
        read_reports(slot);
        close_reports(slot);
        const pid_t dead = slot.pid;
        const bool crash_loop = now - slot.started < kHealthyRun;
        slot.delay = crash_loop ? std::min<std::chrono::milliseconds>(slot.delay * 2, kLongestRestartDelay)
                                : std::chrono::milliseconds(500);
        slot.pid = -1;
        slot.restart_at = now + slot.delay;
        const std::string how = util::describe_exit(status);
        util::log_error("worker.died", {{"pid", std::to_string(dead)}, {"how", how}});
        lock.unlock();
        if (on_exit) on_exit(dead, how);
        lock.lock();
        if (stopping) return;
      } else if (now >= slot.restart_at) {
        start(slot);
      }
    }
  }

  void stop() {
    std::vector<pid_t> pids;
    {
      const std::lock_guard lock(mutex);
      stopping = true;
      for (Slot& slot : slots) {
        if (slot.pid > 0) pids.push_back(slot.pid);
        // Reports are not read any more; children ignore SIGPIPE and
        // go on stopping.
        if (slot.reports >= 0) ::close(slot.reports);
        slot.reports = -1;
      }
    }
    for (pid_t pid : pids) kill(pid, SIGTERM);
    const auto deadline = Clock::now() + options.stop_grace;
    for (pid_t pid : pids) {
      int status = 0;
      while (waitpid(pid, &status, WNOHANG) == 0) {
        if (Clock::now() >= deadline) {
          util::log_warn("worker.killed", {{"pid", std::to_string(pid)}, {"reason", "still running at shutdown"}});
          kill(pid, SIGKILL);
          waitpid(pid, &status, 0);
          // Its pages go back to the queue now, not when their leases end.
          if (on_exit) on_exit(pid, "killed at shutdown, still busy after the grace period");
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  }
};

Supervisor::Supervisor(SupervisorOptions options, ExitHandler on_unexpected_exit, ReportHandler on_report)
    : state_([&] {
        auto state = std::make_unique<State>();
        state->options = std::move(options);
        state->on_exit = std::move(on_unexpected_exit);
        state->on_report = std::move(on_report);
        state->slots.resize(static_cast<std::size_t>(std::max(0, state->options.processes)));
        for (auto& slot : state->slots) state->start(slot);
        return state;
      }()),
      reaper_(kReapInterval, [this] { state_->tick(); }) {}

Supervisor::~Supervisor() { state_->stop(); }

void Supervisor::notify_work() {
  const std::lock_guard lock(state_->mutex);
  for (const auto& slot : state_->slots) {
    if (slot.pid > 0) kill(slot.pid, SIGUSR1);
  }
}

int Supervisor::running() const {
  const std::lock_guard lock(state_->mutex);
  int count = 0;
  for (const auto& slot : state_->slots) count += slot.pid > 0 ? 1 : 0;
  return count;
}

}  // namespace visor::worker

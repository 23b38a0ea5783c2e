#include "util/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <thread>

#include "util/fd.hpp"

extern char** environ;

namespace visor::util {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxErrorBytes = 4096;

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// The two ends of a pipe, both close-on-exec so that no other child
// spawned meanwhile inherits them (a leaked write end would keep the
// reader from ever seeing end of file).
Status make_pipe(Fd& read_end, Fd& write_end) {
  int fds[2] = {-1, -1};
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error::unavailable(errno_text("Cannot create a pipe"));
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  return {};
}

// A socket pair rather than a pipe for the child's stdin: send() with
// MSG_NOSIGNAL reports a child that stopped reading as EPIPE instead of
// raising SIGPIPE in the parent, which would end it.
Status make_input_channel(Fd& parent_end, Fd& child_end) {
  int fds[2] = {-1, -1};
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return Error::unavailable(errno_text("Cannot create a socket pair"));
  }
  parent_end.reset(fds[0]);
  child_end.reset(fds[1]);
  ::shutdown(parent_end.get(), SHUT_RD);
  return {};
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// prlimit() takes the resource as glibc's enum, unlike setrlimit() in C++.
void set_limit(pid_t pid, decltype(RLIMIT_AS) resource, rlim_t soft, rlim_t hard) {
  const rlimit limit{soft, hard};
  ::prlimit(pid, resource, &limit, nullptr);
}

// Fails silently when the child has already ended: waitpid tells how.
void apply_limits(pid_t pid, const ChildLimits& limits) {
  set_limit(pid, RLIMIT_CORE, 0, 0);
  if (limits.address_space_bytes > 0) {
    set_limit(pid, RLIMIT_AS, limits.address_space_bytes, limits.address_space_bytes);
  }
  if (limits.cpu_time.count() > 0) {
    const auto seconds = static_cast<rlim_t>(limits.cpu_time.count());
    set_limit(pid, RLIMIT_CPU, seconds, seconds + 1);
  }
}

int milliseconds_until(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 60'000));
}

// Feeds the input parts to the child's stdin, as much as it takes at a time.
class InputWriter {
 public:
  InputWriter(Fd fd, const std::vector<std::string_view>& parts) : fd_(std::move(fd)), parts_(parts) {
    skip_empty_parts();
    if (part_ == parts_.size()) fd_.reset();  // end of file at once
  }

  int fd() const { return fd_.get(); }

  // Writes what the socket takes now; closes it after the last byte, or
  // when the child stopped reading (it will answer or fail on its own).
  void write_some() {
    while (fd_.open()) {
      const std::string_view part = parts_[part_].substr(offset_);
      const ssize_t n = ::send(fd_.get(), part.data(), part.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) fd_.reset();
        return;
      }
      offset_ += static_cast<std::size_t>(n);
      skip_empty_parts();
      if (part_ == parts_.size()) fd_.reset();
    }
  }

 private:
  void skip_empty_parts() {
    while (part_ < parts_.size() && offset_ >= parts_[part_].size()) {
      ++part_;
      offset_ = 0;
    }
  }

  Fd fd_;
  const std::vector<std::string_view>& parts_;
  std::size_t part_ = 0;
  std::size_t offset_ = 0;
};

// Appends what `fd` holds now to `into`, keeping at most `keep` bytes in
// all and dropping the rest; returns false at end of file or on an error.
// Returns as soon as `into` is full, so a child writing without end cannot
// hold the caller here past its deadline.
bool read_available(int fd, std::string& into, std::size_t keep) {
  std::array<char, 65536> buffer;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    if (n == 0) return false;
    const std::size_t room = keep - std::min(keep, into.size());
    into.append(buffer.data(), std::min(room, static_cast<std::size_t>(n)));
    if (into.size() >= keep) return true;
  }
}

// Spawns a program per child; the child id is its pid.
class SpawnLauncher final : public ChildLauncher {
 public:
  Result<ChildId> start(const std::vector<std::string>& argv, const ChildStreams& streams,
                        const ChildLimits& limits) override {
    auto pid = spawn_process(argv, {.in = streams.in,
                                    .out = streams.out,
                                    .err = streams.err,
                                    .new_process_group = true,
                                    .blocked_signals = {},
                                    .environment = {}});
    if (!pid) return pid.take_error();
    apply_limits(*pid, limits);
    return static_cast<ChildId>(*pid);
  }

  void kill(ChildId child) override { ::kill(-static_cast<pid_t>(child), SIGKILL); }

  Result<std::optional<int>> wait_until(ChildId child, Clock::time_point deadline) override {
    const auto pid = static_cast<pid_t>(child);
    int status = 0;
    auto pause = std::chrono::microseconds(200);
    for (;;) {
      const pid_t done = ::waitpid(pid, &status, deadline == Clock::time_point::max() ? 0 : WNOHANG);
      if (done == pid) return std::optional<int>(status);
      if (done < 0 && errno != EINTR) return Error::unavailable(errno_text("Cannot wait for a child process"));
      if (Clock::now() >= deadline) return std::optional<int>();
      std::this_thread::sleep_for(pause);
      pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(10));
    }
  }
};

// Waits for the child to end, killing it at `deadline`.
Result<int> reap(ChildLauncher& launcher, ChildLauncher::ChildId child, Clock::time_point deadline,
                 bool& timed_out) {
  auto status = launcher.wait_until(child, deadline);
  if (!status) return status.take_error();
  if (*status) return **status;
  timed_out = true;
  launcher.kill(child);
  auto killed = launcher.wait_until(child, Clock::time_point::max());
  if (!killed) return killed.take_error();
  return killed->value_or(0);
}

// The parent's environment with `overrides` ("NAME=value") replacing or
// adding variables. The pointers are into `overrides` and environ.
std::vector<char*> environment_with(const std::vector<std::string>& overrides) {
  std::vector<char*> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view variable(*entry);
    const auto name = variable.substr(0, variable.find('=') + 1);
    const bool replaced = std::any_of(overrides.begin(), overrides.end(),
                                      [&](const std::string& o) { return o.starts_with(name); });
    if (!replaced) env.push_back(*entry);
  }
  for (const std::string& entry : overrides) env.push_back(const_cast<char*>(entry.c_str()));
  env.push_back(nullptr);
  return env;
}

}  // namespace

Result<pid_t> spawn_process(const std::vector<std::string>& argv, const SpawnOptions& options) {
  if (argv.empty()) return Error::internal("spawn_process needs a command line");
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t blocked;
  sigset_t defaults;
  sigemptyset(&blocked);
  for (int sig : options.blocked_signals) sigaddset(&blocked, sig);
  sigemptyset(&defaults);
  for (int sig : {SIGTERM, SIGINT, SIGUSR1, SIGPIPE, SIGXCPU}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attributes, &blocked);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (options.new_process_group) {
    posix_spawnattr_setpgroup(&attributes, 0);
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  posix_spawnattr_setflags(&attributes, flags);

  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  if (options.in >= 0) posix_spawn_file_actions_adddup2(&files, options.in, STDIN_FILENO);
  if (options.out >= 0) posix_spawn_file_actions_adddup2(&files, options.out, STDOUT_FILENO);
  if (options.err >= 0) posix_spawn_file_actions_adddup2(&files, options.err, STDERR_FILENO);
  posix_spawn_file_actions_addclosefrom_np(&files, STDERR_FILENO + 1);

  pid_t pid = 0;
  std::vector<char*> env = environment_with(options.environment);
  const int rc = ::posix_spawn(&pid, args[0], &files, &attributes, args.data(), env.data());
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) return Error::unavailable("Cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

std::string describe_exit(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    return "killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
}

bool ChildRun::succeeded() const { return exited_with(0); }

bool ChildRun::exited_with(int code) const {
  return !timed_out && !output_too_large && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == code;
}

int ChildRun::crash_signal() const {
  if (timed_out || output_too_large || !WIFSIGNALED(wait_status)) return 0;
  return WTERMSIG(wait_status);
}

ChildLauncher& spawn_launcher() {
  static SpawnLauncher launcher;
  return launcher;
}

Result<ChildRun> run_bounded(const std::vector<std::string>& argv, const std::vector<std::string_view>& input,
                             const ChildLimits& limits) {
  return run_bounded(spawn_launcher(), argv, input, limits);
}

Result<ChildRun> run_bounded(ChildLauncher& launcher, const std::vector<std::string>& argv,
                             const std::vector<std::string_view>& input, const ChildLimits& limits) {
  const auto started = Clock::now();
  const auto deadline = started + limits.wall_time;
  Fd input_parent, input_child, output_read, output_write, errors_read, errors_write;
  for (Status s : {make_input_channel(input_parent, input_child), make_pipe(output_read, output_write),
                   make_pipe(errors_read, errors_write)}) {
    if (!s) return s.take_error();
  }
  auto child = launcher.start(argv, {.in = input_child.get(), .out = output_write.get(), .err = errors_write.get()},
                              limits);
  input_child.reset();
  output_write.reset();
  errors_write.reset();
  if (!child) return child.take_error();

  ChildRun run;
  set_nonblocking(input_parent.get());
  set_nonblocking(output_read.get());
  set_nonblocking(errors_read.get());
  InputWriter writer(std::move(input_parent), input);
  bool killed = false;
  while (output_read.open() || errors_read.open() || writer.fd() >= 0) {
    if (Clock::now() >= deadline) {
      run.timed_out = true;
      killed = true;
      break;
    }
    std::array<pollfd, 3> fds{{{writer.fd(), POLLOUT, 0}, {output_read.get(), POLLIN, 0}, {errors_read.get(), POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), milliseconds_until(deadline)) < 0 && errno != EINTR) break;
    if (fds[0].revents != 0) writer.write_some();
    if (fds[1].revents != 0) {
      if (!read_available(output_read.get(), run.output, limits.max_output_bytes + 1)) output_read.reset();
      if (run.output.size() > limits.max_output_bytes) {
        run.output_too_large = true;
        run.output.resize(limits.max_output_bytes);
        killed = true;
        break;
      }
    }
    if (fds[2].revents != 0 && !read_available(errors_read.get(), run.errors, kMaxErrorBytes)) errors_read.reset();
  }
  if (killed) launcher.kill(*child);
  auto status = reap(launcher, *child, deadline, run.timed_out);
  if (!status) return status.take_error();
  run.wait_status = *status;
  run.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  return run;
}

}  // namespace visor::util

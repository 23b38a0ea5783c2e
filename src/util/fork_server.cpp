// The wire between ForkServer and serve_forks() is a SOCK_SEQPACKET socket
// pair: each message arrives whole, and a fork request carries the child's
// three standard streams as SCM_RIGHTS descriptors. Every message starts
// with a Header; a fork request adds its arguments, each ending in '\0'.
// Both ends run the same binary, so the header is sent as it lies in memory.

#include "util/fork_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "util/fd.hpp"

namespace visor::util {
namespace {

enum class MessageType : std::uint8_t {
  fork = 1,         // caller → helper: start a child (arguments, 3 descriptors)
  kill = 2,         // caller → helper: SIGKILL the child's group if it still runs
  started = 3,      // helper → caller: value is the child's pid
  not_started = 4,  // helper → caller: value is fork()'s errno
  ended = 5,        // helper → caller: value is the waitpid() status
};

struct Header {
  MessageType type = MessageType::fork;
  std::uint64_t id = 0;
  std::int64_t value = 0;
  std::uint64_t address_space_bytes = 0;  // fork only; 0 for no limit
  std::int64_t cpu_seconds = 0;           // fork only; 0 for no limit
};

constexpr std::size_t kMaxMessageBytes = 64 << 10;
constexpr int kStreamCount = 3;
// How long the caller waits for the helper to confirm a fork before it
// takes the helper for broken.
constexpr auto kForkAnswerTime = std::chrono::seconds(10);
// The exit status of a child whose handler threw.
constexpr int kHandlerFailed = 70;

struct Message {
  Header header;
  std::vector<std::string> arguments;
  std::vector<Fd> descriptors;
};

bool send_message(int socket, const Header& header, const std::vector<std::string>& arguments = {},
                  const std::array<int, kStreamCount>* descriptors = nullptr) {
  std::string bytes(sizeof(Header), '\0');
  std::memcpy(bytes.data(), &header, sizeof(Header));
  for (const std::string& argument : arguments) bytes.append(argument).push_back('\0');
  if (bytes.size() > kMaxMessageBytes) return false;
  iovec data{bytes.data(), bytes.size()};
  msghdr message{};
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * kStreamCount)> control{};
  if (descriptors != nullptr) {
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    cmsghdr* rights = CMSG_FIRSTHDR(&message);
    rights->cmsg_level = SOL_SOCKET;
    rights->cmsg_type = SCM_RIGHTS;
    rights->cmsg_len = CMSG_LEN(sizeof(int) * kStreamCount);
    std::memcpy(CMSG_DATA(rights), descriptors->data(), sizeof(int) * kStreamCount);
  }
  for (;;) {
    const ssize_t sent = ::sendmsg(socket, &message, MSG_NOSIGNAL);
    if (sent >= 0) return static_cast<std::size_t>(sent) == bytes.size();
    if (errno != EINTR) return false;
  }
}

// The next whole message; nullopt at end of file or on an error.
std::optional<Message> receive_message(int socket) {
  std::string bytes(kMaxMessageBytes, '\0');
  iovec data{bytes.data(), bytes.size()};
  msghdr message{};
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * kStreamCount)> control{};
  message.msg_control = control.data();
  message.msg_controllen = control.size();
  ssize_t received = -1;
  do {
    received = ::recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
  } while (received < 0 && errno == EINTR);
  if (received < static_cast<ssize_t>(sizeof(Header))) return std::nullopt;

  Message out;
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      out.descriptors.emplace_back(fd);
    }
  }
  std::memcpy(&out.header, bytes.data(), sizeof(Header));
  std::string_view rest(bytes.data() + sizeof(Header), static_cast<std::size_t>(received) - sizeof(Header));
  while (!rest.empty()) {
    const auto end = rest.find('\0');
    out.arguments.emplace_back(rest.substr(0, end));
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
  }
  return out;
}

// --- The helper's side --------------------------------------------------

void set_own_limit(decltype(RLIMIT_AS) resource, rlim_t soft, rlim_t hard) {
  const rlimit limit{soft, hard};
  ::setrlimit(resource, &limit);
}

// In the forked child of `helper`: becomes the process the request asked
// for, then runs the handler. Never returns.
[[noreturn]] void become_child(const Message& request, pid_t helper,
                               const std::function<int(const std::vector<std::string>&)>& handler) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // A helper that died before the line above sends no signal: the caller
  // has given this request up (and may give its streams to a new child).
  if (::getppid() != helper) ::_exit(kHandlerFailed);
  set_own_limit(RLIMIT_CORE, 0, 0);
  if (request.header.address_space_bytes > 0) {
    set_own_limit(RLIMIT_AS, request.header.address_space_bytes, request.header.address_space_bytes);
  }
  if (request.header.cpu_seconds > 0) {
    const auto seconds = static_cast<rlim_t>(request.header.cpu_seconds);
    set_own_limit(RLIMIT_CPU, seconds, seconds + 1);
  }
  for (int stream = 0; stream < kStreamCount; ++stream) ::dup2(request.descriptors[stream].get(), stream);
  ::closefrom(kStreamCount);
  for (int sig : {SIGTERM, SIGINT, SIGUSR1, SIGPIPE, SIGXCPU, SIGCHLD}) ::signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  int code = kHandlerFailed;
  try {
    code = handler(request.arguments);
  } catch (...) {
  }
  ::_exit(code);
}

class Helper {
 public:
  Helper(int control, const std::function<int(const std::vector<std::string>&)>& handler)
      : control_(control), handler_(handler) {}

  // Each returns false when an answer could not be sent: the caller would
  // wait for it forever, so the helper then ends (the caller sees its
  // socket close and counts the children lost).
  bool fork_child(const Message& request) {
    Header answer{.type = MessageType::not_started, .id = request.header.id};
    if (request.descriptors.size() != kStreamCount) {
      answer.value = EINVAL;
      return send_message(control_, answer);
    }
    const pid_t pid = ::fork();
    if (pid == 0) become_child(request, self_, handler_);
    if (pid < 0) {
      answer.value = errno;
    } else {
      ::setpgid(pid, pid);  // also here, so that a kill right away reaches the group
      running_[pid] = request.header.id;
      answer.type = MessageType::started;
      answer.value = pid;
    }
    return send_message(control_, answer);
  }

  void kill_child(std::uint64_t id) {
    for (const auto& [pid, child_id] : running_) {
      if (child_id == id) ::kill(-pid, SIGKILL);
    }
  }

  // Reports every child that has ended.
  bool reap() {
    int status = 0;
    pid_t pid = 0;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      const auto it = running_.find(pid);
      if (it == running_.end()) continue;
      const std::uint64_t id = it->second;
      running_.erase(it);
      if (!send_message(control_, {.type = MessageType::ended, .id = id, .value = status})) return false;
    }
    return true;
  }

  void kill_all() {
    for (const auto& [pid, id] : running_) ::kill(-pid, SIGKILL);
    int status = 0;
    while (::waitpid(-1, &status, 0) > 0 || errno == EINTR) {
    }
    running_.clear();
  }

 private:
  int control_;
  const pid_t self_ = ::getpid();
  const std::function<int(const std::vector<std::string>&)>& handler_;
  std::map<pid_t, std::uint64_t> running_;
};

}  // namespace

int serve_forks(int control, const std::function<int(const std::vector<std::string>&)>& handler) {
  // The helper ends when its caller's socket closes, which also happens
  // when the caller dies. It ignores the signals a service manager or a
  // terminal sends to all processes on stop, so that the caller can drain:
  // its children get default handling back. (No parent-death signal: that
  // follows the caller's thread that started the helper, not the process.)
  ::signal(SIGTERM, SIG_IGN);
  ::signal(SIGINT, SIG_IGN);
  sigset_t child_signal;
  sigemptyset(&child_signal);
  sigaddset(&child_signal, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &child_signal, nullptr);
  Fd children_ended(::signalfd(-1, &child_signal, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!children_ended.open()) return 1;

  Helper helper(control, handler);
  for (;;) {
    std::array<pollfd, 2> fds{{{control, POLLIN, 0}, {children_ended.get(), POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents != 0) {
      signalfd_siginfo info;
      while (::read(children_ended.get(), &info, sizeof(info)) > 0) {
      }
      if (!helper.reap()) break;
    }
    if (fds[0].revents == 0) continue;
    std::optional<Message> request = receive_message(control);
    if (!request) break;  // the caller closed its end or ended
    if (request->header.type == MessageType::fork && !helper.fork_child(*request)) break;
    if (request->header.type == MessageType::kill) helper.kill_child(request->header.id);
  }
  helper.kill_all();
  return 0;
}

// --- The caller's side --------------------------------------------------

struct ForkServer::State : std::enable_shared_from_this<State> {
  struct Child {
    std::uint64_t incarnation = 0;  // of the helper that runs it
    pid_t pid = -1;
    bool started = false;
    bool ended = false;
    bool lost = false;  // its helper ended first: how the child ended is unknown
    std::optional<Clock::time_point> killed_at;
    int status = 0;
    int fork_error = 0;
  };

  explicit State(std::vector<std::string> helper_argv) : argv(std::move(helper_argv)) {}

  const std::vector<std::string> argv;
  mutable std::mutex mutex;
  std::condition_variable changed;
  // The running helper (-1 when none) and our end of its socket. Each helper
  // is an incarnation; its reader thread owns a duplicate of the socket and
  // ends when the helper closes its end or we shut ours down.
  pid_t helper = -1;
  Fd control;
  std::uint64_t incarnation = 0;
  std::uint64_t gone_incarnation = 0;  // the latest incarnation whose socket closed
  ChildId next_id = 1;
  std::map<ChildId, Child> children;

  // REQUIRES: mutex held.
  Status ensure_helper() {
    if (helper >= 0 && gone_incarnation != incarnation) return {};
    stop_helper();
    int fds[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
      return Error::unavailable(std::string("Cannot create a socket pair: ") + std::strerror(errno));
    }
    Fd ours(fds[0]);
    Fd theirs(fds[1]);
    Fd for_reader(::fcntl(ours.get(), F_DUPFD_CLOEXEC, 0));
    if (!for_reader.open()) return Error::unavailable(std::string("Cannot duplicate a socket: ") + std::strerror(errno));
    // A group of its own: a terminal's Ctrl-C is for the caller, which stops
    // the helper when it is done.
    auto pid = spawn_process(argv, {.in = theirs.get(), .new_process_group = true, .blocked_signals = {}, .environment = {}});
    if (!pid) return pid.take_error();
    helper = *pid;
    control = std::move(ours);
    ++incarnation;
    std::thread([self = shared_from_this(), socket = std::move(for_reader), current = incarnation]() mutable {
      self->read_answers(std::move(socket), current);
    }).detach();
    return {};
  }

  // Ends the running helper, if any; its children are lost (they die with
  // it: their parent-death signal is SIGKILL). REQUIRES: mutex held.
  void stop_helper() {
    if (helper < 0) return;
    ::shutdown(control.get(), SHUT_RDWR);  // ends the reader of this incarnation
    control.reset();
    ::kill(helper, SIGKILL);
    while (::waitpid(helper, nullptr, 0) < 0 && errno == EINTR) {
    }
    helper = -1;
    mark_lost(incarnation);
  }

  // REQUIRES: mutex held.
  void mark_lost(std::uint64_t of_incarnation) {
    for (auto& [id, child] : children) {
      if (child.incarnation == of_incarnation && !child.ended) child.lost = true;
    }
    changed.notify_all();
  }

  void read_answers(Fd socket, std::uint64_t own_incarnation) {
    for (;;) {
      std::optional<Message> answer = receive_message(socket.get());
      const std::lock_guard lock(mutex);
      if (!answer) {
        gone_incarnation = std::max(gone_incarnation, own_incarnation);
        mark_lost(own_incarnation);
        return;
      }
      const auto it = children.find(answer->header.id);
      if (it == children.end() || it->second.incarnation != own_incarnation) continue;
      Child& child = it->second;
      switch (answer->header.type) {
        case MessageType::started:
          child.started = true;
          child.pid = static_cast<pid_t>(answer->header.value);
          break;
        case MessageType::not_started:
          child.fork_error = static_cast<int>(answer->header.value);
          break;
        case MessageType::ended:
          child.ended = true;
          child.status = static_cast<int>(answer->header.value);
          break;
        default:
          break;
      }
      changed.notify_all();
    }
  }
};

ForkServer::ForkServer(std::vector<std::string> argv) : state_(std::make_shared<State>(std::move(argv))) {}

ForkServer::~ForkServer() {
  const std::lock_guard lock(state_->mutex);
  state_->stop_helper();
}

Result<ChildLauncher::ChildId> ForkServer::start(const std::vector<std::string>& argv, const ChildStreams& streams,
                                                 const ChildLimits& limits) {
  std::size_t request_bytes = sizeof(Header);
  for (const std::string& argument : argv) request_bytes += argument.size() + 1;
  if (request_bytes > kMaxMessageBytes) {
    return Error::internal("A fork server request is limited to " + std::to_string(kMaxMessageBytes) +
                           " bytes of arguments");
  }
  std::unique_lock lock(state_->mutex);
  const std::array<int, kStreamCount> descriptors{streams.in, streams.out, streams.err};
  const Header request{.type = MessageType::fork,
                       .address_space_bytes = limits.address_space_bytes,
                       .cpu_seconds = static_cast<std::int64_t>(limits.cpu_time.count())};
  // A helper that died since the last request is noticed only when the
  // send fails or the helper's socket closes with the request unanswered:
  // then a new helper is started and asked once more.
  std::string why = "the fork server does not take requests";
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (Status s = state_->ensure_helper(); !s) return s.take_error();
    const ChildId id = state_->next_id++;
    Header numbered = request;
    numbered.id = id;
    if (!send_message(state_->control.get(), numbered, argv, &descriptors)) {
      state_->stop_helper();
      continue;
    }
    State::Child& child = state_->children[id];
    child.incarnation = state_->incarnation;
    const bool answered = state_->changed.wait_for(lock, kForkAnswerTime, [&] {
      return child.started || child.fork_error != 0 || child.lost;
    });
    if (child.started) return id;
    const int fork_error = child.fork_error;
    state_->children.erase(id);
    if (fork_error != 0) return Error::unavailable(std::string("Cannot fork a child process: ") + std::strerror(fork_error));
    if (!answered) {
      state_->stop_helper();  // stuck: started afresh on the next request
      return Error::unavailable("Cannot start a child process: the fork server stopped answering");
    }
    why = "the fork server ended";
  }
  return Error::unavailable("Cannot start a child process: " + why);
}

void ForkServer::kill(ChildId child) {
  const std::lock_guard lock(state_->mutex);
  const auto it = state_->children.find(child);
  if (it == state_->children.end() || it->second.ended || it->second.lost || state_->helper < 0) return;
  it->second.killed_at = Clock::now();
  send_message(state_->control.get(), {.type = MessageType::kill, .id = child});
}

Result<std::optional<int>> ForkServer::wait_until(ChildId child, Clock::time_point deadline) {
  std::unique_lock lock(state_->mutex);
  const auto it = state_->children.find(child);
  if (it == state_->children.end()) return Error::internal("wait_until: no such child");
  State::Child& waited = it->second;
  const auto done = [&] { return waited.ended || waited.lost; };
  // A killed child ends at once; a helper that reports nothing by then
  // is stuck (stopped, or unable to send), and nothing else would end
  // this wait.
  while (!done()) {
    auto until = deadline;
    if (waited.killed_at) until = std::min(until, *waited.killed_at + kForkAnswerTime);
    if (until == Clock::time_point::max()) {
      state_->changed.wait(lock, done);
      break;
    }
    if (state_->changed.wait_until(lock, until, done)) break;
    if (until == deadline) return std::optional<int>();
    if (waited.incarnation == state_->incarnation) state_->stop_helper();  // marks its children lost
    waited.lost = true;
  }
  const State::Child ended = it->second;
  state_->children.erase(it);
  if (ended.lost) return Error::unavailable("The fork server ended before its child did");
  return std::optional<int>(ended.status);
}

pid_t ForkServer::helper_pid() const {
  const std::lock_guard lock(state_->mutex);
  return state_->gone_incarnation == state_->incarnation ? -1 : state_->helper;
}

}  // namespace visor::util

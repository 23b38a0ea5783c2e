#pragma once
// Calls a function once, on a thread of its own, when a deadline passes,
// unless the alarm is destroyed first. For C libraries that stop long work
// when another thread raises a flag they poll (MuPDF's fz_cookie::abort).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace visor::util {

class Alarm {
 public:
  using Clock = std::chrono::steady_clock;

  // Rings `ring` at `deadline` (at once when it has passed). With
  // Clock::time_point::max() it never rings and starts no thread.
  // `ring` must not throw.
  Alarm(Clock::time_point deadline, std::function<void()> ring);
  // Cancels the alarm if it has not rung; if `ring` is running, waits for
  // it to return. After the destructor, `ring` is never called.
  ~Alarm();
  Alarm(const Alarm&) = delete;
  Alarm& operator=(const Alarm&) = delete;

  // Whether `ring` has been called.
  bool rang() const;

 private:
  void run();

  Clock::time_point deadline_;
  std::function<void()> ring_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool cancelled_ = false;
  bool rang_ = false;
  std::thread thread_;  // last: starts after every other member exists
};

}  // namespace visor::util

#pragma once
// A background thread that calls a function at a fixed interval, or at once
// when asked, until it is destroyed. The destructor wakes the thread at once and joins it, so a
// long interval never delays shutdown.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace visor::util {

class PeriodicThread {
 public:
  // Calls `tick` every `interval`, first after one interval. `tick` runs on
  // the background thread and must not throw.
  PeriodicThread(std::chrono::milliseconds interval, std::function<void()> tick);
  ~PeriodicThread();

  // Runs the next tick at once (then again an interval later), unless the
  // thread is stopping. Thread-safe; ticks never overlap.
  void tick_now();
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

 private:
  void run();

  std::chrono::milliseconds interval_;
  std::function<void()> tick_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool early_ = false;
  std::thread thread_;  // last: starts after every other member exists
};

}  // namespace visor::util

#include "util/alarm.hpp"

namespace visor::util {

Alarm::Alarm(Clock::time_point deadline, std::function<void()> ring)
    : deadline_(deadline), ring_(std::move(ring)) {
  if (deadline_ != Clock::time_point::max()) thread_ = std::thread([this] { run(); });
}

Alarm::~Alarm() {
  {
    const std::lock_guard lock(mutex_);
    cancelled_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Alarm::rang() const {
  const std::lock_guard lock(mutex_);
  return rang_;
}

void Alarm::run() {
  std::unique_lock lock(mutex_);
  if (wake_.wait_until(lock, deadline_, [this] { return cancelled_; })) return;
  rang_ = true;
  // Called under the mutex: the destructor cannot return while it runs.
  ring_();
}

}  // namespace visor::util

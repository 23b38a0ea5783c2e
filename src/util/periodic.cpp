#include "util/periodic.hpp"

namespace visor::util {

PeriodicThread::PeriodicThread(std::chrono::milliseconds interval, std::function<void()> tick)
    : interval_(interval), tick_(std::move(tick)), thread_([this] { run(); }) {}

PeriodicThread::~PeriodicThread() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void PeriodicThread::tick_now() {
  {
    const std::lock_guard lock(mutex_);
    early_ = true;
  }
  wake_.notify_all();
}

void PeriodicThread::run() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [this] { return stopping_ || early_; }) || !stopping_) {
    early_ = false;
    lock.unlock();
    tick_();
    lock.lock();
  }
}

}  // namespace visor::util

#include "jobs/retention.hpp"

#include <algorithm>

#include "util/log.hpp"
#include "util/time.hpp"

namespace visor::jobs {

RetentionSweeper::RetentionSweeper(JobStore& store, std::chrono::milliseconds interval)
    : store_(store), interval_(interval), thread_([this] { run(); }) {}

RetentionSweeper::~RetentionSweeper() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::chrono::milliseconds RetentionSweeper::interval_for(std::chrono::seconds result_ttl) {
  const auto half = std::chrono::duration_cast<std::chrono::milliseconds>(result_ttl) / 2;
  return std::clamp<std::chrono::milliseconds>(half, std::chrono::seconds(1), std::chrono::seconds(60));
}

void RetentionSweeper::run() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    auto expired = store_.expire_jobs(util::now_ms());
    if (!expired) {
      util::log_warn("retention.sweep_failed", {{"error", expired.error().message}});
    } else if (*expired > 0) {
      util::log_info("retention.expired", {{"jobs", std::to_string(*expired)}});
    }
    lock.lock();
  }
}

}  // namespace visor::jobs

#include "api/job_watcher.hpp"

#include <vector>

namespace visor::api {

std::optional<Result<jobs::Job>> JobWatch::latest() const {
  const std::lock_guard lock(mutex_);
  return latest_;
}

void JobWatch::update(Result<jobs::Job> job) {
  const std::lock_guard lock(mutex_);
  latest_ = std::move(job);
}

JobWatcher::JobWatcher(jobs::JobStore& store, std::chrono::milliseconds interval)
    : store_(store), interval_(interval), thread_([this] { run(); }) {}

JobWatcher::~JobWatcher() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::shared_ptr<JobWatch> JobWatcher::watch(const std::string& job_id, jobs::Job initial) {
  const std::lock_guard lock(mutex_);
  auto& slot = watches_[job_id];
  if (auto existing = slot.lock()) return existing;
  auto created = std::make_shared<JobWatch>(job_id);
  created->update(std::move(initial));
  slot = created;
  return created;
}

std::size_t JobWatcher::watched_jobs() const {
  const std::lock_guard lock(mutex_);
  return watches_.size();
}

void JobWatcher::run() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
    std::vector<std::shared_ptr<JobWatch>> live;
    for (auto it = watches_.begin(); it != watches_.end();) {
      if (auto watch = it->second.lock()) {
        live.push_back(std::move(watch));
        ++it;
      } else {
        it = watches_.erase(it);
      }
    }
    lock.unlock();
    for (const auto& watch : live) watch->update(store_.get_job(watch->job_id()));
    live.clear();  // drop our references before the next pruning pass
    lock.lock();
  }
}

}  // namespace visor::api

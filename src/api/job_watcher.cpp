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
    : store_(store), poller_(interval, [this] { poll(); }) {}

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

// The watches some stream still holds; forgets the others.
std::vector<std::shared_ptr<JobWatch>> JobWatcher::live_watches() {
  const std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<JobWatch>> live;
  for (auto it = watches_.begin(); it != watches_.end();) {
    if (auto watch = it->second.lock()) {
      live.push_back(std::move(watch));
      ++it;
    } else {
      it = watches_.erase(it);
    }
  }
  return live;
}

void JobWatcher::poll() {
  for (const auto& watch : live_watches()) watch->update(store_.get_job(watch->job_id()));
}

}  // namespace visor::api

#include "api/job_watcher.hpp"

#include <vector>

#include "util/log.hpp"
#include "util/time.hpp"

namespace visor::api {
namespace {

// How long past a refresh the store announces a watched job's progress:
// several fallback intervals, so a late refresh never leaves a gap.
std::chrono::milliseconds announcement_window(std::chrono::milliseconds fallback_interval) {
  return std::max<std::chrono::milliseconds>(fallback_interval * 5, std::chrono::seconds(10));
}

}  // namespace

std::optional<Result<jobs::Job>> JobWatch::latest() const {
  const std::lock_guard lock(mutex_);
  return latest_;
}

void JobWatch::update(Result<jobs::Job> job) {
  const std::lock_guard lock(mutex_);
  latest_ = std::move(job);
}

JobWatcher::JobWatcher(jobs::JobStore& store, std::chrono::milliseconds fallback_interval)
    : store_(store),
      fallback_interval_(fallback_interval),
      // Ticks at the fallback rate; a notification ticks it at once.
      refresher_(fallback_interval, [this] { refresh(); }),
      notifications_(store.subscribe(*this)) {}

JobWatcher::~JobWatcher() { notifications_.reset(); }

std::shared_ptr<JobWatch> JobWatcher::watch(const std::string& job_id, jobs::Job initial) {
  const std::lock_guard lock(mutex_);
  auto& slot = watches_[job_id];
  if (auto existing = slot.lock()) return existing;
  auto created = std::make_shared<JobWatch>(job_id);
  created->update(std::move(initial));
  slot = created;
  unannounced_.insert(job_id);
  refresher_.tick_now();
  return created;
}

std::size_t JobWatcher::watched_jobs() const {
  const std::lock_guard lock(mutex_);
  return watches_.size();
}

void JobWatcher::job_changed(std::string_view job_id, bool /*stopped*/) {
  {
    const std::lock_guard lock(mutex_);
    const auto it = watches_.find(std::string(job_id));
    if (it == watches_.end()) return;
    changed_.insert(it->first);
  }
  refresher_.tick_now();
}

void JobWatcher::missed_changes() {
  {
    const std::lock_guard lock(mutex_);
    next_full_refresh_ms_ = 0;
  }
  refresher_.tick_now();
}

JobWatcher::Due JobWatcher::due_watches() {
  const std::int64_t now = util::now_ms();
  const std::lock_guard lock(mutex_);
  const bool all = now >= next_full_refresh_ms_;
  // A little early, so the periodic tick after this one refreshes all.
  if (all) next_full_refresh_ms_ = now + fallback_interval_.count() * 9 / 10;
  Due due;
  for (auto it = watches_.begin(); it != watches_.end();) {
    auto watch = it->second.lock();
    if (!watch) {
      changed_.erase(it->first);
      unannounced_.erase(it->first);
      it = watches_.erase(it);
      continue;
    }
    if (all || unannounced_.contains(it->first)) due.announce.push_back(it->first);
    if (all || changed_.contains(it->first)) due.refresh.push_back(std::move(watch));
    ++it;
  }
  changed_.clear();
  unannounced_.clear();
  return due;
}

void JobWatcher::refresh() {
  const Due due = due_watches();
  if (!due.announce.empty() && store_.notifies()) {
    const auto until = util::now_ms() + announcement_window(fallback_interval_).count();
    if (Status s = store_.watch_progress(due.announce, until); !s) {
      util::log_warn("stream.watch_not_announced", {{"error", s.error().message}});
    }
  }
  for (const auto& watch : due.refresh) watch->update(store_.get_job(watch->job_id()));
}

}  // namespace visor::api

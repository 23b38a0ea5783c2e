#pragma once
// One thread refreshes, from the store, every job that some SSE stream (or
// a blocking POST /ocr) follows and keeps the latest snapshot in memory, so
// a thousand streams cost one query per watched job per refresh, and no
// thread per stream. A job is refreshed at once when the store notifies
// that it changed (another node's worker finished a page, another node
// cancelled it), and every job at the fallback interval, since
// notifications can be lost and some stores send none. The watcher tells
// the store which jobs it follows, since a store announces the progress of
// watched jobs only.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "jobs/job_store.hpp"
#include "util/periodic.hpp"

namespace visor::api {

class JobWatch {
 public:
  explicit JobWatch(std::string job_id) : job_id_(std::move(job_id)) {}
  const std::string& job_id() const { return job_id_; }

  // The latest snapshot; nullopt until the first poll. Thread-safe.
  std::optional<Result<jobs::Job>> latest() const;
  void update(Result<jobs::Job> job);

 private:
  std::string job_id_;
  mutable std::mutex mutex_;
  std::optional<Result<jobs::Job>> latest_;
};

class JobWatcher final : private jobs::StoreListener {
 public:
  // Refreshes every watched job every `fallback_interval`, and a notified
  // one at once. REQUIRES: `store` outlives the watcher.
  JobWatcher(jobs::JobStore& store, std::chrono::milliseconds fallback_interval);
  ~JobWatcher() override;

  // A watch on `job_id`, shared with every other follower of that job and
  // refreshed while any holder keeps it. `initial` seeds its snapshot.
  std::shared_ptr<JobWatch> watch(const std::string& job_id, jobs::Job initial);

  std::size_t watched_jobs() const;

 private:
  // jobs::StoreListener, on the store's thread.
  void job_changed(std::string_view job_id, bool stopped) override;
  void missed_changes() override;

  void refresh();
  struct Due {
    std::vector<std::shared_ptr<JobWatch>> refresh;
    std::vector<std::string> announce;  // jobs whose progress the store is asked to announce
  };
  // What to do now, forgetting the watches nobody holds any more.
  Due due_watches();

  jobs::JobStore& store_;
  std::chrono::milliseconds fallback_interval_;
  mutable std::mutex mutex_;
  std::map<std::string, std::weak_ptr<JobWatch>> watches_;
  std::set<std::string> changed_;      // notified since the last refresh
  std::set<std::string> unannounced_;  // watched since the last refresh
  std::int64_t next_full_refresh_ms_ = 0;
  util::PeriodicThread refresher_;      // after what it reads
  jobs::Subscription notifications_;   // last: ends first
};

}  // namespace visor::api

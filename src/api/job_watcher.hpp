#pragma once
// One thread polls the store for every job that some SSE stream follows and
// keeps the latest snapshot in memory, so a thousand streams cost one query
// per watched job per tick, and no thread per stream.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
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

class JobWatcher {
 public:
  // REQUIRES: `store` outlives the watcher.
  JobWatcher(jobs::JobStore& store, std::chrono::milliseconds interval);

  // A watch on `job_id`, shared with every other follower of that job and
  // polled while any holder keeps it. `initial` seeds its snapshot.
  std::shared_ptr<JobWatch> watch(const std::string& job_id, jobs::Job initial);

  std::size_t watched_jobs() const;

 private:
  void poll();
  std::vector<std::shared_ptr<JobWatch>> live_watches();

  jobs::JobStore& store_;
  mutable std::mutex mutex_;
  std::map<std::string, std::weak_ptr<JobWatch>> watches_;
  util::PeriodicThread poller_;  // last: polls once everything above exists
};

}  // namespace visor::api

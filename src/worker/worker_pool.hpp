#pragma once
// Worker threads that pull page tasks from the job store. They share nothing
// with the API but the store, so the same code runs inside `visor serve` or
// in separate processes and hosts against a shared store.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "jobs/job_store.hpp"
#include "ocr/engine.hpp"
#include "util/metrics.hpp"

namespace visor::worker {

struct WorkerOptions {
  int threads = 2;
  std::string node_id;  // names this process's workers in leases and logs
  std::chrono::milliseconds lease_duration{30000};
  int max_pages_in_flight_per_job = 8;
  // How often an idle worker looks for work that another process queued;
  // work queued in this process wakes workers at once (notify_work()).
  std::chrono::milliseconds idle_poll{500};
  // Where the pool reports pages processed, page durations and busy
  // workers; not owned, must outlive the pool. None: a private registry.
  util::metrics::Registry* metrics = nullptr;
};

// The pool's metric families, registered once per registry.
struct WorkerMetrics {
  explicit WorkerMetrics(util::metrics::Registry& registry);
  // outcome: "success", "error" (recorded as a page error) or "retry"
  // (a transient failure; the page goes back to the queue).
  util::metrics::Family<util::metrics::Counter>& pages_processed;
  util::metrics::Family<util::metrics::Histogram>& page_duration;
  util::metrics::Gauge& busy_workers;
};

// Makes one engine per worker thread; called on that thread.
using EngineFactory = std::function<std::unique_ptr<ocr::Engine>()>;

class WorkerPool {
 public:
  // Starts the threads. REQUIRES: `store` outlives the pool.
  WorkerPool(jobs::JobStore& store, EngineFactory make_engine, WorkerOptions options);
  // Stops taking tasks, lets running pages finish, joins the threads.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Wakes idle workers: new work is in the store. Thread-safe.
  void notify_work();

  int busy_workers() const { return busy_.load(); }
  // Worker threads that made their engine and are taking pages.
  int live_workers() const { return live_.load(); }

 private:
  void run_worker(int index);
  void renew_leases();
  void track(const jobs::PageTask& task);
  void untrack(const jobs::PageTask& task);
  bool wait_for_work();

  jobs::JobStore& store_;
  EngineFactory make_engine_;
  WorkerOptions options_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::uint64_t work_signals_ = 0;
  std::map<std::string, jobs::PageTask> in_flight_;  // by lease token
  std::atomic<int> busy_{0};
  std::atomic<int> live_{0};
  std::unique_ptr<util::metrics::Registry> own_registry_;
  WorkerMetrics metrics_;

  std::vector<std::thread> threads_;
  std::thread lease_keeper_;
};

}  // namespace visor::worker

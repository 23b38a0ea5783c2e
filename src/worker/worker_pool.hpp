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
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "jobs/job_store.hpp"
#include "ocr/engine.hpp"
#include "util/metrics.hpp"
#include "util/periodic.hpp"
#include "worker/page_processor.hpp"

namespace visor::worker {

struct WorkerOptions {
  int threads = 2;
  std::string node_id;  // names this process's workers in leases and logs
  std::chrono::milliseconds lease_duration{30000};
  int max_pages_in_flight_per_job = 8;
  // How often an idle worker looks for work that another process queued
  // without a notification reaching it (the store does not notify, or a
  // notification was lost); work queued in this process, or notified by
  // the store, wakes workers at once.
  std::chrono::milliseconds idle_poll{500};
  // How long the process may be silent before others take it for dead
  // (--heartbeat-timeout); it beats five times as often.
  std::chrono::milliseconds heartbeat_timeout{10000};
  // Host name, for the worker's record in the store.
  std::string host;
  // Hears about every page processed, for metrics; not owned, must outlive
  // the pool. None: nobody listens.
  class PoolObserver* observer = nullptr;
  // Pixels and time the local work on one page may take.
  PageLimits page_limits;
  // How long local work may run past its deadline before the watchdog
  // records the page error and ends the process (kOverrunExitStatus).
  std::chrono::milliseconds overrun_grace{std::chrono::seconds(5)};
};

// The exit status of a worker process whose page overran its time limit
// by more than WorkerOptions::overrun_grace: the thread running it was
// stuck in a C library that checks no deadline, and only ending the process
// stops it. Its supervisor starts a new one.
inline constexpr int kOverrunExitStatus = 75;

// What a pool reports as it works. Called from worker threads concurrently.
class PoolObserver {
 public:
  virtual ~PoolObserver() = default;
  // outcome: "success", "error" (recorded as a page error) or "retry"
  // (a transient failure; the page goes back to the queue).
  virtual void page_processed(const std::string& model, const std::string& engine, std::string_view outcome,
                              double seconds) = 0;
  // How many of the pool's workers are processing a page now.
  virtual void busy_workers(int count) = 0;
};

// Records a pool's reports in a metrics registry: visor_pages_processed_total,
// visor_page_duration_seconds, visor_node_busy_workers (this node's; the
// fleet's busy workers come from the store).
class WorkerMetrics final : public PoolObserver {
 public:
  explicit WorkerMetrics(util::metrics::Registry& registry);
  void page_processed(const std::string& model, const std::string& engine, std::string_view outcome,
                      double seconds) override;
  void busy_workers(int count) override { busy_workers_.set(count); }

 private:
  util::metrics::Family<util::metrics::Counter>& pages_processed_;
  util::metrics::Family<util::metrics::Histogram>& page_duration_;
  util::metrics::Gauge& busy_workers_;
};

// Makes one engine per worker thread; called on that thread.
using EngineFactory = std::function<std::unique_ptr<ocr::Engine>()>;

class WorkerPool final : private jobs::StoreListener {
 public:
  // Registers the process in the store (options.node_id), subscribes to
  // its notifications and starts the threads. REQUIRES: `store` outlives
  // the pool.
  WorkerPool(jobs::JobStore& store, EngineFactory make_engine, WorkerOptions options);
  // Stops taking tasks, lets running pages finish, joins the threads, and
  // takes the process's record out of the store.
  ~WorkerPool() override;
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Wakes idle workers: new work is in the store. Thread-safe.
  void notify_work();

  int busy_workers() const { return busy_.load(); }
  // Worker threads that made their engine and are taking pages.
  int live_workers() const { return live_.load(); }

 private:
  // A page being processed, and where its thread posts the deadline of
  // its local work.
  struct InFlight {
    jobs::PageTask task;
    const LocalDeadline* deadline = nullptr;
    std::string engine;
    // Requested when the page's lease is lost (its job was cancelled, or it
    // was given to another worker): the page's work stops early.
    std::stop_source abandon;
  };

  // jobs::StoreListener, on the store's thread.
  void work_queued() override { notify_work(); }
  void job_changed(std::string_view job_id, bool stopped) override;
  void missed_changes() override;

  void run_worker(int index);
  void register_process();
  void beat();
  void renew_leases();
  void end_overruns();
  void change_busy(int delta);
  void track(const InFlight& page);
  void untrack(const jobs::PageTask& task);
  bool wait_for_work();

  jobs::JobStore& store_;
  EngineFactory make_engine_;
  WorkerOptions options_;

  std::mutex mutex_;
  std::mutex heartbeat_mutex_;  // held by a beat, so none runs after deregistering
  std::condition_variable wake_;
  bool stopping_ = false;
  std::uint64_t work_signals_ = 0;
  std::map<std::string, InFlight> in_flight_;  // by lease token
  std::atomic<int> busy_{0};
  std::atomic<int> live_{0};

  std::vector<std::thread> threads_;
  std::int64_t started_at_ = 0;
  // Every lease_duration / 3, and at once when a job in flight here ended
  // elsewhere (a cancellation on another node), extends the leases of
  // running pages, so a slow page is not taken over while its worker is
  // alive and an abandoned one stops early; a dead process stops renewing
  // and its pages return to the queue when their leases end.
  util::PeriodicThread lease_keeper_;
  // Tells the store this process is alive; a process that stops beating is
  // taken for dead by the maintenance leader, which gives its pages back.
  util::PeriodicThread heartbeat_;
  // Ends the process when a page's local work overruns its deadline.
  util::PeriodicThread watchdog_;
  // Last: notifications arrive only once everything above exists, and stop
  // before any of it goes.
  jobs::Subscription notifications_;
};

}  // namespace visor::worker

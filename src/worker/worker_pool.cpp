#include "worker/worker_pool.hpp"

#include <cstdlib>
#include <optional>

#include "jobs/page_result.hpp"
#include "ocr/model.hpp"
#include "util/log.hpp"
#include "util/time.hpp"
#include "worker/page_processor.hpp"

namespace visor::worker {
namespace {

// The document a worker thread opened last. Pages of one job usually come
// in a row, so one open document per thread avoids reloading it per page.
class OpenDocument {
 public:
  // The document of `job_id`, loaded from the store and opened on first use.
  // Errors from opening are the document's fault (the job fails); errors
  // from the store are not (the page is retried).
  struct Failure {
    Error error;
    bool document_is_bad = false;
  };

  std::variant<pdf::Document*, Failure> get(jobs::JobStore& store, PageProcessor& processor,
                                            const std::string& job_id) {
    if (document_ && job_id_ == job_id) return &*document_;
    document_.reset();
    auto bytes = store.read_document(job_id);
    if (!bytes) return Failure{bytes.take_error(), false};
    auto opened = processor.open(std::move(*bytes));
    if (!opened) return Failure{opened.take_error(), true};
    document_.emplace(std::move(*opened));
    job_id_ = job_id;
    return &*document_;
  }

 private:
  std::string job_id_;
  std::optional<pdf::Document> document_;
};

void log_store_error(std::string_view event, const jobs::PageTask& task, const Error& error) {
  util::log_warn(event, {{"job_id", task.job_id}, {"page", std::to_string(task.page_index)},
                         {"error", error.message}});
}

bool is_transient(const Error& error) {
  return error.kind == Error::Kind::unavailable || error.kind == Error::Kind::timeout;
}

// How often the watchdog looks for local work past its deadline.
constexpr auto kWatchInterval = std::chrono::milliseconds(250);

// Seconds, from a fast text page to a slow remote model on a dense page.
const std::vector<double> kPageDurationBuckets{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};

// Runs `record` (a store write about `task`) until it succeeds or fails
// for a reason other than the store being unreachable: a page's result
// outlives a store restart or a dropped connection for up to `budget`
// (its lease, which the lease keeper renews once the store is back), and
// is only then left for another worker to redo. Stops when the page is
// abandoned.
Status record_despite_outages(const std::function<Status()>& record, std::chrono::milliseconds budget,
                              const std::stop_token& abandon) {
  const auto give_up_at = std::chrono::steady_clock::now() + budget;
  auto pause = std::chrono::milliseconds(250);
  for (;;) {
    Status s = record();
    if (s || s.error().kind != Error::Kind::unavailable || abandon.stop_requested() ||
        std::chrono::steady_clock::now() + pause > give_up_at) {
      return s;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(4000));
  }
}

void count_page(PoolObserver* observer, const jobs::PageTask& task, const std::string& engine,
                std::string_view outcome, double seconds) {
  if (observer != nullptr) observer->page_processed(task.model, engine, outcome, seconds);
}

void process_task(jobs::JobStore& store, PageProcessor& processor, OpenDocument& documents,
                  const jobs::PageTask& task, PoolObserver* observer, std::chrono::milliseconds lease_duration,
                  const std::stop_token& abandon) {
  const auto started = std::chrono::steady_clock::now();
  auto document = documents.get(store, processor, task.job_id);
  if (auto* failure = std::get_if<OpenDocument::Failure>(&document)) {
    if (failure->document_is_bad) {
      util::log_warn("job.failed", {{"job_id", task.job_id}, {"error", failure->error.message}});
      if (Status s = store.fail_job(task.job_id, failure->error.message, util::now_ms()); !s) {
        log_store_error("job.fail_not_recorded", task, s.error());
      }
    } else if (Status s = store.fail_page(task, failure->error.message, util::now_ms()); !s) {
      log_store_error("page.fail_not_recorded", task, s.error());
    }
    return;
  }
  const auto record = [&](const std::function<Status()>& write) {
    return record_despite_outages(write, lease_duration, abandon);
  };

  const auto model = ocr::parse_model(task.model).value_or(ocr::Model::dotsocr);
  const auto mode = ocr::parse_ocr_mode(task.ocr_mode).value_or(ocr::OcrMode::ocr);
  auto outcome =
      processor.process(*std::get<pdf::Document*>(document), task.page_index, task.dpi, model, mode, abandon);
  const auto elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  if (abandon.stop_requested()) {
    // The lease is gone: whatever came out belongs to nobody.
    util::log_info("page.abandoned", {{"job_id", task.job_id}, {"page", std::to_string(task.page_index)},
                                      {"ms", std::to_string(elapsed_ms)}});
    return;
  }
  if (outcome) {
    util::log_info("page.done", {{"job_id", task.job_id}, {"page", std::to_string(task.page_index)},
                                 {"attempt", std::to_string(task.attempt)}, {"ms", std::to_string(elapsed_ms)},
                                 {"source", std::string(outcome->source)}});
  } else {
    util::log_warn("page.error", {{"job_id", task.job_id}, {"page", std::to_string(task.page_index)},
                                  {"ms", std::to_string(elapsed_ms)}, {"error", outcome.error().message}});
  }

  // An engine that could not be reached or ran out of time may succeed
  // later: the page goes back to the queue (a page error after the last
  // attempt). Any other error is the engine's verdict on this page.
  const double seconds = static_cast<double>(elapsed_ms) / 1000.0;
  if (!outcome && is_transient(outcome.error())) {
    count_page(observer, task, processor.engine_name(), "retry", seconds);
    if (Status s = record([&] { return store.fail_page(task, outcome.error().message, util::now_ms()); }); !s) {
      log_store_error("page.fail_not_recorded", task, s.error());
    }
    return;
  }
  const std::string engine = outcome ? outcome->engine : processor.engine_name();
  count_page(observer, task, engine, outcome ? "success" : "error", seconds);
  const std::string result = page_record(outcome).dump();
  if (Status s = record([&] { return store.complete_page(task, result, engine, util::now_ms()); }); !s) {
    log_store_error("page.result_not_recorded", task, s.error());
  }
}

}  // namespace

WorkerMetrics::WorkerMetrics(util::metrics::Registry& registry)
    : pages_processed_(registry.counter("visor_pages_processed_total",
                                        "Pages processed by the workers, by model, engine and outcome.",
                                        {"model", "engine", "outcome"})),
      page_duration_(registry.histogram("visor_page_duration_seconds",
                                        "Time to process one page (load, render, recognise), by model.",
                                        kPageDurationBuckets, {"model"})),
      busy_workers_(registry.gauge("visor_node_busy_workers", "Worker threads of this node processing a page now.")
                        .with({})) {}

void WorkerMetrics::page_processed(const std::string& model, const std::string& engine, std::string_view outcome,
                                   double seconds) {
  pages_processed_.with({model, engine, outcome}).add();
  page_duration_.with({model}).observe(seconds);
}

WorkerPool::WorkerPool(jobs::JobStore& store, EngineFactory make_engine, WorkerOptions options)
    : store_(store),
      make_engine_(std::move(make_engine)),
      options_(std::move(options)),
      started_at_(util::now_ms()),
      lease_keeper_(options_.lease_duration / 3, [this] { renew_leases(); }),
      heartbeat_(options_.heartbeat_timeout / 5, [this] { beat(); }),
      watchdog_(kWatchInterval, [this] { end_overruns(); }),
      notifications_(store.subscribe(*this)) {
  register_process();
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this, i] { run_worker(i); });
}

WorkerPool::~WorkerPool() {
  notifications_.reset();
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  // The lease keeper, a member, outlives this: pages still finishing keep
  // their leases.
  for (auto& thread : threads_) thread.join();
  const std::lock_guard beating(heartbeat_mutex_);
  if (Status s = store_.deregister_worker(options_.node_id); !s) {
    util::log_warn("worker.deregister_failed", {{"worker", options_.node_id}, {"error", s.error().message}});
  }
}

void WorkerPool::register_process() {
  const jobs::WorkerRecord record{options_.node_id, options_.host, options_.threads, started_at_,
                                  options_.heartbeat_timeout};
  if (Status s = store_.register_worker(record, util::now_ms()); !s) {
    // The heartbeat registers again once the store answers.
    util::log_warn("worker.register_failed", {{"worker", options_.node_id}, {"error", s.error().message}});
  }
}

void WorkerPool::beat() {
  const std::lock_guard beating(heartbeat_mutex_);
  {
    const std::lock_guard lock(mutex_);
    if (stopping_) return;
  }
  Status s = store_.heartbeat(options_.node_id, util::now_ms());
  if (s) return;
  if (s.error().kind == Error::Kind::not_found) {
    // Taken for dead (the store was unreachable too long, or this host
    // stalled): its pages went back to the queue, and their leases here
    // are lost, which the lease keeper notices.
    util::log_warn("worker.registered_again", {{"worker", options_.node_id}});
    register_process();
    return;
  }
  util::log_warn("worker.heartbeat_failed", {{"worker", options_.node_id}, {"error", s.error().message}});
}

void WorkerPool::job_changed(std::string_view job_id, bool stopped) {
  if (!stopped) return;
  bool here = false;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& [token, page] : in_flight_) here = here || page.task.job_id == job_id;
  }
  // Renewing finds out whether the job's pages here are still ours.
  if (here) lease_keeper_.tick_now();
}

void WorkerPool::missed_changes() {
  notify_work();
  lease_keeper_.tick_now();
}

void WorkerPool::notify_work() {
  {
    const std::lock_guard lock(mutex_);
    ++work_signals_;
  }
  wake_.notify_all();
}

bool WorkerPool::wait_for_work() {
  std::unique_lock lock(mutex_);
  const std::uint64_t seen = work_signals_;
  wake_.wait_for(lock, options_.idle_poll, [&] { return stopping_ || work_signals_ != seen; });
  return !stopping_;
}

void WorkerPool::run_worker(int index) {
  const std::string worker_id = options_.node_id + "/" + std::to_string(index);
  std::unique_ptr<ocr::Engine> engine;
  try {
    engine = make_engine_();
  } catch (const std::exception& e) {
    util::log_error("worker.engine_failed", {{"worker", worker_id}, {"error", e.what()}});
    return;
  }
  LocalDeadline deadline;
  PageProcessor processor(*engine, options_.page_limits, &deadline);
  OpenDocument documents;
  util::log_info("worker.started", {{"worker", worker_id}, {"engine", engine->name()}});
  ++live_;

  for (;;) {
    {
      const std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    auto task = store_.lease_page({.worker_id = worker_id,
                                   .now_ms = util::now_ms(),
                                   .lease_duration = options_.lease_duration,
                                   .max_pages_in_flight_per_job = options_.max_pages_in_flight_per_job});
    if (!task) {
      util::log_warn("worker.lease_failed", {{"worker", worker_id}, {"error", task.error().message}});
      if (!wait_for_work()) break;
      continue;
    }
    if (!task->has_value()) {
      if (!wait_for_work()) break;
      continue;
    }
    const jobs::PageTask& leased = **task;
    const std::stop_source abandon;
    track({leased, &deadline, processor.engine_name(), abandon});
    change_busy(+1);
    process_task(store_, processor, documents, leased, options_.observer, options_.lease_duration,
                 abandon.get_token());
    change_busy(-1);
    untrack(leased);
  }
  --live_;
}

// Under the mutex, so reports arrive in the order the count changed.
void WorkerPool::change_busy(int delta) {
  const std::lock_guard lock(mutex_);
  busy_ += delta;
  if (options_.observer != nullptr) options_.observer->busy_workers(busy_);
}

void WorkerPool::track(const InFlight& page) {
  const std::lock_guard lock(mutex_);
  in_flight_.emplace(page.task.lease_token, page);
}

void WorkerPool::untrack(const jobs::PageTask& task) {
  const std::lock_guard lock(mutex_);
  in_flight_.erase(task.lease_token);
}

void WorkerPool::renew_leases() {
  std::vector<InFlight> running;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& [token, page] : in_flight_) running.push_back(page);
  }
  for (InFlight& page : running) {
    Status s = store_.renew_lease(page.task, util::now_ms(), options_.lease_duration);
    if (s) continue;
    log_store_error("page.lease_not_renewed", page.task, s.error());
    if (s.error().kind == Error::Kind::conflict) page.abandon.request_stop();
  }
}

void WorkerPool::end_overruns() {
  const auto now = LocalDeadline::Clock::now();
  std::optional<InFlight> overrun;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& [token, page] : in_flight_) {
      const auto deadline = page.deadline->current();
      if (deadline && now > *deadline + options_.overrun_grace) {
        overrun = page;
        break;
      }
    }
  }
  if (!overrun) return;
  // The page's thread cannot be stopped: record its error under its lease
  // (its own late result, if it ever came, would find the lease gone), then
  // end the process; other pages of this process go back to the queue.
  const jobs::PageTask& task = overrun->task;
  const Error error = page_timeout_error(task.page_index, options_.page_limits.timeout);
  util::log_error("worker.page_overran", {{"job_id", task.job_id}, {"page", std::to_string(task.page_index)},
                                          {"error", error.message}, {"exit_status", std::to_string(kOverrunExitStatus)}});
  count_page(options_.observer, task, overrun->engine, "error",
             static_cast<double>((options_.page_limits.timeout + options_.overrun_grace).count()) / 1000.0);
  if (Status s = store_.complete_page(task, jobs::page_error_text(error.message), overrun->engine, util::now_ms()); !s) {
    log_store_error("page.result_not_recorded", task, s.error());
  }
  std::_Exit(kOverrunExitStatus);
}

}  // namespace visor::worker

#pragma once
// The API's behaviour: what each route answers, given the store. Sessions
// (server.cpp) own sockets and parsing; the Service owns decisions. Blocking
// work runs on the blocking pool; every method is a coroutine on the
// caller's executor.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include "api/api_keys.hpp"
#include "api/http.hpp"
#include "api/job_watcher.hpp"
#include "api/multipart.hpp"
#include "api/views.hpp"
#include "jobs/job_store.hpp"
#include "ocr/model.hpp"
#include "pdf/document_tool.hpp"
#include "util/metrics.hpp"
#include "util/periodic.hpp"
#include "util/rate_limit.hpp"

namespace visor::api {

struct ServiceOptions {
  std::uint64_t max_upload_bytes = 100ull << 20;
  int max_pages = 2000;
  std::chrono::seconds result_ttl{std::chrono::hours(24 * 7)};
  std::chrono::seconds sse_timeout{std::chrono::minutes(10)};
  // How often a stream looks at its job's snapshot.
  std::chrono::milliseconds sse_poll{250};
  std::chrono::milliseconds sse_heartbeat{1500};
  // How often watched jobs are read again from a store that notifies
  // changes (one that does not is read every sse_poll).
  std::chrono::milliseconds notified_store_poll{2000};
  // Names this process in the store (its open streams' slots).
  std::string node_id = "api";
  // Submissions per API key (per client address when keys are off),
  // counted in the store: every node of a fleet draws from one bucket.
  util::Rate submit_rate;
  int submit_burst = 0;  // 0: one period's worth
  // Open SSE streams per API key (keys on only) and in total, counted in
  // the store across every node; 0: no limit.
  int max_streams_per_key = 100;
  int max_streams = 4000;
  // The ocr_mode of a submission that names none.
  ocr::OcrMode default_ocr_mode = ocr::OcrMode::automatic;
  // Empty: the server is open.
  ApiKeys api_keys;
  // The webhook of a submission that names none; empty for none.
  std::string default_webhook_url;
  // Whether webhook URLs may name loopback, private or link-local hosts.
  bool webhook_allow_private = false;
  // Pages one tenant (API key, or client without keys) may have waiting or
  // in progress, fleet-wide; more are refused with 429. 0: no limit.
  int max_queued_pages_per_tenant = 10000;
};

// The models this server offers and whether their engines can take work.
// Thread safety: called from any thread.
class ModelCatalog {
 public:
  virtual ~ModelCatalog() = default;
  virtual std::vector<std::string> model_ids() const = 0;
  // The "models" list of GET /ocr/models: id, description, output,
  // availability, engine (type, name, endpoints with health).
  virtual Json describe() const = 0;
  // unavailable, saying what to do, when `model`'s backend is configured but
  // cannot be reached.
  virtual Status check_available(const std::string& model) const = 0;
};

// The validated parameters of a submission.
struct Submission {
  std::string model = "dotsocr";
  int dpi = 200;
  ocr::OcrMode ocr_mode = ocr::OcrMode::automatic;
  // The `pages` parameter as sent (util/page_selection.hpp), resolved once
  // the document's page count is known; empty for every page.
  std::string pages;
  // The Idempotency-Key header; empty when not sent.
  std::string idempotency_key;
  // webhook_url (query or form field; the server's default when neither)
  // and webhook_pages.
  jobs::WebhookSubscription webhook;
  std::string tenant;
  jobs::JobPriority priority = jobs::JobPriority::normal;
};

// What submit() did: a new job, or the one an earlier request with the same
// Idempotency-Key created.
struct Submitted {
  jobs::Job job;
  bool replayed = false;
};

// What the service learns from the rest of the process. Each may be
// empty; each is called on any thread.
struct ServiceHooks {
  std::function<void()> on_job_created;  // after each accepted job, to wake workers
  // Worker threads of this node ready to take pages (readiness); empty on
  // an API-only node, whose readiness does not depend on workers.
  std::function<int()> live_workers;
};

// A place among the open SSE streams of the fleet, held in the store while
// the stream is open; given back when destroyed.
class StreamSlot {
 public:
  StreamSlot(jobs::JobStore& store, boost::asio::thread_pool& blocking, std::string id)
      : store_(&store), blocking_(&blocking), id_(std::move(id)) {}
  StreamSlot(StreamSlot&& other) noexcept
      : store_(std::exchange(other.store_, nullptr)), blocking_(other.blocking_), id_(std::move(other.id_)) {}
  StreamSlot& operator=(StreamSlot&&) = delete;
  ~StreamSlot();

 private:
  jobs::JobStore* store_;
  boost::asio::thread_pool* blocking_;
  std::string id_;
};

// The API's own metrics: requests by route and code, open SSE streams.
class ApiMetrics {
 public:
  explicit ApiMetrics(util::metrics::Registry& registry);
  void count_request(std::string_view route, unsigned status);
  void stream_opened() { sse_streams_open_.add(1); }
  void stream_closed() { sse_streams_open_.add(-1); }

 private:
  util::metrics::Family<util::metrics::Counter>& http_requests_;
  util::metrics::Gauge& sse_streams_open_;
};

class Service {
 public:
  // REQUIRES: store, pools, catalog, document tool and registry outlive
  // the service, and only the service renders the registry (its collector
  // reads the store through the service). Uploads are read only through
  // `documents` (in a child process), never in this process. Store calls
  // run on `blocking`; waits for the document tool's child processes on
  // `document_waits`, whose size bounds how many children run at once.
  Service(jobs::JobStore& store, boost::asio::thread_pool& blocking, boost::asio::thread_pool& document_waits,
          ServiceOptions options, const ModelCatalog& models, pdf::DocumentTool& documents,
          util::metrics::Registry& metrics, ServiceHooks hooks);

  const ServiceOptions& options() const { return options_; }

  // Who presents `key` (see ApiKeys::identify).
  Result<Caller> identify(std::optional<std::string_view> key) const { return options_.api_keys.identify(key); }

  // Validates a submission before its body is read: unsupported model
  // (400), dpi not an integer in 72..600 (422), malformed Idempotency-Key
  // (422), webhook_url not allowed (webhooks/destination.hpp) or
  // webhook_pages not a boolean (422), priority not high, normal or low
  // (422), server draining or model backend unreachable (503), caller over
  // the submission rate (429), store unreachable (503). `tenant` is who the
  // job is for (jobs::Job::tenant), whom the rate limit counts; a `legacy`
  // submission (the blocking POST /ocr, whose client waits) is of high
  // priority unless it says otherwise.
  boost::asio::awaitable<Result<Submission>> parse_submission(const Target& target, std::string_view idempotency_key,
                                                              const std::string& tenant, bool legacy = false);

  // Validates the upload and records the job for `caller`; the errors are
  // the reply. With an Idempotency-Key seen before, the earlier job. A
  // webhook_url form field overrides the query's (422 when not allowed).
  boost::asio::awaitable<Result<Submitted>> submit(const Submission& submission, std::vector<FormPart>& parts,
                                                   const Caller& caller);

  // DELETE /ocr/jobs/{job_id}: cancels a pending or running job; 200 with
  // its status (also when already cancelled), 409 once it ended otherwise.
  boost::asio::awaitable<Response> cancel(std::string job_id, const Caller& caller);

  // A place among the open SSE streams of the fleet, held while the stream
  // is open; too_many (429) over the per-key cap, unavailable (503) over
  // the total or while the store cannot be reached.
  boost::asio::awaitable<Result<StreamSlot>> open_stream(const Caller& caller);

  // Shutting down: streams end with a final event, submissions get 503.
  void begin_draining() { draining_ = true; }
  bool draining() const { return draining_; }

  Response models() const;
  // GET /healthz: 200 while the process serves HTTP at all.
  Response health() const;
  // GET /readyz: 200 when the store answers, a worker of this node runs
  // (none needed on an API-only node) and a model is available; 503 naming
  // the failed checks otherwise.
  boost::asio::awaitable<Response> ready();
  // GET /metrics: the registry in the Prometheus text format.
  boost::asio::awaitable<Response> metrics();
  // GET /ocr/jobs?status=&limit=&cursor=: newest first; 422 for a bad
  // parameter.
  boost::asio::awaitable<Response> list_jobs(const Target& target, const Caller& caller);
  // GET /ocr/page/{job_id}/{page}?dpi=: one page of the uploaded document
  // as PNG, at `dpi` (36 to the job's DPI; default the job's DPI, where
  // dotsocr boxes are in pixels). 404 for unknown jobs, pages out of range
  // and expired jobs; 422 for a bad page or dpi.
  boost::asio::awaitable<Response> page_image(std::string job_id, std::string_view page, const Target& target,
                                             const Caller& caller);
  boost::asio::awaitable<Response> status(std::string job_id, const Caller& caller);
  boost::asio::awaitable<Response> result(std::string job_id, bool annotate, const Caller& caller);
  // GET /ocr/download/{job_id}/{format}: a completed job as a file
  // (downloads.hpp) offered under its uploaded name; 404 for an unknown
  // format; while the job is not completed, the replies of GET /ocr/result.
  boost::asio::awaitable<Response> download(std::string job_id, std::string_view format, const Caller& caller);

  // Loads a job for a read by `caller`; not_found for unknown or malformed
  // ids and for another key's jobs, so their existence does not leak.
  boost::asio::awaitable<Result<jobs::Job>> find_job(const std::string& job_id, const Caller& caller);
  // The reply of GET /ocr/result for `job` as it is now.
  boost::asio::awaitable<Response> result_for(const jobs::Job& job, bool annotate);
  boost::asio::awaitable<Result<std::vector<jobs::PageRecord>>> read_pages(const std::string& job_id);

  JobWatcher& watcher() { return watcher_; }
  ApiMetrics& api_metrics() { return api_metrics_; }
  boost::asio::thread_pool& blocking_pool() { return blocking_; }

 private:
  // The pages of a completed job, or the reply GET /ocr/result gives
  // instead (the job is not completed, or expired meanwhile, or the store
  // failed).
  struct CompletedPages {
    std::optional<Response> reply;
    std::vector<jobs::PageRecord> pages;
  };
  boost::asio::awaitable<CompletedPages> completed_pages(const jobs::Job& job);
  // The 404 of a job whose results expired (GET /ocr/result's body).
  Response expired_reply(const jobs::Job& job) const;
  Result<std::string> searchable_pdf(const jobs::Job& job, const std::vector<jobs::PageRecord>& pages);

  // A webhook_url as submit takes it (empty: none).
  Status check_webhook_url(const std::string& url) const;
  // What parse_submission checks without the store.
  Result<Submission> validate_submission(const Target& target, std::string_view idempotency_key, bool legacy) const;
  // The job an earlier submission with the same Idempotency-Key created.
  boost::asio::awaitable<Result<std::optional<Submitted>>> replay(const Caller& caller, const Submission& submission,
                                                                 const std::string& fingerprint);
  Result<Json> annotate_pages(const jobs::Job& job, const std::vector<jobs::PageRecord>& pages);
  void register_store_metrics(util::metrics::Registry& registry);
  void renew_stream_slots();
  Result<std::string> render_page_png(const jobs::Job& job, int page_index, int dpi);

  jobs::JobStore& store_;
  boost::asio::thread_pool& blocking_;
  boost::asio::thread_pool& document_waits_;
  ServiceOptions options_;
  const ModelCatalog& models_;
  pdf::DocumentTool& documents_;
  util::metrics::Registry& metrics_;
  ServiceHooks hooks_;
  ApiMetrics api_metrics_;
  JobWatcher watcher_;
  util::TokenBucketRule submit_rule_;
  std::atomic<bool> draining_{false};
  // Keeps this node's stream slots alive in the store; a node that dies
  // stops renewing them and they stop counting.
  util::PeriodicThread slot_keeper_;
};

}  // namespace visor::api

#include "api/service.hpp"

#include <limits>

#include "api/annotate.hpp"
#include "api/blocking.hpp"
#include "api/downloads.hpp"
#include "api/views.hpp"
#include "jobs/page_result.hpp"
#include "util/base64.hpp"
#include "util/digest.hpp"
#include "util/duration.hpp"
#include "util/integer.hpp"
#include "util/log.hpp"
#include "util/page_selection.hpp"
#include "util/time.hpp"
#include "util/ulid.hpp"
#include "webhooks/destination.hpp"

namespace visor::api {
namespace {

namespace asio = boost::asio;
using json = Json;

constexpr int kMinDpi = 72;
constexpr int kMaxDpi = 600;
constexpr std::string_view kDefaultFilename = "document.pdf";
constexpr std::size_t kMaxIdempotencyKeyLength = 255;
// Retry-After for refusals that pass in moments: a stream cap, a store that
// cannot write now, a server shutting down (clients then reach another
// node or the restarted one).
constexpr int kRetryAfterSeconds = 5;

std::optional<int> parse_int(std::string_view text) {
  auto value = util::parse_integer(text);
  if (!value || *value < std::numeric_limits<int>::min() || *value > std::numeric_limits<int>::max()) {
    return std::nullopt;
  }
  return static_cast<int>(*value);
}

FormPart* find_part(std::vector<FormPart>& parts, std::string_view name) {
  for (auto& part : parts) {
    if (part.name == name) return &part;
  }
  return nullptr;
}

// Visible ASCII only, so a key is the same on every hop and in the store.
Status check_idempotency_key(std::string_view key) {
  if (key.size() > kMaxIdempotencyKeyLength) {
    return Error::invalid_request("Idempotency-Key must be at most " + std::to_string(kMaxIdempotencyKeyLength) +
                                  " characters");
  }
  for (const char c : key) {
    if (c < 0x21 || c > 0x7e) return Error::invalid_request("Idempotency-Key must be printable ASCII without spaces");
  }
  return {};
}

// What makes two submissions "the same request" for an Idempotency-Key.
std::string submission_fingerprint(const Submission& submission, std::string_view document) {
  return util::Sha256()
      .add(submission.model)
      .add("\n")
      .add(std::to_string(submission.dpi))
      .add("\n")
      .add(ocr::ocr_mode_name(submission.ocr_mode))
      .add("\n")
      .add(submission.pages)
      .add("\n")
      .add(submission.webhook.url)
      .add(submission.webhook.pages ? "\npages\n" : "\n")
      .add(jobs::priority_name(submission.priority))
      .add("\n")
      .add(document)
      .hex_digest();
}

// Sets `out` from query parameter `name` when it is sent and not empty:
// invalid_request naming `choices` when `parse` knows no such value.
template <class Value, class Parse>
Status take_choice(const Target& target, std::string_view name, Parse parse, std::string_view choices, Value& out) {
  const auto text = target.param(name);
  if (!text || text->empty()) return {};
  const std::optional<Value> value = parse(*text);
  if (!value) {
    return Error::invalid_request(std::string(name) + " must be one of " + std::string(choices) + ", got '" +
                                  std::string(*text) + "'");
  }
  out = *value;
  return {};
}

int whole_seconds_after(std::chrono::milliseconds wait) {
  return static_cast<int>(std::max<std::int64_t>(1, (wait.count() + 999) / 1000));
}

// An open stream's slot counts this long without renewal: a node that dies
// with streams open holds their places at most this long.
constexpr auto kStreamSlotTtl = std::chrono::seconds(20);
constexpr auto kStreamSlotRenewal = std::chrono::seconds(5);

}  // namespace

ApiMetrics::ApiMetrics(util::metrics::Registry& registry)
    : http_requests_(registry.counter("visor_http_requests_total", "HTTP requests answered, by route template and status code.",
                                      {"route", "code"})),
      sse_streams_open_(registry.gauge("visor_sse_streams_open", "SSE streams open now.").with({})) {}

void ApiMetrics::count_request(std::string_view route, unsigned status) {
  http_requests_.with({route, std::to_string(status)}).add();
}

Service::Service(jobs::JobStore& store, asio::thread_pool& blocking, asio::thread_pool& document_waits,
                 ServiceOptions options, const ModelCatalog& models, pdf::DocumentTool& documents,
                 util::metrics::Registry& metrics, ServiceHooks hooks)
    : store_(store),
      blocking_(blocking),
      document_waits_(document_waits),
      options_(options),
      models_(models),
      documents_(documents),
      metrics_(metrics),
      hooks_(std::move(hooks)),
      api_metrics_(metrics),
      watcher_(store, store.notifies() ? options.notified_store_poll : options.sse_poll),
      submit_rule_(options.submit_rate, options.submit_burst),
      slot_keeper_(kStreamSlotRenewal, [this] { renew_stream_slots(); }) {
  register_store_metrics(metrics);
}

StreamSlot::~StreamSlot() {
  if (store_ == nullptr) return;
  boost::asio::post(*blocking_, [store = store_, id = std::move(id_)] {
    if (Status s = store->close_stream_slot(id); !s) {
      util::log_warn("stream.slot_not_closed", {{"error", s.error().message}});
    }
  });
}

void Service::renew_stream_slots() {
  if (Status s = store_.renew_stream_slots(options_.node_id, util::now_ms(), kStreamSlotTtl); !s) {
    util::log_warn("stream.slots_not_renewed", {{"error", s.error().message}});
  }
}

// Gauges read from the store at scrape time, so they hold for every process
// sharing the store, not only this one: any node of a fleet reports the
// whole queue, which is what an autoscaler of the workers wants.
void Service::register_store_metrics(util::metrics::Registry& registry) {
  auto& by_status = registry.gauge("visor_jobs", "Jobs in the store by status.", {"status"});
  auto& depth = registry.gauge("visor_queue_depth", "Pages waiting for a worker.").with({});
  auto& oldest = registry.gauge("visor_oldest_pending_age_seconds",
                                "Age of the oldest job that has pages waiting for a worker; 0 when none.")
                     .with({});
  auto& busy = registry.gauge("visor_busy_workers", "Pages being processed by the fleet's workers now.").with({});
  auto& workers = registry.gauge("visor_workers", "Worker threads of the fleet with a live heartbeat.").with({});
  registry.add_collector([this, &by_status, &depth, &oldest, &busy, &workers] {
    const std::int64_t now = util::now_ms();
    auto stats = store_.stats(now);
    if (!stats) {
      util::log_warn("metrics.store_unavailable", {{"error", stats.error().message}});
      return;
    }
    for (auto status : {jobs::JobStatus::pending, jobs::JobStatus::running, jobs::JobStatus::completed,
                        jobs::JobStatus::failed, jobs::JobStatus::expired, jobs::JobStatus::cancelled}) {
      by_status.with({jobs::status_name(status)}).set(static_cast<double>(stats->jobs_by_status[static_cast<std::size_t>(status)]));
    }
    depth.set(static_cast<double>(stats->queued_pages));
    const std::int64_t since = stats->oldest_queued_submitted_at;
    oldest.set(since == 0 ? 0.0 : static_cast<double>(std::max<std::int64_t>(0, now - since)) / 1000.0);
    busy.set(static_cast<double>(stats->leased_pages));
    workers.set(static_cast<double>(stats->live_worker_threads));
  });
}

asio::awaitable<Result<Submission>> Service::parse_submission(const Target& target, std::string_view idempotency_key,
                                                             const std::string& tenant, bool legacy) {
  auto submission = validate_submission(target, idempotency_key, legacy);
  if (submission) submission->tenant = tenant;
  if (!submission || submit_rule_.unlimited()) co_return submission;
  auto wait = co_await run_blocking(blocking_, [&] { return store_.take_token("submit " + tenant, submit_rule_, util::now_ms()); });
  if (!wait) co_return wait.take_error();
  if (*wait) {
    co_return Error::too_many("Too many submissions: the limit is " + util::describe_rate(options_.submit_rate) +
                                  (tenant.starts_with("key-") ? " per API key" : " per client") + "; retry in " +
                                  std::to_string(whole_seconds_after(**wait)) + " s",
                              whole_seconds_after(**wait));
  }
  co_return submission;
}

Status Service::check_webhook_url(const std::string& url) const {
  if (url.empty()) return {};
  return webhooks::check_url(url, options_.webhook_allow_private);
}

Result<Submission> Service::validate_submission(const Target& target, std::string_view idempotency_key,
                                                bool legacy) const {
  if (draining()) {
    return Error::unavailable("The server is shutting down; submit again in a moment")
        .retry_after(kRetryAfterSeconds);
  }
  Submission submission;
  submission.ocr_mode = options_.default_ocr_mode;
  if (auto model = target.param("model"); model && !model->empty()) {
    const auto ids = models_.model_ids();
    if (std::find(ids.begin(), ids.end(), *model) == ids.end()) {
      std::string available;
      for (const auto& id : ids) available += (available.empty() ? "" : ", ") + id;
      return Error::bad_input("Unsupported model '" + std::string(*model) + "'. Available models: " + available);
    }
    submission.model = *model;
  }
  if (auto dpi_text = target.param("dpi")) {
    const auto dpi = parse_int(*dpi_text);
    if (!dpi || *dpi < kMinDpi || *dpi > kMaxDpi) {
      return Error::invalid_request("dpi must be an integer from " + std::to_string(kMinDpi) + " to " +
                                    std::to_string(kMaxDpi) + ", got '" + std::string(*dpi_text) + "'");
    }
    submission.dpi = *dpi;
  }
  if (Status mode = take_choice(target, "ocr_mode", ocr::parse_ocr_mode, ocr::kOcrModes, submission.ocr_mode); !mode) {
    return mode.take_error();
  }
  if (auto pages = target.param("pages")) submission.pages = *pages;
  submission.webhook.url = target.param("webhook_url").value_or(options_.default_webhook_url);
  if (Status url = check_webhook_url(submission.webhook.url); !url) return url.take_error();
  if (auto pages = target.param("webhook_pages")) {
    const auto wanted = parse_bool(*pages);
    if (!wanted) {
      return Error::invalid_request("webhook_pages must be true or false, got '" + std::string(*pages) + "'");
    }
    submission.webhook.pages = *wanted;
  }
  submission.priority = legacy ? jobs::JobPriority::high : jobs::JobPriority::normal;
  if (Status priority =
          take_choice(target, "priority", jobs::parse_priority, jobs::kPriorityNames, submission.priority);
      !priority) {
    return priority.take_error();
  }
  if (Status key = check_idempotency_key(idempotency_key); !key) return key.take_error();
  submission.idempotency_key = idempotency_key;
  if (Status available = models_.check_available(submission.model); !available) return available.take_error();
  return submission;
}

namespace {

// The pages `submission` asks for in a document of `page_count` pages:
// invalid_request for a bad selection, bad_input over --max-pages.
Result<util::PageSelection> select_pages(const Submission& submission, int page_count, int max_pages) {
  auto selection = util::PageSelection::from_parameter(submission.pages, page_count);
  if (!selection || selection->count() <= max_pages) return selection;
  const std::string what = selection->selects_all()
                               ? "The document has " + std::to_string(page_count) + " pages"
                               : "The selection has " + std::to_string(selection->count()) + " pages";
  return Error::bad_input(what + "; this server accepts at most " + std::to_string(max_pages) +
                          " pages per document (--max-pages)");
}

// The job as the submit reply shows it, before any worker touched it.
jobs::Job accepted_job(const jobs::NewJob& job) {
  jobs::Job accepted;
  accepted.id = job.id;
  accepted.owner = job.owner;
  accepted.filename = job.filename;
  accepted.model = job.model;
  accepted.dpi = job.dpi;
  accepted.ocr_mode = job.ocr_mode;
  accepted.total_pages = job.total_pages;
  accepted.pages = job.pages;
  accepted.document_pages = job.document_pages;
  accepted.submitted_at = job.submitted_at;
  accepted.webhook = job.webhook;
  accepted.tenant = job.tenant;
  accepted.priority = job.priority;
  return accepted;
}

}  // namespace

asio::awaitable<Result<std::optional<Submitted>>> Service::replay(const Caller& caller, const Submission& submission,
                                                                 const std::string& fingerprint) {
  const std::string owner = caller.owner.value_or("");
  auto earlier = co_await run_blocking(blocking_, [&] {
    return store_.find_idempotent_job(owner, submission.idempotency_key, fingerprint, util::now_ms());
  });
  if (!earlier) co_return earlier.take_error();
  if (!*earlier) co_return std::optional<Submitted>();
  auto job = co_await run_blocking(blocking_, [&] { return store_.get_job(**earlier); });
  if (!job) co_return job.take_error();
  util::log_info("job.replayed", {{"job_id", job->id}, {"idempotency_key", submission.idempotency_key}});
  co_return std::optional<Submitted>(Submitted{std::move(*job), true});
}

asio::awaitable<Result<Submitted>> Service::submit(const Submission& query, std::vector<FormPart>& parts,
                                                   const Caller& caller) {
  Submission submission = query;
  if (const FormPart* url = find_part(parts, "webhook_url")) {
    if (Status allowed = check_webhook_url(url->data); !allowed) co_return allowed.take_error();
    submission.webhook.url = url->data;
  }
  FormPart* file = find_part(parts, "file");
  if (file == nullptr) {
    co_return Error::invalid_request("Missing form field 'file': upload the PDF as multipart/form-data field 'file'");
  }
  auto bytes = std::make_shared<const std::string>(std::move(file->data));
  file->data.clear();

  std::string fingerprint;
  if (!submission.idempotency_key.empty()) {
    fingerprint = submission_fingerprint(submission, *bytes);
    auto earlier = co_await replay(caller, submission, fingerprint);
    if (!earlier) co_return earlier.take_error();
    if (*earlier) co_return std::move(**earlier);
  }

  // The page count comes from a child process: this one never parses uploads.
  auto facts = co_await run_blocking(document_waits_, [&] { return documents_.inspect(*bytes); });
  if (!facts) co_return facts.take_error();
  auto selection = select_pages(submission, facts->page_count, options_.max_pages);
  if (!selection) co_return selection.take_error();

  jobs::NewJob job;
  job.submitted_at = util::now_ms();
  job.id = jobs::new_job_id(job.submitted_at);
  job.owner = caller.owner.value_or("");
  job.filename = file->filename.empty() ? std::string(kDefaultFilename) : file->filename;
  job.model = submission.model;
  // An image is read in its own pixels: its DPI is the one the boxes are in.
  job.dpi = facts->image_dpi > 0 ? facts->image_dpi : submission.dpi;
  job.ocr_mode = ocr::ocr_mode_name(submission.ocr_mode);
  job.total_pages = selection->count();
  job.document_pages = facts->page_count;
  if (!selection->selects_all()) {
    job.page_indexes = selection->indexes();
    job.pages = selection->text();
  }
  job.document = std::move(bytes);
  job.idempotency_key = submission.idempotency_key;
  job.fingerprint = fingerprint;
  job.webhook = submission.webhook;
  job.tenant = submission.tenant;
  job.priority = submission.priority;
  job.max_queued_pages_per_tenant = options_.max_queued_pages_per_tenant;
  auto created = co_await run_blocking(blocking_, [&] { return store_.create_job(job); });
  if (!created && created.error().kind == Error::Kind::conflict && !job.idempotency_key.empty()) {
    // A concurrent request with the same key won the race: answer with its job.
    auto earlier = co_await replay(caller, submission, fingerprint);
    if (!earlier) co_return earlier.take_error();
    if (*earlier) co_return std::move(**earlier);
  }
  if (!created && created.error().kind == Error::Kind::too_many) co_return created.take_error();
  if (!created) {
    util::log_error("job.not_stored", {{"job_id", job.id}, {"error", created.error().message}});
    co_return Error::unavailable("The job could not be stored, try again later: " + created.error().message)
        .retry_after(kRetryAfterSeconds);
  }
  util::log_info("job.submitted", {{"job_id", job.id}, {"model", job.model}, {"dpi", std::to_string(job.dpi)},
                                   {"ocr_mode", job.ocr_mode}, {"format", facts->format},
                                   {"pages", std::to_string(job.total_pages)},
                                   {"bytes", std::to_string(job.document->size())}, {"caller", caller.name},
                                   {"webhook", job.webhook.active() ? "yes" : "no"}});
  if (hooks_.on_job_created) hooks_.on_job_created();
  co_return Submitted{accepted_job(job), false};
}

asio::awaitable<Response> Service::cancel(std::string job_id, const Caller& caller) {
  auto job = co_await find_job(job_id, caller);
  if (!job) co_return error_response(job.error());
  const Status cancelled = co_await run_blocking(
      blocking_, [&] { return store_.cancel_job(job->id, "Job cancelled at the client's request", util::now_ms()); });
  if (!cancelled) co_return error_response(cancelled.error());
  util::log_info("job.cancelled", {{"job_id", job->id}, {"caller", caller.name}});
  co_return co_await status(std::move(job_id), caller);
}

asio::awaitable<Result<StreamSlot>> Service::open_stream(const Caller& caller) {
  // Without keys there is no tenant to cap: only the total applies.
  const jobs::StreamSlotRequest request{.slot_id = util::make_ulid(util::now_ms()),
                                        .node_id = options_.node_id,
                                        .owner = caller.owner,
                                        .per_owner_limit = options_.max_streams_per_key,
                                        .total_limit = options_.max_streams,
                                        .now_ms = util::now_ms(),
                                        .ttl = kStreamSlotTtl};
  auto admission = co_await run_blocking(blocking_, [&] { return store_.open_stream_slot(request); });
  if (!admission) co_return admission.take_error();
  switch (*admission) {
    case jobs::SlotAdmission::admitted:
      co_return StreamSlot(store_, blocking_, request.slot_id);
    case jobs::SlotAdmission::owner_full:
      co_return Error::too_many("This API key already has " + std::to_string(options_.max_streams_per_key) +
                                    " streams open, the most allowed; close one or poll /ocr/status instead",
                                kRetryAfterSeconds);
    case jobs::SlotAdmission::total_full:
      break;
  }
  co_return Error::unavailable("The server has " + std::to_string(options_.max_streams) +
                               " streams open, its limit; retry shortly or poll /ocr/status instead")
      .retry_after(kRetryAfterSeconds);
}

Response Service::models() const {
  return json_response(http::status::ok, {{"models", models_.describe()}, {"default", "dotsocr"}});
}

Response Service::health() const { return json_response(http::status::ok, {{"status", "ok"}}); }

asio::awaitable<Response> Service::ready() {
  const auto store = co_await run_blocking(blocking_, [&] { return store_.stats(util::now_ms()); });
  const std::string fleet = store ? std::to_string(store->live_worker_threads) + " worker threads live in the fleet"
                                  : "the fleet's workers are unknown";
  // An API-only node serves whether or not workers run: jobs wait in the store.
  const bool api_only = !hooks_.live_workers;
  const int workers = api_only ? 0 : hooks_.live_workers();
  const bool workers_ok = api_only || workers > 0;
  const std::string workers_detail = api_only ? "API-only node (--workers 0); " + fleet
                                              : std::to_string(workers) + " running on this node; " + fleet;
  json available = json::array();
  for (const auto& id : models_.model_ids()) {
    if (models_.check_available(id)) available.push_back(id);
  }
  const json checks = {
      {"store", {{"ok", store.ok()}, {"detail", store ? "reachable" : store.error().message}}},
      {"workers", {{"ok", workers_ok}, {"detail", workers_detail}}},
      {"models", {{"ok", !available.empty()}, {"available", available}}}};
  const bool ready = store.ok() && workers_ok && !available.empty();
  co_return json_response(ready ? http::status::ok : http::status::service_unavailable,
                          {{"status", ready ? "ready" : "not ready"}, {"checks", checks}});
}

asio::awaitable<Response> Service::metrics() {
  std::string text = co_await run_blocking(blocking_, [&] { return metrics_.render(); });
  Response response(http::status::ok, 11);
  response.set(http::field::content_type, util::metrics::kContentType);
  response.body() = std::move(text);
  response.prepare_payload();
  co_return response;
}

namespace {

constexpr int kDefaultListLimit = 20;
constexpr int kMaxListLimit = 100;

Result<jobs::ListQuery> parse_list_query(const Target& target) {
  jobs::ListQuery query;
  query.now_ms = util::now_ms();
  query.limit = kDefaultListLimit;
  if (auto text = target.param("limit")) {
    const auto limit = parse_int(*text);
    if (!limit || *limit < 1 || *limit > kMaxListLimit) {
      return Error::invalid_request("limit must be an integer from 1 to " + std::to_string(kMaxListLimit) +
                                    ", got '" + std::string(*text) + "'");
    }
    query.limit = *limit;
  }
  if (auto text = target.param("status"); text && !text->empty()) {
    query.status = jobs::parse_status(*text);
    if (!query.status) {
      return Error::invalid_request("status must be one of pending, running, completed, failed, expired, cancelled; got '" +
                                    std::string(*text) + "'");
    }
  }
  if (auto text = target.param("cursor"); text && !text->empty()) {
    if (!jobs::is_valid_job_id(*text)) {
      return Error::invalid_request("cursor must be the next_cursor of a previous page, got '" + std::string(*text) + "'");
    }
    query.before_id = *text;
  }
  return query;
}

}  // namespace

asio::awaitable<Response> Service::list_jobs(const Target& target, const Caller& caller) {
  auto query = parse_list_query(target);
  if (!query) co_return error_response(query.error());
  query->owner = caller.owner;
  auto list = co_await run_blocking(blocking_, [&] { return store_.list_jobs(*query); });
  if (!list) co_return error_response(list.error());
  json entries = json::array();
  for (const auto& job : list->jobs) entries.push_back(job_summary(job, jobs::effective_status(job, query->now_ms)));
  const json next = list->more ? json(list->jobs.back().id) : json(nullptr);
  co_return json_response(http::status::ok, {{"jobs", std::move(entries)}, {"next_cursor", next}});
}

asio::awaitable<Response> Service::page_image(std::string job_id, std::string_view page, const Target& target,
                                              const Caller& caller) {
  constexpr int kMinImageDpi = 36;
  auto job = co_await find_job(job_id, caller);
  if (!job) co_return error_response(job.error());
  const auto index = parse_int(page);
  if (!index || *index < 0) co_return error_response(Error::invalid_request("page must be a page index (0, 1, ...)"));
  if (*index >= job->document_page_count()) {
    co_return error_response(Error::not_found("Job " + job->id + " has " + std::to_string(job->document_page_count()) +
                                              " pages; there is no page " + std::to_string(*index)));
  }
  int dpi = job->dpi;
  if (auto text = target.param("dpi")) {
    const auto asked = parse_int(*text);
    if (!asked || *asked < kMinImageDpi || *asked > job->dpi) {
      co_return error_response(Error::invalid_request("dpi must be an integer from " + std::to_string(kMinImageDpi) +
                                                      " to the job's " + std::to_string(job->dpi)));
    }
    dpi = *asked;
  }
  if (jobs::effective_status(*job, util::now_ms()) == jobs::JobStatus::expired) {
    co_return error_response(Error::not_found(expired_message(options_.result_ttl)));
  }
  auto png = co_await run_blocking(document_waits_, [&] { return render_page_png(*job, *index, dpi); });
  if (!png && png.error().kind == Error::Kind::not_found) {
    co_return error_response(Error::not_found(expired_message(options_.result_ttl)));
  }
  if (!png) co_return error_response(png.error());
  Response response(http::status::ok, 11);
  response.set(http::field::content_type, "image/png");
  // A page's pixels never change; results may expire, so keep it private.
  response.set(http::field::cache_control, "private, max-age=3600");
  response.body() = std::move(*png);
  response.prepare_payload();
  co_return response;
}

Result<std::string> Service::render_page_png(const jobs::Job& job, int page_index, int dpi) {
  auto bytes = store_.read_document(job.id);
  if (!bytes) return bytes.take_error();
  pdf::PageImageRequest request;
  request.page_index = page_index;
  request.dpi = dpi;
  return documents_.page_png(**bytes, request);
}

asio::awaitable<Result<jobs::Job>> Service::find_job(const std::string& job_id, const Caller& caller) {
  const Error unknown = Error::not_found("Job " + job_id + " not found");
  if (!jobs::is_valid_job_id(job_id)) co_return unknown;
  auto job = co_await run_blocking(blocking_, [&] { return store_.get_job(job_id); });
  if (!job && job.error().kind == Error::Kind::not_found) co_return unknown;
  if (job && caller.owner && job->owner != *caller.owner) co_return unknown;
  co_return job;
}

asio::awaitable<Result<std::vector<jobs::PageRecord>>> Service::read_pages(const std::string& job_id) {
  co_return co_await run_blocking(blocking_, [&] { return store_.read_pages(job_id); });
}

asio::awaitable<Response> Service::status(std::string job_id, const Caller& caller) {
  auto job = co_await find_job(job_id, caller);
  if (!job) co_return error_response(job.error());
  json body = status_body(*job, jobs::effective_status(*job, util::now_ms()), options_.result_ttl);
  if (job->webhook.active()) {
    auto deliveries = co_await run_blocking(blocking_, [&] { return store_.list_webhook_deliveries(job->id); });
    if (!deliveries) co_return error_response(deliveries.error());
    body["webhook"] = webhook_object(job->webhook, *deliveries);
  }
  co_return json_response(http::status::ok, std::move(body));
}

asio::awaitable<Response> Service::result(std::string job_id, bool annotate, const Caller& caller) {
  auto job = co_await find_job(job_id, caller);
  if (!job) co_return error_response(job.error());
  co_return co_await result_for(*job, annotate);
}

Response Service::expired_reply(const jobs::Job& job) const {
  return json_response(http::status::not_found, result_expired_body(job, options_.result_ttl));
}

asio::awaitable<Service::CompletedPages> Service::completed_pages(const jobs::Job& job) {
  const jobs::JobStatus status = jobs::effective_status(job, util::now_ms());
  switch (status) {
    case jobs::JobStatus::pending:
    case jobs::JobStatus::running:
      co_return CompletedPages{json_response(http::status::accepted, result_pending_body(job, status)), {}};
    case jobs::JobStatus::expired:
      co_return CompletedPages{expired_reply(job), {}};
    case jobs::JobStatus::failed:
      co_return CompletedPages{json_response(http::status::unprocessable_entity, result_failed_body(job)), {}};
    case jobs::JobStatus::cancelled:
      co_return CompletedPages{json_response(http::status::conflict, result_failed_body(job)), {}};
    case jobs::JobStatus::completed:
      break;
  }
  auto pages = co_await read_pages(job.id);
  if (!pages && pages.error().kind == Error::Kind::not_found) {
    // Deleted by the sweeper between the two reads.
    co_return CompletedPages{expired_reply(job), {}};
  }
  if (!pages) co_return CompletedPages{error_response(pages.error()), {}};
  co_return CompletedPages{std::nullopt, std::move(*pages)};
}

asio::awaitable<Response> Service::result_for(const jobs::Job& job, bool annotate) {
  CompletedPages completed = co_await completed_pages(job);
  if (completed.reply) co_return std::move(*completed.reply);
  json images = json::array();
  if (annotate && job.model == "dotsocr") {
    auto drawn = co_await run_blocking(document_waits_, [&] { return annotate_pages(job, completed.pages); });
    if (!drawn) co_return error_response(drawn.error());
    images = std::move(*drawn);
  }
  co_return json_response(http::status::ok, result_body(job, completed.pages, std::move(images)));
}

asio::awaitable<Response> Service::download(std::string job_id, std::string_view format_text, const Caller& caller) {
  const auto format = parse_download_format(format_text);
  if (!format) {
    co_return error_response(Error::not_found("There is no download '" + std::string(format_text) +
                                              "'; the formats are " + std::string(kDownloadFormats)));
  }
  auto job = co_await find_job(job_id, caller);
  if (!job) co_return error_response(job.error());
  CompletedPages completed = co_await completed_pages(*job);
  if (completed.reply) co_return std::move(*completed.reply);
  // Only the PDF needs the document, read in a child process; it may have
  // expired meanwhile. (Not a conditional expression: g++ 12 miscompiles a
  // co_await inside one.)
  Result<std::string> body = std::string();
  if (*format == DownloadFormat::searchable_pdf) {
    body = co_await run_blocking(document_waits_, [&] { return searchable_pdf(*job, completed.pages); });
  } else {
    body = text_download(*format, *job, completed.pages);
  }
  if (!body && body.error().kind == Error::Kind::not_found) co_return expired_reply(*job);
  if (!body) co_return error_response(body.error());
  Response response(http::status::ok, 11);
  response.set(http::field::content_type, download_content_type(*format));
  response.set(http::field::content_disposition, attachment_disposition(download_filename(job->filename, *format)));
  // A completed job's results never change; they may expire, so keep it private.
  response.set(http::field::cache_control, "private, max-age=3600");
  response.body() = std::move(*body);
  response.prepare_payload();
  co_return response;
}

Result<std::string> Service::searchable_pdf(const jobs::Job& job, const std::vector<jobs::PageRecord>& pages) {
  auto bytes = store_.read_document(job.id);
  if (!bytes) return bytes.take_error();
  return documents_.searchable_pdf(**bytes, searchable_page_texts(pages), job.dpi);
}

Result<json> Service::annotate_pages(const jobs::Job& job, const std::vector<jobs::PageRecord>& pages) {
  auto bytes = store_.read_document(job.id);
  if (!bytes) return bytes.take_error();

  json images = json::array();
  for (const auto& page : pages) {
    const json result = json::parse(page.result_json, nullptr, false);
    pdf::PageImageRequest request;
    request.page_index = page.page_index;
    request.dpi = job.dpi;
    request.line_width = outline_width_for(job.dpi);
    if (jobs::is_page_success(result)) {
      request.annotations = annotations_for_page(result["data"]);
    }
    // One child process per page, each within the document tool's limits.
    auto png = documents_.page_png(**bytes, request);
    if (!png) return png.take_error();
    images.push_back("data:image/png;base64," + util::base64_encode(*png));
  }
  return images;
}

}  // namespace visor::api

#include "api/service.hpp"

#include <charconv>

#include "api/annotate.hpp"
#include "api/blocking.hpp"
#include "api/views.hpp"
#include "pdf/document.hpp"
#include "util/base64.hpp"
#include "util/duration.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

namespace visor::api {
namespace {

namespace asio = boost::asio;
using json = Json;

constexpr int kMinDpi = 72;
constexpr int kMaxDpi = 600;
constexpr std::string_view kDefaultFilename = "document.pdf";

// MuPDF contexts are per thread; the blocking pool's threads each keep one.
pdf::Context& thread_pdf_context() {
  thread_local pdf::Context context;
  return context;
}

std::optional<int> parse_int(std::string_view text) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

FormPart* find_part(std::vector<FormPart>& parts, std::string_view name) {
  for (auto& part : parts) {
    if (part.name == name) return &part;
  }
  return nullptr;
}

// Opens the upload to learn its page count; the error says why a person's
// file cannot be processed.
Result<int> count_pages(const std::shared_ptr<const std::string>& bytes) {
  auto document = pdf::Document::open(thread_pdf_context(), bytes);
  if (!document) return document.take_error();
  return document->page_count();
}

}  // namespace

Service::Service(jobs::JobStore& store, asio::thread_pool& blocking, ServiceOptions options,
                 const ModelCatalog& models, std::function<void()> on_job_created)
    : store_(store),
      blocking_(blocking),
      options_(options),
      models_(models),
      on_job_created_(std::move(on_job_created)),
      watcher_(store, options.sse_poll) {}

Result<Submission> Service::parse_submission(const Target& target) const {
  Submission submission;
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
  if (Status available = models_.check_available(submission.model); !available) return available.take_error();
  return submission;
}

asio::awaitable<Result<jobs::Job>> Service::submit(const Submission& submission, std::vector<FormPart>& parts) {
  FormPart* file = find_part(parts, "file");
  if (file == nullptr) {
    co_return Error::invalid_request("Missing form field 'file': upload the PDF as multipart/form-data field 'file'");
  }
  auto bytes = std::make_shared<const std::string>(std::move(file->data));
  file->data.clear();

  auto pages = co_await run_blocking(blocking_, [&] { return count_pages(bytes); });
  if (!pages) co_return pages.take_error();
  if (*pages > options_.max_pages) {
    co_return Error::bad_input("The document has " + std::to_string(*pages) + " pages; this server accepts at most " +
                               std::to_string(options_.max_pages) + " pages per document");
  }

  jobs::NewJob job;
  job.submitted_at = util::now_ms();
  job.id = jobs::new_job_id(job.submitted_at);
  job.filename = file->filename.empty() ? std::string(kDefaultFilename) : file->filename;
  job.model = submission.model;
  job.dpi = submission.dpi;
  job.total_pages = *pages;
  job.document = std::move(bytes);
  auto created = co_await run_blocking(blocking_, [&] { return store_.create_job(job); });
  if (!created) {
    util::log_error("job.not_stored", {{"job_id", job.id}, {"error", created.error().message}});
    co_return Error::unavailable("The job could not be stored, try again later: " + created.error().message);
  }
  util::log_info("job.submitted", {{"job_id", job.id}, {"model", job.model}, {"dpi", std::to_string(job.dpi)},
                                   {"pages", std::to_string(job.total_pages)},
                                   {"bytes", std::to_string(job.document->size())}});
  if (on_job_created_) on_job_created_();

  jobs::Job accepted;
  accepted.id = job.id;
  accepted.filename = job.filename;
  accepted.model = job.model;
  accepted.dpi = job.dpi;
  accepted.total_pages = job.total_pages;
  accepted.submitted_at = job.submitted_at;
  co_return accepted;
}

Response Service::models() const {
  return json_response(http::status::ok, {{"models", models_.describe()}, {"default", "dotsocr"}});
}

asio::awaitable<Result<jobs::Job>> Service::find_job(const std::string& job_id) {
  if (!jobs::is_valid_job_id(job_id)) co_return Error::not_found("Job " + job_id + " not found");
  auto job = co_await run_blocking(blocking_, [&] { return store_.get_job(job_id); });
  if (!job && job.error().kind == Error::Kind::not_found) co_return Error::not_found("Job " + job_id + " not found");
  co_return job;
}

asio::awaitable<Result<std::vector<jobs::PageRecord>>> Service::read_pages(const std::string& job_id) {
  co_return co_await run_blocking(blocking_, [&] { return store_.read_pages(job_id); });
}

asio::awaitable<Response> Service::status(std::string job_id) {
  auto job = co_await find_job(job_id);
  if (!job) co_return error_response(job.error());
  co_return json_response(http::status::ok,
                          status_body(*job, jobs::effective_status(*job, util::now_ms()), options_.result_ttl));
}

asio::awaitable<Response> Service::result(std::string job_id, bool annotate) {
  auto job = co_await find_job(job_id);
  if (!job) co_return error_response(job.error());
  co_return co_await result_for(*job, annotate);
}

asio::awaitable<Response> Service::result_for(const jobs::Job& job, bool annotate) {
  const jobs::JobStatus status = jobs::effective_status(job, util::now_ms());
  switch (status) {
    case jobs::JobStatus::pending:
    case jobs::JobStatus::running:
      co_return json_response(http::status::accepted, result_pending_body(job, status));
    case jobs::JobStatus::expired:
      co_return json_response(http::status::not_found, result_expired_body(job, options_.result_ttl));
    case jobs::JobStatus::failed:
      co_return json_response(http::status::unprocessable_entity, result_failed_body(job));
    case jobs::JobStatus::completed:
      break;
  }
  auto pages = co_await read_pages(job.id);
  if (!pages && pages.error().kind == Error::Kind::not_found) {
    // Deleted by the sweeper between the two reads.
    co_return json_response(http::status::not_found, result_expired_body(job, options_.result_ttl));
  }
  if (!pages) co_return error_response(pages.error());

  json images = json::array();
  if (annotate && job.model == "dotsocr") {
    auto drawn = co_await run_blocking(blocking_, [&] { return annotate_pages(job, *pages); });
    if (!drawn) co_return error_response(drawn.error());
    images = std::move(*drawn);
  }
  co_return json_response(http::status::ok, result_body(job, *pages, std::move(images)));
}

Result<json> Service::annotate_pages(const jobs::Job& job, const std::vector<jobs::PageRecord>& pages) {
  auto bytes = store_.read_document(job.id);
  if (!bytes) return bytes.take_error();
  pdf::Context& context = thread_pdf_context();
  auto document = pdf::Document::open(context, std::move(*bytes));
  if (!document) return document.take_error();

  json images = json::array();
  for (const auto& page : pages) {
    auto image = document->render(page.page_index, job.dpi, 3);
    if (!image) return image.take_error();
    const json result = json::parse(page.result_json, nullptr, false);
    std::vector<pdf::Annotation> boxes;
    if (result.is_object() && result.value("status", "") == "success" && result.contains("data")) {
      boxes = annotations_for_page(result["data"]);
    }
    auto png = pdf::draw_annotations_png(context, *image, boxes, outline_width_for(job.dpi));
    if (!png) return png.take_error();
    images.push_back("data:image/png;base64," + util::base64_encode(*png));
  }
  return images;
}

}  // namespace visor::api

#pragma once
// Turns one page of a document into its page result: render with MuPDF at the
// job's DPI, run the engine, wrap the outcome in the API's page shape. Used by
// the worker pool and by `visor ocr`, so both produce identical results.
//
// Thread safety: one PageProcessor per thread (it owns a MuPDF context).

#include <atomic>
#include <chrono>
#include <limits>
#include <memory>
#include <optional>
#include <optional>
#include <stop_token>
#include <string>

#include <nlohmann/json.hpp>

#include "jobs/page_result.hpp"
#include "ocr/engine.hpp"
#include "ocr/model.hpp"
#include "pdf/document.hpp"
#include "util/result.hpp"

namespace visor::worker {

// What the local work on one page may cost: the work this process does
// itself on untrusted content (MuPDF, the embedded engine). A remote
// model's requests are not local work; they have their own timeout and
// retries (--remote-timeout, --remote-retries).
struct PageLimits {
  // The largest page image rendered (--max-page-pixels); larger pages are
  // page errors, never scaled down.
  double max_pixels = 200e6;
  // Wall time of the local work on one page (--page-timeout): rendering and
  // recognition together for the embedded engine, each render for a remote
  // model. A page over it is a page error, not retried: the same page would
  // take as long again.
  // The default is twice the slowest legitimate page measured at 600 DPI
  // (bench/page_times.py: a 17 x 28 in poster page of 172 million pixels,
  // just under max_pixels, 260 s on 2 cores; Letter pages take at most 10 s).
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
  // The most MuPDF may hold while reading one page (--page-memory), so
  // that a page costing far more than its size (a decompression bomb) is
  // a page error at once rather than minutes of a worker and gigabytes:
  // nullopt derives it from the page (page_memory_budget); 0 for none but
  // the process's own limit (--worker-memory).
  std::optional<std::uint64_t> page_memory;
};

// The automatic budget of a page rendered at width × height pixels:
// kPageMemoryPerPixel bytes a pixel (four RGBA images of it, room for the
// images it draws at higher resolutions than its own), at least
// kMinPageMemory, enough for a 1200 DPI scan drawn on a Letter page.
inline constexpr std::uint64_t kPageMemoryPerPixel = 64;
inline constexpr std::uint64_t kMinPageMemory = std::uint64_t{1} << 30;
std::uint64_t page_memory_budget(int width, int height);

// "Page 3 took longer than the per-page limit of 10 minutes (--page-timeout)";
// too_large, so that nobody retries it.
Error page_timeout_error(int page_index, std::chrono::milliseconds limit);

// The deadline of the local work a worker thread is doing now, posted for
// a watchdog on another thread. MuPDF and Tesseract stop themselves at
// their deadline between operations, but one long operation (decoding one
// huge image) checks nothing, and no thread can be stopped from outside:
// the worker pool ends the process when local work overruns its deadline.
// Thread safety: armed by one thread, read by any.
class LocalDeadline {
 public:
  using Clock = std::chrono::steady_clock;

  // Posts `deadline` until the returned guard ends. Guards do not nest.
  class Armed {
   public:
    explicit Armed(LocalDeadline* owner) : owner_(owner) {}
    ~Armed() {
      if (owner_ != nullptr) owner_->at_.store(kNone);
    }
    Armed(const Armed&) = delete;
    Armed& operator=(const Armed&) = delete;

   private:
    LocalDeadline* owner_;
  };

  [[nodiscard]] Armed arm(Clock::time_point deadline) {
    at_.store(deadline.time_since_epoch().count());
    return Armed(this);
  }

  // The deadline of the local work in progress; nullopt when none is.
  std::optional<Clock::time_point> current() const {
    const Clock::rep at = at_.load();
    if (at == kNone) return std::nullopt;
    return Clock::time_point(Clock::duration(at));
  }

 private:
  static constexpr Clock::rep kNone = std::numeric_limits<Clock::rep>::min();
  std::atomic<Clock::rep> at_{kNone};
};

// A page's result: its data in the model's format, the path that made it
// (ocr::kSourceTextLayer or kSourceOcr) and the engine.
struct PageData {
  nlohmann::json data;
  std::string_view source;
  std::string engine;
};

// The page shape of `outcome` (jobs/page_result.hpp): success with its data
// and source, or an error with its message.
jobs::PageJson page_record(const Result<PageData>& outcome);

class PageProcessor {
 public:
  // REQUIRES: `engine` and `deadline` (when given) outlive this. The
  // processor posts the deadline of each step of local work to `deadline`.
  explicit PageProcessor(ocr::Engine& engine, PageLimits limits = {}, LocalDeadline* deadline = nullptr);

  // Opens a document for processing; the error (bad_input) is a reason to
  // fail the whole job.
  Result<pdf::Document> open(std::shared_ptr<const std::string> bytes);

  // The page's data in `model`'s format, read as `mode` says: from its
  // text layer when ocr::judge_text_layer trusts it (automatic, text), else
  // by the engine (automatic, ocr); in text mode a page without a usable
  // text layer is a page error naming why. Errors are page errors:
  // too_large for a page over the pixel limit, over the time limit, or out
  // of memory. Requesting `abandon` (from any thread) stops reading,
  // rendering and the embedded engine early; the result is then an error
  // nobody should record.
  Result<PageData> process(pdf::Document& document, int page_index, int dpi, ocr::Model model,
                           ocr::OcrMode mode = ocr::OcrMode::automatic, std::stop_token abandon = {});

  std::string engine_name() const { return engine_.name(); }
  const PageLimits& limits() const { return limits_; }

 private:
  class DocumentPage;
  Result<PageData> process_page(pdf::Document& document, int page_index, int dpi, ocr::Model model,
                                ocr::OcrMode mode, const std::stop_token& abandon);
  // The page from its text layer; nullopt when the layer cannot be
  // trusted and `mode` lets the engine read it instead.
  Result<std::optional<PageData>> from_text_layer(pdf::Document& document, int page_index, int dpi, ocr::Model model,
                                                  ocr::OcrMode mode, const std::stop_token& abandon);
  Result<PageData> recognise(pdf::Document& document, int page_index, int dpi, ocr::Model model,
                             const std::stop_token& abandon);
  // Posts the deadline of a step of local work for the watchdog.
  LocalDeadline::Armed post(LocalDeadline::Clock::time_point deadline);
  // A page's memory budget before its size is known, and once it is; each
  // says how it was set in budget_basis_, for its error.
  void start_memory_budget();
  void budget_memory(int width, int height, int dpi);

  // How the current page's memory budget was set ("" when none applies).
  std::string budget_basis_;

  ocr::Engine& engine_;
  PageLimits limits_;
  LocalDeadline* deadline_;
  pdf::Context context_;
};

}  // namespace visor::worker

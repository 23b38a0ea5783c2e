#include "worker/page_processor.hpp"

#include <new>
#include <system_error>

#include "ocr/text_layer.hpp"
#include "util/duration.hpp"

namespace visor::worker {
namespace {

using Clock = LocalDeadline::Clock;

constexpr char kMaxPixelsSetting[] = "--max-page-pixels";
constexpr char kMemorySetting[] = "--worker-memory";

pdf::RenderLimits render_limits(const PageLimits& limits) {
  pdf::RenderLimits out;
  out.max_pixels = limits.max_pixels;
  out.max_memory_bytes = limits.page_memory.value_or(0);
  out.max_pixels_setting = kMaxPixelsSetting;
  out.memory_setting = kMemorySetting;
  return out;
}

// A page that ran out of memory under --worker-memory: `what` ran out.
Error out_of_memory(int page_index, const std::string& what) {
  return Error::too_large("Page " + std::to_string(page_index + 1) + ": " + what + "; raise " +
                          std::string(kMemorySetting) + " to allow more");
}

// MuPDF was refused memory by the page's budget.
Error over_budget(int page_index, const std::string& basis) {
  return Error::too_large("Page " + std::to_string(page_index + 1) + " needed more memory than its budget of " +
                          basis + " (--page-memory); a page this costly is usually a decompression bomb");
}

// "5 minutes", "2 seconds", "250 ms".
std::string describe_limit(std::chrono::milliseconds limit) {
  if (limit.count() % 1000 != 0) return std::to_string(limit.count()) + " ms";
  return util::describe_duration(std::chrono::duration_cast<std::chrono::seconds>(limit));
}

// A page smaller than this (a page box clipped to nothing, a hairline) holds
// nothing to read; Tesseract crashes on some such images, so no engine sees them.
constexpr int kMinReadablePixels = 8;

nlohmann::json empty_result(ocr::Model model) {
  return model == ocr::Model::dotsocr ? nlohmann::json::array() : nlohmann::json("");
}

// A step of local work that failed after its deadline failed because of
// it, whatever the library said (MuPDF and Tesseract stop half way).
template <class T>
Result<T> unless_late(Result<T> outcome, Clock::time_point deadline, int page_index,
                      std::chrono::milliseconds limit) {
  if (!outcome && Clock::now() >= deadline) return page_timeout_error(page_index, limit);
  return outcome;
}

}  // namespace

std::uint64_t page_memory_budget(int width, int height) {
  const std::uint64_t pixels = static_cast<std::uint64_t>(std::max(0, width)) * static_cast<std::uint64_t>(std::max(0, height));
  return std::max(kMinPageMemory, pixels * kPageMemoryPerPixel);
}

Error page_timeout_error(int page_index, std::chrono::milliseconds limit) {
  return Error::too_large("Page " + std::to_string(page_index + 1) + " took longer than the per-page limit of " +
                          describe_limit(limit) + " (--page-timeout)");
}

// One page of an open document, rendered on demand for engines that render
// it themselves (remote models); each render is a step of local work.
class PageProcessor::DocumentPage final : public ocr::PageRenderer {
 public:
  DocumentPage(PageProcessor& processor, pdf::Document& document, int page_index, std::stop_token abandon)
      : processor_(processor), document_(document), page_index_(page_index), abandon_(std::move(abandon)) {}

  Result<std::pair<int, int>> pixel_size(double dpi) override {
    const auto deadline = Clock::now() + processor_.limits_.timeout;
    const auto armed = processor_.post(deadline);
    auto size = unless_late(document_.pixel_size(page_index_, dpi), deadline, page_index_, processor_.limits_.timeout);
    if (!size) return size.take_error();
    return std::pair{size->width, size->height};
  }

  Result<util::Image> render_to_size(int width, int height, int channels) override {
    const auto deadline = Clock::now() + processor_.limits_.timeout;
    const auto armed = processor_.post(deadline);
    return unless_late(document_.render_to_size(page_index_, width, height, channels, deadline, abandon_), deadline,
                       page_index_, processor_.limits_.timeout);
  }

  Result<std::string> encode_png(const util::Image& image) override {
    return pdf::encode_png(processor_.context_, image);
  }

 private:
  PageProcessor& processor_;
  pdf::Document& document_;
  int page_index_;
  std::stop_token abandon_;
};

PageProcessor::PageProcessor(ocr::Engine& engine, PageLimits limits, LocalDeadline* deadline)
    : engine_(engine), limits_(limits), deadline_(deadline), context_(render_limits(limits)) {}

LocalDeadline::Armed PageProcessor::post(Clock::time_point deadline) {
  return deadline_ != nullptr ? deadline_->arm(deadline) : LocalDeadline::Armed(nullptr);
}

Result<pdf::Document> PageProcessor::open(std::shared_ptr<const std::string> bytes) {
  const auto armed = post(Clock::now() + limits_.timeout);
  return pdf::Document::open(context_, std::move(bytes));
}

Result<PageData> PageProcessor::process(pdf::Document& document, int page_index, int dpi, ocr::Model model,
                                       ocr::OcrMode mode, std::stop_token abandon) {
  start_memory_budget();
  Result<PageData> outcome = [&]() -> Result<PageData> {
    try {
      return process_page(document, page_index, dpi, model, mode, abandon);
    } catch (const std::bad_alloc&) {
      return out_of_memory(page_index, "out of memory");
    } catch (const std::system_error& e) {
      // Under the address-space limit, starting the render's alarm thread is
      // what fails when the page leaves too little memory for a stack.
      return out_of_memory(page_index, std::string("out of resources (") + e.what() + ")");
    }
  }();
  // MuPDF goes on past an image it could not decode, so a page may come
  // back whole but for the bomb: still an error, or it would silently lack
  // what did not fit.
  if (!budget_basis_.empty() && context_.memory_budget_refused()) return over_budget(page_index, budget_basis_);
  return outcome;
}

void PageProcessor::start_memory_budget() {
  (void)context_.memory_budget_refused();
  if (limits_.page_memory) {
    budget_basis_ = *limits_.page_memory > 0 ? util::describe_size(*limits_.page_memory) : "";
    return;
  }
  // Until the page's size is known (loading it may be what explodes), the least budget.
  context_.set_memory_budget(kMinPageMemory);
  budget_basis_ = util::describe_size(kMinPageMemory) + " (the least any page gets)";
}

void PageProcessor::budget_memory(int width, int height, int dpi) {
  if (limits_.page_memory) return;
  const std::uint64_t budget = page_memory_budget(width, height);
  context_.set_memory_budget(budget);
  budget_basis_ = util::describe_size(budget) + " (" + std::to_string(kPageMemoryPerPixel) + " bytes a pixel of its " +
                  std::to_string(width) + " x " + std::to_string(height) + " image at " + std::to_string(dpi) +
                  " DPI, at least " + util::describe_size(kMinPageMemory) + ")";
}

Result<PageData> PageProcessor::process_page(pdf::Document& document, int page_index, int dpi, ocr::Model model,
                                             ocr::OcrMode mode, const std::stop_token& abandon) {
  // An image is read in its own pixels, whatever DPI the job names.
  auto image_dpi = document.image_dpi(page_index);
  if (!image_dpi) return image_dpi.take_error();
  dpi = image_dpi->value_or(dpi);
  DocumentPage page(*this, document, page_index, abandon);
  auto size = page.pixel_size(dpi);
  if (!size) return size.take_error();
  if (size->first < kMinReadablePixels || size->second < kMinReadablePixels) {
    return PageData{empty_result(model), ocr::kSourceOcr, engine_.name()};
  }
  budget_memory(size->first, size->second, dpi);
  if (mode != ocr::OcrMode::ocr) {
    auto read = from_text_layer(document, page_index, dpi, model, mode, abandon);
    if (!read) return read.take_error();
    if (*read) return std::move(**read);
  }
  return recognise(document, page_index, dpi, model, abandon);
}

Result<std::optional<PageData>> PageProcessor::from_text_layer(pdf::Document& document, int page_index, int dpi,
                                                               ocr::Model model, ocr::OcrMode mode,
                                                               const std::stop_token& abandon) {
  // nullopt sends the page to OCR (auto); text mode makes it a page error.
  const auto without_text_layer = [&](const std::string& reason) -> Result<std::optional<PageData>> {
    if (mode == ocr::OcrMode::automatic) return std::optional<PageData>();
    return Error::bad_input("Page " + std::to_string(page_index + 1) + " has no usable text layer: " + reason +
                            "; ocr_mode text reads text layers only (auto or ocr would OCR the page)");
  };
  // Reading an image's content would only decode it once more for nothing.
  if (document.format().image) return without_text_layer("the page has no text layer (the document is an image)");

  // Reading the page's content is local work on untrusted data, like rendering.
  const auto deadline = Clock::now() + limits_.timeout;
  const auto armed = post(deadline);
  auto content = unless_late(document.read_content(page_index, dpi, deadline, abandon), deadline, page_index,
                             limits_.timeout);
  if (content) {
    const ocr::TextLayerTrust trust = ocr::judge_text_layer(*content);
    if (!trust.usable) return without_text_layer(trust.reason);
    return std::optional<PageData>(
        PageData{ocr::text_layer_result(*content, model), ocr::kSourceTextLayer, ocr::text_layer_engine_name()});
  }
  if (content.error().kind == Error::Kind::bad_input) {
    return without_text_layer("its content cannot be read (" + content.error().message + ")");
  }
  return content.take_error();  // out of time or memory, abandoned: as for a render
}

Result<PageData> PageProcessor::recognise(pdf::Document& document, int page_index, int dpi, ocr::Model model,
                                          const std::stop_token& abandon) {
  DocumentPage page(*this, document, page_index, abandon);
  const auto made = [this](Result<nlohmann::json> data) -> Result<PageData> {
    if (!data) return data.take_error();
    return PageData{std::move(*data), ocr::kSourceOcr, engine_.name()};
  };
  if (engine_.renders_itself(model)) {
    // Remote requests keep their own timeouts: no deadline, only abandonment.
    const util::Image none;
    return made(engine_.recognize(
        ocr::PageInput{none, dpi, &page, std::chrono::steady_clock::time_point::max(), abandon}, model));
  }

  // Rendering and the embedded engine share one deadline.
  const auto deadline = Clock::now() + limits_.timeout;
  const auto armed = post(deadline);
  auto image =
      unless_late(document.render(page_index, dpi, 1, deadline, abandon), deadline, page_index, limits_.timeout);
  if (!image) return image.take_error();
  return made(unless_late(engine_.recognize(ocr::PageInput{*image, dpi, &page, deadline, abandon}, model), deadline,
                          page_index, limits_.timeout));
}

jobs::PageJson page_record(const Result<PageData>& outcome) {
  return outcome ? jobs::page_success(outcome->data, outcome->source) : jobs::page_error(outcome.error().message);
}

}  // namespace visor::worker

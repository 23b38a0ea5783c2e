#include "worker/page_processor.hpp"

namespace visor::worker {

PageProcessor::PageProcessor(ocr::Engine& engine) : engine_(engine) {}

Result<pdf::Document> PageProcessor::open(std::shared_ptr<const std::string> bytes) {
  return pdf::Document::open(context_, std::move(bytes));
}

namespace {

// One page of an open document, rendered on demand.
class DocumentPage final : public ocr::PageRenderer {
 public:
  DocumentPage(pdf::Context& context, pdf::Document& document, int page_index)
      : context_(context), document_(document), page_index_(page_index) {}

  Result<std::pair<int, int>> pixel_size(double dpi) override {
    auto size = document_.pixel_size(page_index_, dpi);
    if (!size) return size.take_error();
    return std::pair{size->width, size->height};
  }

  Result<util::Image> render_to_size(int width, int height, int channels) override {
    return document_.render_to_size(page_index_, width, height, channels);
  }

  Result<std::string> encode_png(const util::Image& image) override { return pdf::encode_png(context_, image); }

 private:
  pdf::Context& context_;
  pdf::Document& document_;
  int page_index_;
};

// A page smaller than this (a page box clipped to nothing, a hairline) holds
// nothing to read; Tesseract crashes on some such images, so no engine sees them.
constexpr int kMinReadablePixels = 8;

nlohmann::json empty_result(ocr::Model model) {
  return model == ocr::Model::dotsocr ? nlohmann::json::array() : nlohmann::json("");
}

}  // namespace

Result<nlohmann::json> PageProcessor::process(pdf::Document& document, int page_index, int dpi, ocr::Model model) {
  DocumentPage page(context_, document, page_index);
  auto size = document.pixel_size(page_index, dpi);
  if (!size) return size.take_error();
  if (size->width < kMinReadablePixels || size->height < kMinReadablePixels) return empty_result(model);
  if (engine_.renders_itself(model)) return engine_.recognize(ocr::PageInput{util::Image{}, dpi, &page}, model);
  auto image = document.render(page_index, dpi, 1);
  if (!image) return image.take_error();
  return engine_.recognize(ocr::PageInput{*image, dpi, &page}, model);
}

nlohmann::json page_result(const Result<nlohmann::json>& outcome) {
  if (outcome) return {{"status", "success"}, {"data", *outcome}};
  return {{"status", "error"}, {"error", outcome.error().message}};
}

}  // namespace visor::worker

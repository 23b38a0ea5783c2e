#include "worker/page_processor.hpp"

namespace visor::worker {

PageProcessor::PageProcessor(ocr::Engine& engine) : engine_(engine) {}

Result<pdf::Document> PageProcessor::open(std::shared_ptr<const std::string> bytes) {
  return pdf::Document::open(context_, std::move(bytes));
}

Result<nlohmann::json> PageProcessor::process(pdf::Document& document, int page_index, int dpi, ocr::Model model) {
  auto image = document.render(page_index, dpi, 1);
  if (!image) return image.take_error();
  return engine_.recognize(ocr::PageInput{*image, dpi}, model);
}

nlohmann::json page_result(const Result<nlohmann::json>& outcome) {
  if (outcome) return {{"status", "success"}, {"data", *outcome}};
  return {{"status", "error"}, {"error", outcome.error().message}};
}

}  // namespace visor::worker

#pragma once
// Turns one page of a document into its page result: render with MuPDF at the
// job's DPI, run the engine, wrap the outcome in the API's page shape. Used by
// the worker pool and by `visor ocr`, so both produce identical results.
//
// Thread safety: one PageProcessor per thread (it owns a MuPDF context).

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "ocr/engine.hpp"
#include "pdf/document.hpp"
#include "util/result.hpp"

namespace visor::worker {

class PageProcessor {
 public:
  // REQUIRES: `engine` outlives this.
  explicit PageProcessor(ocr::Engine& engine);

  // Opens a document for processing; the error (bad_input) is a reason to
  // fail the whole job.
  Result<pdf::Document> open(std::shared_ptr<const std::string> bytes);

  // The page's data in `model`'s format; errors are page errors.
  Result<nlohmann::json> process(pdf::Document& document, int page_index, int dpi, ocr::Model model);

  std::string engine_name() const { return engine_.name(); }

 private:
  ocr::Engine& engine_;
  pdf::Context context_;
};

// {"status": "success", "data": ...} or {"status": "error", "error": ...}.
nlohmann::json page_result(const Result<nlohmann::json>& outcome);

}  // namespace visor::worker

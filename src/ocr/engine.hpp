#pragma once
// The engine interface: one page image in, the model's page result out.

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "ocr/model.hpp"
#include "util/image.hpp"
#include "util/result.hpp"

namespace visor::ocr {

struct PageInput {
  const util::Image& image;  // the page rendered at `dpi`, channels 1
  int dpi = 200;
};

// Thread safety: an Engine instance is used by one thread at a time; each
// worker thread owns its own instances.
class Engine {
 public:
  virtual ~Engine() = default;

  // "tesseract 5.3.0", or a remote model's served name.
  virtual std::string name() const = 0;

  // The page's result in `model`'s format: for dotsocr a JSON array of
  // elements (see layout.hpp), for lightonocr a JSON string of Markdown.
  // Errors are page errors: the caller records them for this page only.
  virtual Result<nlohmann::json> recognize(const PageInput& page, Model model) = 0;
};

// The embedded engine: Tesseract 5 (LSTM, English) plus layout rules.
// Throws std::runtime_error when Tesseract's language data cannot be loaded.
std::unique_ptr<Engine> make_tesseract_engine();

// "tesseract 5.3.0" without creating an engine.
std::string tesseract_engine_name();

}  // namespace visor::ocr

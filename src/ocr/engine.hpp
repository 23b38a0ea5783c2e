#pragma once
// The engine interface: one page image in, the model's page result out.

#include <chrono>
#include <stop_token>
#include <memory>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "ocr/model.hpp"
#include "util/image.hpp"
#include "util/result.hpp"

namespace visor::ocr {

// Renders the page being recognised, for engines that need their own image
// (remote vision models want colour at sizes of their own).
class PageRenderer {
 public:
  virtual ~PageRenderer() = default;
  // The size in pixels of the page rendered at `dpi`: the coordinate space
  // of every box in a dotsocr result.
  virtual Result<std::pair<int, int>> pixel_size(double dpi) = 0;
  // The page stretched to exactly width × height, channels 1 or 3.
  virtual Result<util::Image> render_to_size(int width, int height, int channels) = 0;
  virtual Result<std::string> encode_png(const util::Image& image) = 0;
};

struct PageInput {
  // The page rendered at `dpi`, channels 1; empty when the engine
  // renders_itself().
  const util::Image& image;
  int dpi = 200;
  PageRenderer* renderer = nullptr;  // set by the page processor
  // When the engine's own work on the page must stop (max: never). The
  // embedded engine stops at it and answers Error::timeout; remote engines
  // keep their per-request timeouts.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // Requested when nobody wants the result any more (the page's lease was
  // lost: its job was cancelled). The embedded engine stops as at the
  // deadline and answers Error::conflict.
  std::stop_token abandon = {};
};

// Thread safety: an Engine instance is used by one thread at a time; each
// worker thread owns its own instances.
class Engine {
 public:
  virtual ~Engine() = default;

  // The engine that produced the latest result: "tesseract 5.3.0", or the
  // served model name of the endpoint that answered.
  virtual std::string name() const = 0;

  // True when recognize() renders the page itself through
  // PageInput::renderer; the caller then skips the grayscale render.
  virtual bool renders_itself(Model) const { return false; }

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

#pragma once
// The two output models the API offers.

#include <optional>
#include <string>
#include <string_view>

namespace visor::ocr {

enum class Model { dotsocr, lightonocr };

constexpr std::string_view model_name(Model m) {
  return m == Model::dotsocr ? "dotsocr" : "lightonocr";
}

inline std::optional<Model> parse_model(std::string_view name) {
  if (name == "dotsocr") return Model::dotsocr;
  if (name == "lightonocr") return Model::lightonocr;
  return std::nullopt;
}

// "dotsocr, lightonocr": for error messages.
inline constexpr std::string_view kAvailableModels = "dotsocr, lightonocr";

// How pages are read: from their own text layer where it can be trusted,
// else by OCR (automatic, the API's "auto"); always by OCR; or from the
// text layer only, a page without a usable one being a page error.
enum class OcrMode { automatic, ocr, text };

constexpr std::string_view ocr_mode_name(OcrMode mode) {
  switch (mode) {
    case OcrMode::automatic: return "auto";
    case OcrMode::ocr: return "ocr";
    case OcrMode::text: return "text";
  }
  return "auto";
}

inline std::optional<OcrMode> parse_ocr_mode(std::string_view name) {
  for (OcrMode mode : {OcrMode::automatic, OcrMode::ocr, OcrMode::text}) {
    if (name == ocr_mode_name(mode)) return mode;
  }
  return std::nullopt;
}

inline constexpr std::string_view kOcrModes = "auto, ocr, text";

// Which path made a page's result: its `source` field.
inline constexpr std::string_view kSourceTextLayer = "text-layer";
inline constexpr std::string_view kSourceOcr = "ocr";

}  // namespace visor::ocr

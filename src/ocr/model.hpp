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

}  // namespace visor::ocr

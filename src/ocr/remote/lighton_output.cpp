#include "ocr/remote/lighton_output.hpp"

namespace visor::ocr::remote {

std::string repair_escaped_math(std::string_view markdown) {
  std::string out;
  out.reserve(markdown.size());
  for (std::size_t i = 0; i < markdown.size(); ++i) {
    if (markdown[i] == '\\' && i + 1 < markdown.size() && markdown[i + 1] == '$') continue;
    out += markdown[i];
  }
  return out;
}

}  // namespace visor::ocr::remote

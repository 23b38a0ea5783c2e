#pragma once
#include <string>
#include <string_view>

namespace visor::ocr::remote {

// LightOnOCR sometimes escapes math delimiters ("\$x\$"); its official
// client turns them back into "$x$", and so does this.
std::string repair_escaped_math(std::string_view markdown);

}  // namespace visor::ocr::remote

#pragma once
// Small text helpers that every part of Visor needs the same way.

#include <string>
#include <string_view>

namespace visor::util {

// `text` without the whitespace (std::isspace: space, tab, CR, LF, VT, FF)
// at either end.
std::string_view trim_space(std::string_view text);

// `text` with ASCII letters in lower case (header names, URL schemes and hosts).
std::string to_lower(std::string_view text);

}  // namespace visor::util

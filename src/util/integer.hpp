#pragma once
// Whole decimal numbers from text (options, query parameters, protocol
// fields), parsed one way everywhere: the whole text, an optional '-' and
// digits, nothing else.

#include <cstdint>
#include <string_view>

#include "util/result.hpp"

namespace visor::util {

// bad_input, saying the text is no whole number, for anything else or an
// out-of-range value.
Result<std::int64_t> parse_integer(std::string_view text);

// Also within [min, max]; bad_input "<what> must be a whole number from
// <min> to <max>, got '<text>'".
Result<std::int64_t> parse_integer_in(std::string_view text, std::int64_t min, std::int64_t max,
                                      std::string_view what);

}  // namespace visor::util

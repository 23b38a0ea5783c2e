#pragma once
// Percent-encoding (RFC 3986), for URLs and RFC 5987 header parameters.

#include <string>
#include <string_view>

namespace visor::util {

// `text` with every byte but RFC 3986's unreserved characters (letters,
// digits, "-._~") written as %XX with upper-case hex digits.
std::string percent_encode(std::string_view text);

}  // namespace visor::util

#pragma once
#include <string>
#include <string_view>

namespace visor::util {

// Standard base64 (RFC 4648, with padding), as data: URIs expect.
std::string base64_encode(std::string_view bytes);

}  // namespace visor::util

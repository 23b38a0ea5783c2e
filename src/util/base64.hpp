#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace visor::util {

// Standard base64 (RFC 4648, with padding), as data: URIs expect.
std::string base64_encode(std::string_view bytes);

// The bytes of standard base64 text (padding optional); nullopt when the
// text has other characters or a length no encoding has.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace visor::util

#pragma once
// UTF-8 encoding and decoding, the one place either is written.

#include <string>
#include <string_view>
#include <vector>

namespace visor::util {

// Appends `c` to `out` as UTF-8. REQUIRES: c <= 0x10FFFF.
void append_utf8(std::string& out, char32_t c);

// The code points of `text`; each byte that does not start a well-formed
// sequence (stray continuation bytes, overlong forms, surrogates, a cut
// sequence) becomes one U+FFFD, so every input decodes.
std::vector<char32_t> decode_utf8(std::string_view text);

}  // namespace visor::util

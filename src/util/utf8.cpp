#include "util/utf8.hpp"

namespace visor::util {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

bool is_continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

// The length of the sequence `lead` starts (0 for a byte that starts
// none) and, in `bits`, the bits of the code point it carries.
int sequence_length(unsigned char lead, char32_t& bits) {
  struct Form {
    unsigned char mask, value;
    int length;
  };
  constexpr Form kForms[] = {{0x80, 0x00, 1}, {0xE0, 0xC0, 2}, {0xF0, 0xE0, 3}, {0xF8, 0xF0, 4}};
  for (const Form& form : kForms) {
    if ((lead & form.mask) != form.value) continue;
    bits = lead & static_cast<unsigned char>(~form.mask);
    return form.length;
  }
  return 0;
}

bool well_formed(char32_t c, int length) {
  constexpr char32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  return c >= kSmallest[length] && c <= 0x10FFFF && !(c >= 0xD800 && c <= 0xDFFF);
}

}  // namespace

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

std::vector<char32_t> decode_utf8(std::string_view text) {
  std::vector<char32_t> out;
  std::size_t i = 0;
  while (i < text.size()) {
    char32_t c = 0;
    const int length = sequence_length(static_cast<unsigned char>(text[i]), c);
    bool ok = length > 0 && i + length <= text.size();
    for (int k = 1; ok && k < length; ++k) {
      const auto byte = static_cast<unsigned char>(text[i + k]);
      ok = is_continuation(byte);
      c = (c << 6) | (byte & 0x3F);
    }
    if (ok && well_formed(c, length)) {
      out.push_back(c);
      i += length;
    } else {
      out.push_back(kReplacement);
      ++i;
    }
  }
  return out;
}

}  // namespace visor::util

#include "util/ulid.hpp"

#include <sys/random.h>

#include <array>
#include <stdexcept>

namespace visor::util {
namespace {

constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void fill_random(std::uint8_t* out, std::size_t size) {
  while (size > 0) {
    const ssize_t n = getrandom(out, size, 0);
    if (n < 0) throw std::runtime_error("getrandom failed: cannot make an unguessable id");
    out += n;
    size -= static_cast<std::size_t>(n);
  }
}

}  // namespace

std::string make_ulid(std::int64_t unix_ms) {
  std::array<std::uint8_t, 16> bytes{};
  const auto time = static_cast<std::uint64_t>(unix_ms);
  for (int i = 0; i < 6; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(time >> (40 - 8 * i));
  fill_random(bytes.data() + 6, 10);

  // 128 bits as 26 base32 digits, most significant first; the first digit
  // carries only the top 3 bits (130 bits of room for 128).
  std::string out(26, '0');
  for (int digit = 0; digit < 26; ++digit) {
    const int first_bit = digit * 5 - 2;  // bit offset from the top; may start before bit 0
    unsigned value = 0;
    for (int bit = first_bit; bit < first_bit + 5; ++bit) {
      value <<= 1;
      if (bit >= 0) value |= (bytes[static_cast<std::size_t>(bit / 8)] >> (7 - bit % 8)) & 1u;
    }
    out[static_cast<std::size_t>(digit)] = kCrockford[value];
  }
  return out;
}

bool is_ulid(std::string_view text) {
  if (text.size() != 26 || text[0] > '7') return false;
  return text.find_first_not_of(kCrockford) == std::string_view::npos;
}

}  // namespace visor::util

#pragma once
// ULIDs: 48 bits of milliseconds since the epoch, then 80 random bits from
// the operating system's CSPRNG, as 26 Crockford base32 characters. They sort
// by creation time and cannot be guessed.

#include <cstdint>
#include <string>
#include <string_view>

namespace visor::util {

// Thread-safe. Throws std::runtime_error if the OS random source fails.
std::string make_ulid(std::int64_t unix_ms);

// True when `text` is 26 Crockford base32 characters (upper case) whose first
// character is at most '7' (so the 128-bit value does not overflow).
bool is_ulid(std::string_view text);

}  // namespace visor::util

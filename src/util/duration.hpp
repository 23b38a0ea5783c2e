#pragma once
// Human-friendly durations and sizes for configuration: "30s", "10m", "7d",
// "100MiB".

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace visor::util {

// Parses "<integer><unit>" with unit s, m, h or d (a bare integer means
// seconds). bad_input on anything else, including zero or negative values.
Result<std::chrono::seconds> parse_duration(std::string_view text);

// "7 days", "30 seconds", "1 hour", "90 minutes": the largest unit that
// divides the duration exactly.
std::string describe_duration(std::chrono::seconds duration);

// Parses a byte size: a bare integer, or with a unit B, K/KB/KiB, M/MB/MiB,
// G/GB/GiB (all binary multiples). bad_input on anything else or zero.
Result<std::uint64_t> parse_size(std::string_view text);

// "100 MiB", "512 KiB", "17 bytes".
std::string describe_size(std::uint64_t bytes);

// Parses a count: a bare integer, or with a decimal unit K (thousand),
// M (million) or G (billion), e.g. "200M" for 200,000,000 pixels.
// bad_input on anything else or zero.
Result<std::uint64_t> parse_count(std::string_view text);

// "200 million", "1.5 million", "640 thousand", "12": at most one decimal.
std::string describe_count(std::uint64_t count);

}  // namespace visor::util

#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace visor::util {

using Clock = std::chrono::system_clock;

// Milliseconds since the Unix epoch: the unit every stored timestamp uses.
std::int64_t now_ms();

// "2025-11-06T10:30:00.000Z" (UTC, millisecond precision).
std::string format_iso8601(std::int64_t unix_ms);

}  // namespace visor::util

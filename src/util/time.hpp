#pragma once
#include <chrono>
#include <cstdint>
#include <stop_token>
#include <string>

namespace visor::util {

using Clock = std::chrono::system_clock;

// Milliseconds since the Unix epoch: the unit every stored timestamp uses.
std::int64_t now_ms();

// "2025-11-06T10:30:00.000Z" (UTC, millisecond precision).
std::string format_iso8601(std::int64_t unix_ms);

// Sleeps for `duration`, or less when `stop` is requested meanwhile.
void sleep_unless_stopped(std::chrono::milliseconds duration, const std::stop_token& stop);

}  // namespace visor::util

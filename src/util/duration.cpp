#include "util/duration.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <limits>

namespace visor::util {
namespace {

struct Unit {
  std::string_view suffix;
  std::uint64_t factor;
};

// Splits "123abc" into its leading integer and the rest; nullopt when there
// is no integer or it overflows.
bool split_number(std::string_view text, std::uint64_t& number, std::string_view& suffix) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, number);
  if (ec != std::errc() || ptr == text.data()) return false;
  suffix = std::string_view(ptr, static_cast<std::size_t>(end - ptr));
  while (!suffix.empty() && suffix.front() == ' ') suffix.remove_prefix(1);
  return true;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

template <std::size_t N>
Result<std::uint64_t> parse_with_units(std::string_view text, const std::array<Unit, N>& units,
                                       std::string_view what) {
  std::uint64_t number = 0;
  std::string_view suffix;
  if (!split_number(text, number, suffix) || number == 0) {
    return Error::bad_input("Invalid " + std::string(what) + " '" + std::string(text) + "'");
  }
  for (const Unit& unit : units) {
    if (!equals_ignoring_case(suffix, unit.suffix)) continue;
    if (number > std::numeric_limits<std::uint64_t>::max() / unit.factor) break;
    return number * unit.factor;
  }
  return Error::bad_input("Invalid " + std::string(what) + " '" + std::string(text) + "'");
}

}  // namespace

Result<std::chrono::seconds> parse_duration(std::string_view text) {
  static constexpr std::array<Unit, 5> kUnits{{{"", 1}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}}};
  auto seconds = parse_with_units(text, kUnits, "duration (use e.g. 30s, 10m, 12h, 7d)");
  if (!seconds) return seconds.take_error();
  return std::chrono::seconds(static_cast<std::chrono::seconds::rep>(*seconds));
}

std::string describe_duration(std::chrono::seconds duration) {
  static constexpr std::array<Unit, 4> kUnits{{{"day", 86400}, {"hour", 3600}, {"minute", 60}, {"second", 1}}};
  const auto total = static_cast<std::uint64_t>(std::max<std::chrono::seconds::rep>(duration.count(), 0));
  for (const Unit& unit : kUnits) {
    if (total % unit.factor != 0 && unit.factor != 1) continue;
    const std::uint64_t n = total / unit.factor;
    return std::to_string(n) + " " + std::string(unit.suffix) + (n == 1 ? "" : "s");
  }
  return "0 seconds";
}

Result<std::uint64_t> parse_size(std::string_view text) {
  static constexpr std::array<Unit, 11> kUnits{{{"", 1},
                                                {"b", 1},
                                                {"k", 1ull << 10},
                                                {"kb", 1ull << 10},
                                                {"kib", 1ull << 10},
                                                {"m", 1ull << 20},
                                                {"mb", 1ull << 20},
                                                {"mib", 1ull << 20},
                                                {"g", 1ull << 30},
                                                {"gb", 1ull << 30},
                                                {"gib", 1ull << 30}}};
  return parse_with_units(text, kUnits, "size (use e.g. 100MiB, 512KiB)");
}

std::string describe_size(std::uint64_t bytes) {
  static constexpr std::array<Unit, 3> kUnits{{{"GiB", 1ull << 30}, {"MiB", 1ull << 20}, {"KiB", 1ull << 10}}};
  for (const Unit& unit : kUnits) {
    if (bytes >= unit.factor && bytes % unit.factor == 0) {
      return std::to_string(bytes / unit.factor) + " " + std::string(unit.suffix);
    }
  }
  return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
}

Result<std::uint64_t> parse_count(std::string_view text) {
  static constexpr std::array<Unit, 4> kUnits{
      {{"", 1}, {"k", 1'000}, {"m", 1'000'000}, {"g", 1'000'000'000}}};
  return parse_with_units(text, kUnits, "count (use e.g. 200M, 50000K, 1G)");
}

std::string describe_count(std::uint64_t count) {
  static constexpr std::array<Unit, 3> kUnits{
      {{"billion", 1'000'000'000}, {"million", 1'000'000}, {"thousand", 1'000}}};
  for (const Unit& unit : kUnits) {
    if (count < unit.factor) continue;
    // In tenths of the unit, rounded; "1.0 million" is written "1 million".
    const std::uint64_t tenths = (count * 10 + unit.factor / 2) / unit.factor;
    std::string number = std::to_string(tenths / 10);
    if (tenths % 10 != 0) number += "." + std::to_string(tenths % 10);
    return number + " " + std::string(unit.suffix);
  }
  return std::to_string(count);
}

}  // namespace visor::util

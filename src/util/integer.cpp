#include "util/integer.hpp"

#include <charconv>
#include <string>

namespace visor::util {

Result<std::int64_t> parse_integer(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Error::bad_input("'" + std::string(text) + "' is not a whole number");
  }
  return value;
}

Result<std::int64_t> parse_integer_in(std::string_view text, std::int64_t min, std::int64_t max,
                                      std::string_view what) {
  auto value = parse_integer(text);
  if (value && *value >= min && *value <= max) return value;
  return Error::bad_input(std::string(what) + " must be a whole number from " + std::to_string(min) + " to " +
                          std::to_string(max) + ", got '" + std::string(text) + "'");
}

}  // namespace visor::util

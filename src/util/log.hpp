#pragma once
// One line per event on stderr: "2025-11-06T10:30:00.000Z level event key=value ...".
// Thread-safe; lines from different threads never interleave.

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace visor::util {

enum class LogLevel { debug, info, warn, error };

using LogField = std::pair<std::string_view, std::string>;

void set_log_level(LogLevel level);
void log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});

inline void log_info(std::string_view event, std::initializer_list<LogField> fields = {}) {
  log(LogLevel::info, event, fields);
}
inline void log_warn(std::string_view event, std::initializer_list<LogField> fields = {}) {
  log(LogLevel::warn, event, fields);
}
inline void log_error(std::string_view event, std::initializer_list<LogField> fields = {}) {
  log(LogLevel::error, event, fields);
}

}  // namespace visor::util

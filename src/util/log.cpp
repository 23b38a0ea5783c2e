#include "util/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "util/time.hpp"

namespace visor::util {
namespace {

std::atomic<LogLevel> g_level{LogLevel::info};
std::mutex g_mutex;

constexpr std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
  }
  return "info";
}

// Values with spaces or quotes are quoted so a line splits unambiguously.
void append_value(std::string& line, std::string_view value) {
  if (!value.empty() && value.find_first_of(" \"=\n") == std::string_view::npos) {
    line += value;
    return;
  }
  line += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') line += '\\';
    line += c == '\n' ? ' ' : c;
  }
  line += '"';
}

}  // namespace

void set_log_level(LogLevel level) { g_level = level; }

void log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  if (level < g_level.load()) return;
  std::string line = format_iso8601(now_ms());
  line += ' ';
  line += level_name(level);
  line += ' ';
  line += event;
  for (const auto& [key, value] : fields) {
    line += ' ';
    line += key;
    line += '=';
    append_value(line, value);
  }
  line += '\n';
  const std::lock_guard lock(g_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace visor::util

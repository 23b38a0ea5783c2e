#include "api/stream_cursor.hpp"

#include <charconv>

namespace visor::api {
namespace {

constexpr std::string_view kFinished = "end";
constexpr std::string_view kPagesPrefix = "p:";

std::optional<int> parse_index(std::string_view text) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

void append_range(std::string& out, int first, int last) {
  if (!out.ends_with(':')) out += ',';
  out += std::to_string(first);
  if (last != first) out += '-' + std::to_string(last);
}

}  // namespace

std::string format_cursor(const StreamCursor& cursor) {
  if (cursor.finished) return std::string(kFinished);
  std::string out(kPagesPrefix);
  std::optional<int> first;
  int last = 0;
  for (int page : cursor.pages_sent) {
    if (first && page == last + 1) {
      last = page;
      continue;
    }
    if (first) append_range(out, *first, last);
    first = last = page;
  }
  if (first) append_range(out, *first, last);
  return out;
}

std::optional<StreamCursor> parse_cursor(std::string_view text, int document_pages) {
  StreamCursor cursor;
  if (text == kFinished) {
    cursor.finished = true;
    return cursor;
  }
  if (!text.starts_with(kPagesPrefix)) return std::nullopt;
  text.remove_prefix(kPagesPrefix.size());
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view range = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const auto dash = range.find('-');
    const auto first = parse_index(range.substr(0, dash));
    const auto last = dash == std::string_view::npos ? first : parse_index(range.substr(dash + 1));
    if (!first || !last || *first > *last || *last >= document_pages) return std::nullopt;
    for (int page = *first; page <= *last; ++page) cursor.pages_sent.insert(page);
  }
  return cursor;
}

}  // namespace visor::api

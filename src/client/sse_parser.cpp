#include "client/sse_parser.hpp"

#include <utility>

namespace visor::client {

SseParser::SseParser(std::string last_event_id) : last_event_id_(std::move(last_event_id)) {}

std::vector<SseEvent> SseParser::feed(std::string_view piece) {
  std::vector<SseEvent> completed;
  if (after_cr_ && !piece.empty()) {
    after_cr_ = false;
    if (piece.front() == '\n') piece.remove_prefix(1);
  }
  while (!piece.empty()) {
    const auto end = piece.find_first_of("\r\n");
    if (end == std::string_view::npos) {
      line_.append(piece);
      break;
    }
    line_.append(piece.substr(0, end));
    const bool cr = piece[end] == '\r';
    piece.remove_prefix(end + 1);
    if (cr) {
      if (piece.empty()) {
        after_cr_ = true;
      } else if (piece.front() == '\n') {
        piece.remove_prefix(1);
      }
    }
    take_line(line_, completed);
    line_.clear();
  }
  return completed;
}

void SseParser::take_line(std::string_view line, std::vector<SseEvent>& completed) {
  if (line.empty()) {
    // An event without data is not dispatched; an id it had still counts (take_field).
    if (!data_.empty()) {
      data_.pop_back();
      completed.push_back({last_event_id_, event_type_.empty() ? "message" : event_type_, std::move(data_)});
    }
    data_.clear();
    event_type_.clear();
    return;
  }
  if (line.front() == ':') return;
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) {
    take_field(line, {});
    return;
  }
  std::string_view value = line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  take_field(line.substr(0, colon), value);
}

void SseParser::take_field(std::string_view name, std::string_view value) {
  if (name == "event") {
    event_type_ = value;
  } else if (name == "data") {
    data_.append(value);
    data_ += '\n';
  } else if (name == "id") {
    // The specification ignores ids with NUL: they could not be sent back in a header.
    if (value.find('\0') == std::string_view::npos) last_event_id_ = value;
  }
}

}  // namespace visor::client

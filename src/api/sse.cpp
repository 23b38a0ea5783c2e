#include "api/sse.hpp"

namespace visor::api {
namespace {

// Field values must not contain line breaks; drop them from names and ids.
void append_single_line(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c != '\n' && c != '\r') out += c;
  }
}

}  // namespace

std::string format_sse_event(std::string_view event, std::string_view data, std::string_view id) {
  std::string out;
  out.reserve(data.size() + event.size() + 32);
  if (!id.empty()) {
    out += "id: ";
    append_single_line(out, id);
    out += '\n';
  }
  out += "event: ";
  append_single_line(out, event);
  out += "\ndata: ";
  for (std::size_t i = 0; i < data.size(); ++i) {
    const char c = data[i];
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < data.size() && data[i + 1] == '\n') ++i;
      out += "\ndata: ";
    } else {
      out += c;
    }
  }
  out += "\n\n";
  return out;
}

std::string format_sse_comment(std::string_view text) {
  std::string out = ": ";
  append_single_line(out, text);
  out += "\n\n";
  return out;
}

}  // namespace visor::api

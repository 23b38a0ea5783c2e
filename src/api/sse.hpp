#pragma once
// Server-Sent Events framing (WHATWG HTML, "server-sent events").

#include <string>
#include <string_view>

namespace visor::api {

// One event: "id: <id>\n" (when id is not empty), "event: <name>\n", one
// "data: " line per line of `data`, then a blank line. CR, LF and CRLF in
// `data` all start a new data line, so no payload can end an event early or
// inject fields.
std::string format_sse_event(std::string_view event, std::string_view data, std::string_view id = {});

// A comment line, ignored by clients; keeps idle proxies from closing.
std::string format_sse_comment(std::string_view text);

}  // namespace visor::api

#pragma once
// What an SSE stream has delivered, written into every event's `id:` so a
// client that reconnects (the Last-Event-ID header, or ?last_event_id= for
// clients that cannot set headers) is not sent it again.
//
// Forms: "end" once the final event (result or error) was sent; otherwise
// "p:" followed by the page events sent as ranges, e.g. "p:0-3,5" ("p:" when
// none). Pure functions; no I/O.

#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace visor::api {

struct StreamCursor {
  std::set<int> pages_sent;  // indexes of the `page` events delivered
  bool finished = false;     // the final result or error event was delivered
};

std::string format_cursor(const StreamCursor& cursor);

// nullopt for text that is not a cursor, or names a page outside
// [0, document_pages): a stream then starts from the beginning.
std::optional<StreamCursor> parse_cursor(std::string_view text, int document_pages);

}  // namespace visor::api

#pragma once
// An incremental parser of a Server-Sent Events stream, as the WHATWG
// EventSource specification reads one: the stream may arrive in pieces cut
// anywhere (inside a line, between a CR and its LF), lines end with CRLF,
// LF or CR, lines starting with ':' are comments (heartbeats), `data:`
// lines of one event are joined with '\n', and the last `id:` seen stays
// the id of every later event until another replaces it. Pure; no I/O.
// (A leading byte order mark is not skipped: the servers this client
// talks to send none.)

#include <string>
#include <string_view>
#include <vector>

namespace visor::client {

struct SseEvent {
  std::string id;     // the last event id when the event ended ("" for none yet)
  std::string event;  // the `event:` field; "message" when the event named none
  std::string data;   // the `data:` lines joined with '\n'
};

class SseParser {
 public:
  // `last_event_id`: the id a stream that resumes another one starts from,
  // so that events without an id of their own still carry it.
  explicit SseParser(std::string last_event_id = {});

  // Reads the next piece of the stream; returns the events it completed,
  // in stream order. A trailing partial line or event is kept for the next
  // piece (and lost if none comes, as EventSource drops it).
  std::vector<SseEvent> feed(std::string_view piece);

  // The id to resume from (the Last-Event-ID header of a reconnection):
  // the last `id:` field read, even one of an event not yet complete.
  const std::string& last_event_id() const { return last_event_id_; }

 private:
  void take_line(std::string_view line, std::vector<SseEvent>& completed);
  void take_field(std::string_view name, std::string_view value);

  std::string line_;           // the current line, not yet ended
  bool after_cr_ = false;      // the last piece ended with CR: a leading LF belongs to it
  std::string last_event_id_;
  std::string event_type_;
  std::string data_;  // each data line followed by '\n', as the specification builds it
};

}  // namespace visor::client

#include "api/event_stream.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>

#include "api/sse.hpp"
#include "api/stream_cursor.hpp"
#include "api/views.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

namespace visor::api {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using json = Json;

// Sends SSE events as HTTP/1.1 chunks; a failed write means the client left,
// and nothing more is written: a write after one that failed could wait for
// the whole body timeout (seen with a client that closed its socket), and
// would hold the stream's slot meanwhile.
class EventWriter {
 public:
  explicit EventWriter(Connection& c) : c_(c) {}

  awaitable<bool> start(const RequestParser& parser) {
    http::response<http::empty_body> head(http::status::ok, parser.get().version());
    head.set(http::field::content_type, "text/event-stream");
    head.set(http::field::cache_control, "no-cache");
    head.set("X-Accel-Buffering", "no");
    add_cors_headers(head.base());
    head.keep_alive(false);
    head.chunked(true);
    http::response_serializer<http::empty_body> serializer(head);
    c_.status = head.result_int();
    c_.stream.expires_after(c_.options.body_timeout);
    auto [ec, n] = co_await http::async_write_header(c_.stream, serializer, kUseTuple);
    co_return !ec;
  }

  // `id` becomes the event's id: field (none when empty).
  awaitable<bool> send(std::string_view event, const json& data, std::string_view id) {
    if (client_left_) co_return false;
    const std::string text =
        format_sse_event(event, data.dump(-1, ' ', false, json::error_handler_t::replace), id);
    c_.stream.expires_after(c_.options.body_timeout);
    auto [ec, n] = co_await asio::async_write(c_.stream, http::make_chunk(asio::buffer(text)), kUseTuple);
    client_left_ = static_cast<bool>(ec);
    co_return !ec;
  }

  awaitable<void> finish() {
    if (client_left_) co_return;
    c_.stream.expires_after(c_.options.body_timeout);
    co_await asio::async_write(c_.stream, http::make_chunk_last(), kUseTuple);
  }

  bool client_left() const { return client_left_; }

 private:
  Connection& c_;
  bool client_left_ = false;
};

// The events that end a stream for a job in a final state; false when the
// job is not final yet. They carry the cursor "end": a client reconnecting
// after them gets only `close`, never the result twice.
awaitable<bool> send_final_events(EventWriter& events, Service& service, const jobs::Job& job,
                                  jobs::JobStatus status) {
  StreamCursor delivered;
  delivered.finished = true;
  const std::string end = format_cursor(delivered);
  const std::string expired = expired_message(service.options().result_ttl);
  switch (status) {
    case jobs::JobStatus::completed: {
      auto pages = co_await service.read_pages(job.id);
      if (pages) {
        co_await events.send("result", sse_result_event(job, *pages), end);
      } else {
        co_await events.send("error", sse_error_event(job.id, expired), end);
      }
      break;
    }
    case jobs::JobStatus::failed:
      co_await events.send("error", sse_error_event(job.id, job.error), end);
      break;
    case jobs::JobStatus::cancelled:
      co_await events.send("error", sse_error_event(job.id, job.error, "cancelled"), end);
      break;
    case jobs::JobStatus::expired:
      co_await events.send("error", sse_error_event(job.id, expired), end);
      break;
    default:
      co_return false;
  }
  co_await events.send("close", sse_close_event(), end);
  co_return true;
}

// Sends a `page` event for each finished page not yet in `cursor`, in page
// order, and records it there. False when the client left.
awaitable<bool> send_new_pages(EventWriter& events, Service& service, const jobs::Job& job, StreamCursor& cursor) {
  auto pages = co_await service.read_pages(job.id);
  if (!pages) co_return true;  // expired meanwhile: the final events say so
  for (const auto& page : *pages) {
    if (!page.finished || cursor.pages_sent.contains(page.page_index)) continue;
    cursor.pages_sent.insert(page.page_index);
    if (!co_await events.send("page", sse_page_event(job, page), format_cursor(cursor))) co_return false;
  }
  co_return true;
}

// Where a reconnecting client left off: the Last-Event-ID header that
// EventSource sends, else ?last_event_id= for a new EventSource that wants
// to resume. Unreadable values start the stream over.
StreamCursor resume_point(const RequestParser& parser, const Target& target, int document_pages) {
  std::string_view text = parser.get()["Last-Event-ID"];
  if (text.empty()) text = target.param("last_event_id").value_or("");
  return parse_cursor(text, document_pages).value_or(StreamCursor{});
}

// Counts a stream as open for its lifetime.
class OpenStream {
 public:
  explicit OpenStream(ApiMetrics& metrics) : metrics_(metrics) { metrics_.stream_opened(); }
  ~OpenStream() { metrics_.stream_closed(); }
  OpenStream(const OpenStream&) = delete;
  OpenStream& operator=(const OpenStream&) = delete;

 private:
  ApiMetrics& metrics_;
};

// Logs a stream's opening, and its end with why it ended: the client left
// when a write to it failed, else what the stream said last.
// REQUIRES: `events` outlives this.
class StreamLog {
 public:
  StreamLog(std::string job_id, const StreamCursor& cursor, const EventWriter& events)
      : job_id_(std::move(job_id)), events_(events) {
    util::log_info("stream.opened", {{"job_id", job_id_}, {"resumed", format_cursor(cursor)}});
  }
  ~StreamLog() {
    const std::string_view reason = events_.client_left() ? "client_left" : reason_;
    util::log_info("stream.closed", {{"job_id", job_id_}, {"reason", std::string(reason)}});
  }
  StreamLog(const StreamLog&) = delete;
  StreamLog& operator=(const StreamLog&) = delete;

  void ended(std::string_view reason) { reason_ = reason; }

 private:
  std::string job_id_;
  const EventWriter& events_;
  std::string_view reason_ = "unknown";
};

}  // namespace

awaitable<void> stream_job(Connection& c, RequestParser& parser, const Target& target, const std::string& job_id,
                           const Caller& caller) {
  Service& service = c.service;
  parser.body_limit(kSmallBodyLimit);
  if (!co_await drain_body(c, parser)) co_return;
  const auto pages_text = target.param("pages");
  const auto want_pages = pages_text ? parse_bool(*pages_text) : std::optional<bool>(false);
  if (!want_pages) {
    co_await write_response(c, error_response(Error::invalid_request("pages must be true or false")),
                            parser, false);
    co_return;
  }
  auto found = co_await service.find_job(job_id, caller);
  if (!found) {
    co_await write_response(c, error_response(found.error()), parser, false);
    co_return;
  }
  auto slot = co_await service.open_stream(caller);
  if (!slot) {
    co_await write_response(c, error_response(slot.error()), parser, false);
    co_return;
  }
  StreamCursor cursor = resume_point(parser, target, found->document_page_count());
  EventWriter events(c);
  if (!co_await events.start(parser)) co_return;
  const OpenStream counted(service.api_metrics());
  StreamLog log(job_id, cursor, events);
  if (cursor.finished) {
    log.ended("already_delivered");
    co_await events.send("close", sse_close_event(), format_cursor(cursor));
    co_await events.finish();
    co_return;
  }

  auto watch = service.watcher().watch(job_id, *found);
  const auto opened = std::chrono::steady_clock::now();
  auto last_sent = opened - service.options().sse_heartbeat;
  std::optional<std::pair<jobs::JobStatus, int>> last_state;
  int pages_read_at = -1;  // pages_done when finished pages were last read
  asio::steady_timer timer(co_await asio::this_coro::executor);

  for (;;) {
    auto latest = watch->latest();
    const jobs::Job job = latest && latest->ok() ? latest->value() : *found;
    const jobs::JobStatus status = jobs::effective_status(job, util::now_ms());
    const auto now = std::chrono::steady_clock::now();
    const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(now - opened);
    const std::pair state{status, job.pages_done};

    if (state != last_state || now - last_sent >= service.options().sse_heartbeat) {
      if (!co_await events.send("status", sse_status_event(job, status, elapsed.count()), format_cursor(cursor))) {
        co_return;
      }
      last_state = state;
      last_sent = now;
    }
    if (*want_pages && job.pages_done != pages_read_at) {
      pages_read_at = job.pages_done;
      if (!co_await send_new_pages(events, service, job, cursor)) co_return;
    }
    if (co_await send_final_events(events, service, job, status)) {
      log.ended("job_ended");
      break;
    }
    if (elapsed >= service.options().sse_timeout || service.draining()) {
      // The job goes on: a client reconnecting (to this server once it is
      // back, or to another) resumes from here.
      const Json ending = service.draining() ? sse_shutdown_event(job_id)
                                             : sse_timeout_event(job_id, service.options().sse_timeout);
      co_await events.send("timeout", ending, format_cursor(cursor));
      co_await events.send("close", sse_close_event(), format_cursor(cursor));
      log.ended(service.draining() ? "server_stopping" : "timeout");
      break;
    }
    timer.expires_after(service.options().sse_poll);
    co_await timer.async_wait(kUseTuple);
  }
  co_await events.finish();
}

}  // namespace visor::api

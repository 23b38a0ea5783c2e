#pragma once
// GET /ocr/stream/{job_id}: Server-Sent Events for one job, as a coroutine
// on the connection's strand; no thread per stream.

#include <string>

#include <boost/asio/awaitable.hpp>

#include "api/connection.hpp"

namespace visor::api {

// Streams status, page (opt-in), result, error, timeout and close events
// until the job ends, the stream times out, the server drains or the
// client leaves. `caller` must own the job (else 404); the stream holds one
// of the service's stream slots while open (else 429/503).
boost::asio::awaitable<void> stream_job(Connection& c, RequestParser& parser, const Target& target,
                                        const std::string& job_id, const Caller& caller);

}  // namespace visor::api

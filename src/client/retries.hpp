#pragma once
// Requests that are tried again while the server is unreachable or busy.

#include <functional>

#include "client/api_requests.hpp"
#include "client/backoff.hpp"

namespace visor::client {

// Performs `request` until it gets a reply whose status `is_temporary`
// does not call temporary, or fails with an error that is not temporary
// (is_temporary_failure), or `policy` gives up; returns that last reply or
// error. Waits between tries on the calling thread. Only for requests
// that are safe to repeat (a submit carries an Idempotency-Key for this).
Result<net::HttpReply> perform_with_retries(const Transport& transport, const net::HttpRequest& request,
                                            const RetryPolicy& policy,
                                            const std::function<bool(long)>& is_temporary = is_temporary_refusal);

}  // namespace visor::client

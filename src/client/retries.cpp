#include "client/retries.hpp"

#include <thread>

namespace visor::client {

Result<net::HttpReply> perform_with_retries(const Transport& transport, const net::HttpRequest& request,
                                            const RetryPolicy& policy,
                                            const std::function<bool(long)>& is_temporary) {
  Backoff backoff(policy);
  for (;;) {
    auto reply = transport(request);
    std::optional<std::chrono::seconds> wait;
    if (reply) {
      if (!is_temporary(reply->status)) return reply;
      wait = retry_after(*reply);
    } else if (!is_temporary_failure(reply.error())) {
      return reply;
    }
    const auto delay = backoff.after_failure(Backoff::Clock::now(), wait);
    if (!delay) return reply;
    std::this_thread::sleep_for(*delay);
  }
}

}  // namespace visor::client

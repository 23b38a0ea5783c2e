#pragma once
// Delivers the webhook outbox (jobs/webhook_delivery.hpp): threads that
// claim due deliveries from the store, post them signed
// (signing.hpp) to public addresses only (destination.hpp), and record
// each attempt and when to retry (retry_policy.hpp).
//
// Every `visor serve` runs one; in a fleet, every API node's deliverer
// claims from the same outbox, and a delivery's lease keeps it one node's
// at a time. A node that dies mid-attempt leaves the lease to lapse and
// another node makes the attempt again: deliveries are at least once, and
// receivers tell repeats apart by webhook-id.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "jobs/job_store.hpp"
#include "util/metrics.hpp"
#include "webhooks/retry_policy.hpp"
#include "webhooks/signing.hpp"

namespace visor::webhooks {

// The secret that signs the deliveries of jobs owned by `owner` (an API
// key's owner id; empty without keys): the key's own, else the server's;
// nullptr for none, and such deliveries go without webhook-signature.
using SecretFor = std::function<const SigningSecret*(std::string_view owner)>;

struct DelivererOptions {
  int concurrency = 4;  // deliveries in flight at once, one thread each
  // Each attempt: the whole request, connection included.
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  // The receiver's answer is read this far; its status is what counts.
  std::size_t max_response_bytes = 64 * 1024;
  bool allow_private = false;  // --webhook-allow-private
  RetryPolicy retry;
  // How often an idle thread looks for due deliveries.
  std::chrono::milliseconds idle_poll{std::chrono::seconds(1)};
  // Links in the bodies are absolute under it; paths when empty.
  std::string public_url;
};

class Deliverer {
 public:
  // Starts delivering at once. REQUIRES: store and registry outlive it.
  Deliverer(jobs::JobStore& store, DelivererOptions options, SecretFor secret_for, util::metrics::Registry& metrics);
  // Stops the threads; an attempt in flight is abandoned unrecorded, and
  // its delivery is attempted again once its lease lapses.
  ~Deliverer();
  Deliverer(const Deliverer&) = delete;
  Deliverer& operator=(const Deliverer&) = delete;

 private:
  class Worker;
  std::vector<std::jthread> threads_;
};

}  // namespace visor::webhooks

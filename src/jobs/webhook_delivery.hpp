#pragma once
// The webhook outbox: one row per event to deliver. A store writes the row
// in the same transaction that makes the event happen (a job completes,
// fails or is cancelled; a page finishes, for jobs that asked), so an event
// is never lost and never announced for a change that did not commit. A
// deliverer claims rows under a lease (one node at a time per delivery),
// posts them, and records each attempt.

#include <cstdint>
#include <string>
#include <string_view>

#include "jobs/job.hpp"

namespace visor::jobs {

// The event names, as receivers see them in the body's "type".
inline constexpr std::string_view kPageCompletedEvent = "page.completed";
// "job.completed", "job.failed" or "job.cancelled" for a job that ended so.
std::string job_event_name(JobStatus ended_as);

enum class DeliveryState { pending, delivered, failed };
std::string_view delivery_state_name(DeliveryState state);
DeliveryState parse_delivery_state(std::string_view name);  // pending for unknown names

struct WebhookDelivery {
  std::string id;     // "msg_" + ULID: the webhook-id header, the same on every attempt
  std::string job_id;
  std::string owner;  // the job's owner: whose secret signs it
  std::string event;
  int page_index = -1;  // the page of a page event; -1 for job events
  std::string url;
  std::int64_t created_at = 0;  // when the event happened (Unix ms)
  DeliveryState state = DeliveryState::pending;
  // The body, fixed at the first attempt so that every retry sends the
  // same bytes; empty before it.
  std::string payload;
  int attempts = 0;
  std::string last_error;  // empty once delivered or before any attempt
  std::int64_t last_attempt_at = 0;
  std::int64_t next_attempt_at = 0;  // while pending
  std::int64_t delivered_at = 0;
  std::string lease_token;  // set on a claimed delivery; fences its record
};

// A new delivery's id.
std::string new_delivery_id(std::int64_t now_ms);

// What one attempt at a claimed delivery came to.
struct DeliveryAttempt {
  std::string payload;  // the body that was sent
  std::int64_t attempted_at = 0;
  DeliveryState state = DeliveryState::pending;  // delivered, failed (given up) or pending (retry)
  std::string error;                             // why it was not delivered; empty when it was
  std::int64_t retry_at = 0;                     // when pending: the next attempt
};

}  // namespace visor::jobs

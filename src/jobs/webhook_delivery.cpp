#include "jobs/webhook_delivery.hpp"

#include "util/ulid.hpp"

namespace visor::jobs {

std::string job_event_name(JobStatus ended_as) { return "job." + std::string(status_name(ended_as)); }

std::string_view delivery_state_name(DeliveryState state) {
  switch (state) {
    case DeliveryState::pending: return "pending";
    case DeliveryState::delivered: return "delivered";
    case DeliveryState::failed: return "failed";
  }
  return "pending";
}

DeliveryState parse_delivery_state(std::string_view name) {
  if (name == "delivered") return DeliveryState::delivered;
  if (name == "failed") return DeliveryState::failed;
  return DeliveryState::pending;
}

std::string new_delivery_id(std::int64_t now_ms) { return "msg_" + util::make_ulid(now_ms); }

}  // namespace visor::jobs

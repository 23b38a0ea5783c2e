#include "jobs/maintenance.hpp"

#include <algorithm>

#include "util/duration.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

namespace visor::jobs {
namespace {

constexpr std::string_view kLeadership = "maintenance";

std::string silence_reason(std::chrono::milliseconds timeout) {
  return "The worker process processing this page stopped responding (no heartbeat for " +
         util::describe_duration(std::chrono::duration_cast<std::chrono::seconds>(timeout)) + ")";
}

}  // namespace

Maintenance::Maintenance(JobStore& store, MaintenanceOptions options)
    : store_(store), options_(std::move(options)), thread_(options_.tick, [this] { run_once(util::now_ms()); }) {}

std::chrono::milliseconds Maintenance::retention_interval_for(std::chrono::seconds result_ttl) {
  const auto half = std::chrono::duration_cast<std::chrono::milliseconds>(result_ttl) / 2;
  return std::clamp<std::chrono::milliseconds>(half, std::chrono::seconds(1), std::chrono::seconds(60));
}

bool Maintenance::run_once(std::int64_t now_ms) {
  auto leads = store_.hold_leadership(kLeadership, options_.node_id, now_ms, options_.leadership_ttl);
  if (!leads) {
    util::log_warn("maintenance.failed", {{"error", leads.error().message}});
    return false;
  }
  if (!*leads) return false;
  release_silent_workers(now_ms);
  if (now_ms >= next_retention_ms_) {
    expire(now_ms);
    next_retention_ms_ = now_ms + options_.retention_interval.count();
  }
  return true;
}

void Maintenance::expire(std::int64_t now_ms) {
  auto expired = store_.expire_jobs(now_ms);
  if (!expired) {
    util::log_warn("retention.sweep_failed", {{"error", expired.error().message}});
  } else if (*expired > 0) {
    util::log_info("retention.expired", {{"jobs", std::to_string(*expired)}});
  }
  if (Status s = store_.forget_idle_state(now_ms); !s) {
    util::log_warn("maintenance.cleanup_failed", {{"error", s.error().message}});
  }
}

void Maintenance::release_silent_workers(std::int64_t now_ms) {
  auto silent = store_.remove_silent_workers(now_ms);
  if (!silent) {
    util::log_warn("maintenance.failed", {{"error", silent.error().message}});
    return;
  }
  for (const WorkerRecord& worker : *silent) {
    auto released = store_.release_worker_leases(worker.id + "/", silence_reason(worker.heartbeat_timeout), now_ms);
    if (!released) {
      util::log_warn("worker.leases_not_released", {{"worker", worker.id}, {"error", released.error().message}});
      continue;
    }
    util::log_warn("worker.silent", {{"worker", worker.id}, {"pages", std::to_string(*released)}});
  }
}

}  // namespace visor::jobs

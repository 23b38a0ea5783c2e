#pragma once
// Periodic work on the store that one node at a time does for the whole
// fleet, whichever nodes are alive: each node that runs a Maintenance tries
// to hold the store's "maintenance" leadership every tick, and the holder
// does the work:
// - retention: finished jobs past --result-ttl are expired and their
//   documents and results deleted (readers never depend on it: they apply
//   expiry themselves, see effective_status);
// - workers that stopped beating for longer than their heartbeat timeout
//   (a process killed with no supervisor on its host to notice) are taken
//   for dead, and their pages go back to the queue at once rather than
//   when their leases run out;
// - stream slots of dead nodes and rate buckets that refilled are forgotten.

#include <chrono>
#include <cstdint>
#include <string>

#include "jobs/job_store.hpp"
#include "util/periodic.hpp"

namespace visor::jobs {

struct MaintenanceOptions {
  std::string node_id;  // who holds the leadership
  std::chrono::milliseconds tick{1000};
  // How long a leader that stopped renewing keeps the leadership.
  std::chrono::milliseconds leadership_ttl{10000};
  std::chrono::milliseconds retention_interval{60000};
};

class Maintenance {
 public:
  // Ticks every options.tick until destroyed. REQUIRES: `store` outlives this.
  Maintenance(JobStore& store, MaintenanceOptions options);

  // A retention interval that keeps expiry prompt for short TTLs and cheap
  // for long ones: half the TTL, between 1 s and 60 s.
  static std::chrono::milliseconds retention_interval_for(std::chrono::seconds result_ttl);

  // One tick at `now_ms`: leads or not, and if it leads, does what is due.
  // Returns whether this node led. For the thread and for tests.
  bool run_once(std::int64_t now_ms);

 private:
  void expire(std::int64_t now_ms);
  void release_silent_workers(std::int64_t now_ms);

  JobStore& store_;
  MaintenanceOptions options_;
  std::int64_t next_retention_ms_ = 0;
  util::PeriodicThread thread_;  // last: ticks only once the rest is set
};

}  // namespace visor::jobs

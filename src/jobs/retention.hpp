#pragma once
// Deletes expired results in the background. Readers never depend on it for
// correctness (effective_status() reports expiry on time); it reclaims space.

#include <chrono>

#include "jobs/job_store.hpp"
#include "util/periodic.hpp"

namespace visor::jobs {

class RetentionSweeper {
 public:
  // Sweeps every `interval` until destroyed. REQUIRES: `store` outlives this.
  RetentionSweeper(JobStore& store, std::chrono::milliseconds interval);

  // A sweep interval that keeps expiry prompt for short TTLs and cheap for
  // long ones: half the TTL, between 1 s and 60 s.
  static std::chrono::milliseconds interval_for(std::chrono::seconds result_ttl);

 private:
  void sweep();

  JobStore& store_;
  util::PeriodicThread thread_;  // last: ticks only once the store is set
};

}  // namespace visor::jobs

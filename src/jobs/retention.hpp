#pragma once
// Deletes expired results in the background. Readers never depend on it for
// correctness (effective_status() reports expiry on time); it reclaims space.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "jobs/job_store.hpp"

namespace visor::jobs {

class RetentionSweeper {
 public:
  // Sweeps every `interval` until destroyed. REQUIRES: `store` outlives this.
  RetentionSweeper(JobStore& store, std::chrono::milliseconds interval);
  ~RetentionSweeper();
  RetentionSweeper(const RetentionSweeper&) = delete;
  RetentionSweeper& operator=(const RetentionSweeper&) = delete;

  // A sweep interval that keeps expiry prompt for short TTLs and cheap for
  // long ones: half the TTL, between 1 s and 60 s.
  static std::chrono::milliseconds interval_for(std::chrono::seconds result_ttl);

 private:
  void run();

  JobStore& store_;
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace visor::jobs

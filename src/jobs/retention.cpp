#include "jobs/retention.hpp"

#include <algorithm>

#include "util/log.hpp"
#include "util/time.hpp"

namespace visor::jobs {

RetentionSweeper::RetentionSweeper(JobStore& store, std::chrono::milliseconds interval)
    : store_(store), thread_(interval, [this] { sweep(); }) {}

std::chrono::milliseconds RetentionSweeper::interval_for(std::chrono::seconds result_ttl) {
  const auto half = std::chrono::duration_cast<std::chrono::milliseconds>(result_ttl) / 2;
  return std::clamp<std::chrono::milliseconds>(half, std::chrono::seconds(1), std::chrono::seconds(60));
}

void RetentionSweeper::sweep() {
  auto expired = store_.expire_jobs(util::now_ms());
  if (!expired) {
    util::log_warn("retention.sweep_failed", {{"error", expired.error().message}});
  } else if (*expired > 0) {
    util::log_info("retention.expired", {{"jobs", std::to_string(*expired)}});
  }
}

}  // namespace visor::jobs

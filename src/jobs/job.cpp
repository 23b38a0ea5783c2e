#include "jobs/job.hpp"

#include <algorithm>
#include <array>
#include <numeric>
#include <utility>

#include "util/ulid.hpp"

namespace visor::jobs {
namespace {

constexpr std::string_view kJobIdPrefix = "fc-";

constexpr std::array<std::pair<JobStatus, std::string_view>, kJobStatusCount> kStatusNames{{
    {JobStatus::pending, "pending"},
    {JobStatus::running, "running"},
    {JobStatus::completed, "completed"},
    {JobStatus::failed, "failed"},
    {JobStatus::expired, "expired"},
    {JobStatus::cancelled, "cancelled"},
}};

}  // namespace

std::string_view status_name(JobStatus status) {
  for (const auto& [value, name] : kStatusNames) {
    if (value == status) return name;
  }
  return "pending";
}

std::optional<JobStatus> parse_status(std::string_view name) {
  for (const auto& [value, text] : kStatusNames) {
    if (text == name) return value;
  }
  return std::nullopt;
}

namespace {

constexpr std::array<std::pair<JobPriority, std::string_view>, 3> kPriorities{{
    {JobPriority::high, "high"},
    {JobPriority::normal, "normal"},
    {JobPriority::low, "low"},
}};

}  // namespace

std::string_view priority_name(JobPriority priority) {
  for (const auto& [value, name] : kPriorities) {
    if (value == priority) return name;
  }
  return "normal";
}

std::optional<JobPriority> parse_priority(std::string_view name) {
  for (const auto& [value, text] : kPriorities) {
    if (text == name) return value;
  }
  return std::nullopt;
}

JobStatus effective_status(const Job& job, std::int64_t now_ms) {
  if (job.finished() && job.expires_at != 0 && job.expires_at <= now_ms) return JobStatus::expired;
  return job.status;
}

std::string new_job_id(std::int64_t now_ms) {
  return std::string(kJobIdPrefix) + util::make_ulid(now_ms);
}

std::vector<int> pages_to_process(const NewJob& job) {
  if (!job.page_indexes.empty()) return job.page_indexes;
  std::vector<int> all(static_cast<std::size_t>(std::max(0, job.total_pages)));
  std::iota(all.begin(), all.end(), 0);
  return all;
}

bool is_valid_job_id(std::string_view id) {
  return id.starts_with(kJobIdPrefix) && util::is_ulid(id.substr(kJobIdPrefix.size()));
}

}  // namespace visor::jobs

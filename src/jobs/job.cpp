#include "jobs/job.hpp"

#include <algorithm>
#include <array>
#include <numeric>
#include <span>
#include <utility>

#include "util/ulid.hpp"

namespace visor::jobs {
namespace {

constexpr std::string_view kJobIdPrefix = "fc-";

template <class Value>
using NameTable = std::span<const std::pair<Value, std::string_view>>;

constexpr std::array<std::pair<JobStatus, std::string_view>, kJobStatusCount> kStatusNames{{
    {JobStatus::pending, "pending"},
    {JobStatus::running, "running"},
    {JobStatus::completed, "completed"},
    {JobStatus::failed, "failed"},
    {JobStatus::expired, "expired"},
    {JobStatus::cancelled, "cancelled"},
}};

constexpr std::array<std::pair<JobPriority, std::string_view>, 3> kPriorities{{
    {JobPriority::high, "high"},
    {JobPriority::normal, "normal"},
    {JobPriority::low, "low"},
}};

// The name of `value` in `table`; its first name for values not in it.
template <class Value>
std::string_view name_in(NameTable<Value> table, Value value) {
  for (const auto& [candidate, name] : table) {
    if (candidate == value) return name;
  }
  return table.front().second;
}

template <class Value>
std::optional<Value> value_in(NameTable<Value> table, std::string_view name) {
  for (const auto& [value, candidate] : table) {
    if (candidate == name) return value;
  }
  return std::nullopt;
}

}  // namespace

std::string_view status_name(JobStatus status) { return name_in<JobStatus>(kStatusNames, status); }
std::optional<JobStatus> parse_status(std::string_view name) { return value_in<JobStatus>(kStatusNames, name); }

std::string_view priority_name(JobPriority priority) { return name_in<JobPriority>(kPriorities, priority); }
std::optional<JobPriority> parse_priority(std::string_view name) { return value_in<JobPriority>(kPriorities, name); }

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

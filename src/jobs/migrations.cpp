#include "jobs/migrations.hpp"

#include <string>

namespace visor::jobs {

Result<std::span<const Migration>> pending_migrations(std::span<const Migration> all, int current) {
  const int latest = all.empty() ? 0 : all.back().version;
  if (current > latest) {
    return Error::unavailable("The job store's schema is at version " + std::to_string(current) +
                              ", newer than this Visor knows (" + std::to_string(latest) +
                              "): run the Visor that wrote it, or a newer one");
  }
  std::size_t first = 0;
  while (first < all.size() && all[first].version <= current) ++first;
  return all.subspan(first);
}

}  // namespace visor::jobs

#pragma once
// Versioned schema changes, applied in order by each store to its own
// storage: a store at version N gets migrations N+1... and records the
// last one. A store newer than this binary is refused, not guessed at.

#include <span>
#include <string_view>

#include "util/result.hpp"

namespace visor::jobs {

struct Migration {
  int version = 0;       // 1, 2, ...: each one more than the one before
  std::string_view sql;  // in the store's dialect; may hold several statements
};

// The migrations of `all` (sorted by version) after `current`, in order.
// unavailable, naming both versions, when `current` is newer than the last
// of `all`: the store was written by a newer Visor.
Result<std::span<const Migration>> pending_migrations(std::span<const Migration> all, int current);

}  // namespace visor::jobs

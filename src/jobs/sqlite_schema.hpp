#pragma once
// The SQLite store's schema, as versioned migrations (PRAGMA user_version
// records the last one applied).

#include <span>

#include "jobs/migrations.hpp"

namespace visor::jobs {

std::span<const Migration> sqlite_migrations();

}  // namespace visor::jobs

#pragma once
// The PostgreSQL store's schema, as versioned migrations (the table
// schema_migrations records those applied).

#include <span>

#include "jobs/migrations.hpp"

namespace visor::jobs {

std::span<const Migration> postgres_migrations();

}  // namespace visor::jobs

#pragma once
// Opens the job store a --store setting names: "sqlite:PATH" (one host) or a
// PostgreSQL URI, "postgresql://user:password@host:5432/dbname" or
// "postgres://..." (any number of hosts). The only code outside a store's
// own files that knows which stores exist.

#include <memory>
#include <string>
#include <string_view>

#include "jobs/job_store.hpp"

namespace visor::jobs {

struct StoreLocation {
  enum class Kind { sqlite, postgres };
  Kind kind = Kind::sqlite;
  // The SQLite file's path, or the whole PostgreSQL URI.
  std::string target;
};

// bad_input naming both accepted forms for anything else.
Result<StoreLocation> parse_store_location(std::string_view text);

// For logs and messages: "sqlite:./data/visor.db", or the URI with any
// password replaced by "***".
std::string describe_store(const StoreLocation& location);

struct OpenOptions {
  // Create or upgrade the schema (serve, worker, migrate); false only
  // connects, so a check can report the schema without changing it.
  bool migrate = true;
};

// Opens the store (creating a SQLite file's directory); unavailable, saying
// what failed, when it cannot be reached or migrated.
Result<std::unique_ptr<JobStore>> open_job_store(const StoreLocation& location, const StoreOptions& options,
                                                 OpenOptions open = {});

// The schema version this Visor writes for `kind`.
int latest_schema_version(StoreLocation::Kind kind);

}  // namespace visor::jobs

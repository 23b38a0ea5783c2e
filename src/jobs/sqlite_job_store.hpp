#pragma once
// The embedded store: one SQLite file in WAL mode, for one host. Use
// open_job_store() (store_factory.hpp) outside jobs/.

#include <memory>
#include <string>

#include "jobs/job_store.hpp"

namespace visor::jobs {

// Opens (creating if needed) the SQLite store at `path` and, with
// `migrate`, creates or upgrades its schema. unavailable when the file cannot be opened or migrated.
Result<std::unique_ptr<JobStore>> open_sqlite_job_store(const std::string& path, StoreOptions options,
                                                       bool migrate = true);

}  // namespace visor::jobs

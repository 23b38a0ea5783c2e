#pragma once
// The shared store: one PostgreSQL database for any number of API nodes and
// worker processes on any number of hosts. Use open_job_store()
// (store_factory.hpp) outside jobs/.

#include <memory>
#include <string>

#include "jobs/job_store.hpp"

namespace visor::jobs {

// Connects to `uri` (`description` is the URI without its password, for
// messages) and, with `migrate`, creates or upgrades the schema under an
// advisory lock, so nodes starting at once migrate one after the other.
// unavailable when the server cannot be reached or migrated.
Result<std::unique_ptr<JobStore>> open_postgres_job_store(const std::string& uri, const std::string& description,
                                                          StoreOptions options, bool migrate = true);

}  // namespace visor::jobs

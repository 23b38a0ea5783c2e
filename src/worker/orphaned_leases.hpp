#pragma once
// Leases left behind by worker processes that no longer exist. Workers die
// with their server (PR_SET_PDEATHSIG), so after a server is killed its
// workers' pages stay leased until the leases time out. A server starting
// on the same host returns them at once, without counting the attempt: the
// page did not cause the crash.

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>

#include "jobs/job_store.hpp"
#include "util/result.hpp"

namespace visor::worker {

// Whether a process exists on this host and is not a zombie.
bool process_exists(pid_t pid);

// Returns the leases of workers named "<host>:<pid>/..." whose process does
// not exist (per `exists`); workers of other hosts are never touched.
// Returns how many leases went back to the queue.
Result<int> return_orphaned_leases(jobs::JobStore& store, std::string_view host,
                                   const std::function<bool(pid_t)>& exists = process_exists);

}  // namespace visor::worker

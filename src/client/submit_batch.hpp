#pragma once
// A whole `visor submit` run: every input file, several at once.

#include <string>
#include <vector>

#include "client/file_job.hpp"
#include "client/progress_display.hpp"
#include "client/submit_settings.hpp"
#include "util/result.hpp"

namespace visor::client {

// Runs run_file_job() for every file of `settings`, at most
// settings.parallel at once, each on a thread of its own with its own
// HTTP client, showing their progress on `display`. Returns a report per
// file in input order, once every file is done or failed; an error
// (unavailable) only when settings.output_dir cannot be created, before
// anything is submitted.
Result<std::vector<FileReport>> submit_files(const SubmitSettings& settings, ProgressDisplay& display);

// For stderr after a run: "N of M files failed:" and a line per failed
// file saying why; empty when none failed.
std::string failure_summary(const std::vector<FileReport>& reports);

}  // namespace visor::client

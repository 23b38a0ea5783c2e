#pragma once
// `--check` of serve and worker: the configuration has been read as the
// command would read it; this connects to the store without changing it
// and says what it found, so a systemd unit or a compose service can be
// checked before it runs.

#include <string_view>

#include "cli/worker_settings.hpp"

namespace visor::cli {

// Prints the outcome; returns the exit status: 0 when the store answers
// with a schema this Visor can use (or none yet, which the first start
// creates), 1 otherwise.
int check_configuration(std::string_view command, const WorkerSettings& settings);

}  // namespace visor::cli

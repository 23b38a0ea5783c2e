#include "cli/check.hpp"

#include <iostream>
#include <string>

namespace visor::cli {

int check_configuration(std::string_view command, const WorkerSettings& settings) {
  const std::string prefix = "visor " + std::string(command) + " --check: ";
  const std::string where = jobs::describe_store(settings.store_location);
  auto store = jobs::open_job_store(settings.store_location, settings.store, {.migrate = false});
  if (!store) {
    std::cerr << prefix << "the configuration is valid, but the job store cannot be used: " << store.error().message
              << "\n";
    return 1;
  }
  auto version = (*store)->schema_version();
  if (!version) {
    std::cerr << prefix << "the job store at " << where << " answers, but its schema cannot be read: "
              << version.error().message << "\n";
    return 1;
  }
  const int latest = jobs::latest_schema_version(settings.store_location.kind);
  if (*version > latest) {
    std::cerr << prefix << "the job store at " << where << " has schema version " << *version
              << ", newer than this Visor's " << latest << ": upgrade Visor\n";
    return 1;
  }
  std::cout << prefix << "configuration OK; job store " << where << " reachable, schema version " << *version
            << " of " << latest
            << (*version < latest ? " (the first start, or 'visor migrate', brings it up to date)" : "") << "\n";
  return 0;
}

}  // namespace visor::cli

// `visor migrate`: creates or upgrades the store's schema and exits. Nodes
// also migrate when they start (under a lock, so several may start at
// once); this runs the migration ahead of a rolling upgrade, or by hand.

#include <iostream>

#include "cli/command_list.hpp"
#include "cli/worker_settings.hpp"
#include "jobs/store_factory.hpp"

namespace visor::cli {

int migrate_command(int argc, char** argv) {
  const std::vector<OptionSpec> specs = {
      {"store", "", "The job store: sqlite:PATH or postgresql://user:password@host:5432/db; default sqlite:<--data>/visor.db"},
      {"data", "./data", "Directory of the default SQLite store"},
      {"help", "", "Show this help", true},
  };
  int exit_code = 0;
  const auto options = parse_command("migrate", "visor migrate [--store URI]", specs, argc, argv, exit_code);
  if (!options) return exit_code;
  auto location = store_option(*options);
  if (!location) {
    std::cerr << "visor migrate: " << location.error().message << "\n";
    return 2;
  }
  auto store = jobs::open_job_store(*location, jobs::StoreOptions{});
  if (!store) {
    std::cerr << "visor migrate: " << store.error().message << "\n";
    return 1;
  }
  auto version = (*store)->schema_version();
  if (!version) {
    std::cerr << "visor migrate: " << version.error().message << "\n";
    return 1;
  }
  std::cout << "visor migrate: the job store at " << jobs::describe_store(*location) << " is at schema version "
            << *version << "\n";
  return 0;
}

}  // namespace visor::cli

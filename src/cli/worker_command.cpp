// `visor worker`: one worker process. It leases page tasks from the store
// until SIGTERM or SIGINT, then finishes the pages it holds. `visor serve`
// runs several and restarts any that die; it also runs alone against a
// store shared with a server.

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <iostream>
#include <optional>

#include "cli/check.hpp"
#include "cli/command_list.hpp"
#include "cli/worker_settings.hpp"
#include "jobs/maintenance.hpp"
#include "ocr/remote/remote_engine.hpp"
#include "worker/reports.hpp"

namespace visor::cli {
namespace {

// How often an idle worker looks for work in a store that notifies it of
// new work: only notifications lost across a reconnect wait this long.
constexpr auto kNotifiedStorePoll = std::chrono::seconds(2);

std::vector<OptionSpec> worker_options() {
  std::vector<OptionSpec> specs = worker_option_specs();
  specs.insert(specs.begin(), {"threads", "1", "Worker threads in this process, each with its own engine"});
  specs.push_back({"parent-pid", "", "Exit when this process (the supervising server) ends"});
  specs.push_back({"check", "", "Check the configuration and the store, then exit (0 when both are fine)", true});
  specs.push_back({"help", "", "Show this help", true});
  return specs;
}

// Set up before any thread starts, so every thread inherits the mask and
// the signals reach only sigwait() below.
sigset_t block_control_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGTERM, SIGINT, SIGUSR1}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// A supervised worker must not outlive its server (kill -9 included).
bool follow_parent(const std::string& parent_pid) {
  if (parent_pid.empty()) return true;
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  return std::to_string(::getppid()) == parent_pid;
}

}  // namespace

int worker_command(int argc, char** argv) {
  const auto specs = worker_options();
  int exit_code = 0;
  const auto options = parse_command("worker", "visor worker [options]", specs, argc, argv, exit_code);
  if (!options) return exit_code;
  auto settings = read_worker_settings(*options);
  auto threads = positive_int(*options, "threads", 256);
  if (!settings || !threads) {
    std::cerr << "visor worker: " << (!settings ? settings.error().message : threads.error().message) << "\n";
    return 2;
  }
  if (options->has("check")) return check_configuration("worker", *settings);
  // This process is one worker process: its share is the whole amount.
  auto memory = worker_memory_share(settings->worker_memory, 1);
  if (!memory) {
    std::cerr << "visor worker: " << memory.error().message << "\n";
    return 2;
  }
  // Before any thread or engine exists, so every allocation is under it.
  if (Status s = limit_own_memory(*memory); !s) {
    std::cerr << "visor worker: " << s.error().message << "\n";
    return 1;
  }
  const sigset_t signals = block_control_signals();
  const bool supervised = !options->get("parent-pid").empty();
  if (!follow_parent(options->get("parent-pid"))) return 0;
  // Reports to the server are best effort: a closed pipe must not kill us.
  ::signal(SIGPIPE, SIG_IGN);
  util::set_log_level(settings->log_level);
  auto store = open_store(*settings);
  if (!store) {
    std::cerr << "visor worker: " << store.error().message << "\n";
    return 1;
  }

  ocr::remote::RemoteBackends backends(settings->remote);
  worker::WorkerOptions pool_options = settings->pool;
  pool_options.threads = *threads;
  // A store that notifies wakes idle workers itself; polling is the fallback.
  if ((*store)->notifies()) pool_options.idle_poll = kNotifiedStorePoll;
  // A worker on its own may be the only process left to maintain the
  // store; one supervised by a server leaves that to the server.
  std::optional<jobs::Maintenance> maintenance;
  if (!supervised) maintenance.emplace(**store, maintenance_options(*settings));
  // A supervised worker reports what it does on stdout, a pipe to the server.
  worker::LineReporter reporter(STDOUT_FILENO);
  if (supervised) pool_options.observer = &reporter;
  worker::WorkerPool pool(**store, [&backends] { return ocr::remote::make_engine_router(backends); },
                          pool_options);
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGUSR1) {
      pool.notify_work();
    } else {
      util::log_info("worker.stopping", {{"signal", std::to_string(sig)}});
      break;
    }
  }
  return 0;
}

}  // namespace visor::cli

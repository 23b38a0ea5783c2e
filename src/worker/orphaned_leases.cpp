#include "worker/orphaned_leases.hpp"

#include <signal.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <optional>
#include <set>

namespace visor::worker {
namespace {

// The pid of a worker id "<host>:<pid>/<thread>" of `host`, else nullopt.
std::optional<pid_t> pid_on_host(std::string_view worker_id, std::string_view host) {
  if (!worker_id.starts_with(host) || worker_id.size() <= host.size() || worker_id[host.size()] != ':') {
    return std::nullopt;
  }
  const std::string_view rest = worker_id.substr(host.size() + 1);
  pid_t pid = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), pid);
  if (ec != std::errc() || pid <= 0 || end == rest.data() + rest.size() || *end != '/') return std::nullopt;
  return pid;
}

}  // namespace

bool process_exists(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno != EPERM) return false;
  // A zombie answers kill() too: a killed worker whose server died with it
  // waits there for init to reap it, which some containers never do.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const auto after_name = line.rfind(')');
  if (after_name == std::string::npos || after_name + 2 >= line.size()) return true;
  const char state = line[after_name + 2];
  return state != 'Z' && state != 'X';
}

Result<int> return_orphaned_leases(jobs::JobStore& store, std::string_view host,
                                   const std::function<bool(pid_t)>& exists) {
  auto holders = store.lease_holders();
  if (!holders) return holders.take_error();
  std::set<pid_t> gone;
  for (const std::string& holder : *holders) {
    const auto pid = pid_on_host(holder, host);
    if (pid && !exists(*pid)) gone.insert(*pid);
  }
  int returned = 0;
  for (const pid_t pid : gone) {
    auto count = store.return_worker_leases(std::string(host) + ":" + std::to_string(pid) + "/");
    if (!count) return count.take_error();
    returned += *count;
  }
  return returned;
}

}  // namespace visor::worker

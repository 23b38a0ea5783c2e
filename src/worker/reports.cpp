#include "worker/reports.hpp"

#include <unistd.h>

#include <charconv>
#include <vector>

namespace visor::worker {
namespace {

// Model and engine names never hold tabs or line breaks; replace them if
// they ever do, so a line stays one report.
std::string field(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> fields;
  for (std::size_t start = 0;;) {
    const auto tab = line.find('\t', start);
    fields.push_back(line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
    if (tab == std::string_view::npos) return fields;
    start = tab + 1;
  }
}

}  // namespace

void LineReporter::write_line(const std::string& line) {
  const std::lock_guard lock(mutex_);
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd_, rest.data(), rest.size());
    if (n <= 0) return;  // the server is gone; reports are best effort
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

void LineReporter::page_processed(const std::string& model, const std::string& engine, std::string_view outcome,
                                  double seconds) {
  write_line("page\t" + field(model) + "\t" + field(engine) + "\t" + field(outcome) + "\t" + std::to_string(seconds) +
             "\n");
}

void LineReporter::busy_workers(int count) { write_line("busy\t" + std::to_string(count) + "\n"); }

bool replay_report(std::string_view line, PoolObserver& observer) {
  const auto fields = split_tabs(line);
  if (fields.size() == 5 && fields[0] == "page") {
    double seconds = 0;
    const auto [end, ec] = std::from_chars(fields[4].data(), fields[4].data() + fields[4].size(), seconds);
    if (ec != std::errc()) return false;
    observer.page_processed(std::string(fields[1]), std::string(fields[2]), fields[3], seconds);
    return true;
  }
  if (fields.size() == 2 && fields[0] == "busy") {
    int count = 0;
    const auto [end, ec] = std::from_chars(fields[1].data(), fields[1].data() + fields[1].size(), count);
    if (ec != std::errc()) return false;
    observer.busy_workers(count);
    return true;
  }
  return false;
}

}  // namespace visor::worker

namespace visor::worker {

// Sees one process's reports: pages go to the sink, busy counts are kept
// per process and the sum goes to the sink.
class ProcessReports::PerProcess final : public PoolObserver {
 public:
  PerProcess(ProcessReports& owner, pid_t pid) : owner_(owner), pid_(pid) {}
  void page_processed(const std::string& model, const std::string& engine, std::string_view outcome,
                      double seconds) override {
    owner_.sink_.page_processed(model, engine, outcome, seconds);
  }
  void busy_workers(int count) override {
    owner_.busy_[pid_] = count;
    int total = 0;
    for (const auto& [pid, busy] : owner_.busy_) total += busy;
    owner_.sink_.busy_workers(total);
  }

 private:
  ProcessReports& owner_;
  pid_t pid_;
};

void ProcessReports::replay(pid_t pid, std::string_view line) {
  const std::lock_guard lock(mutex_);
  PerProcess process(*this, pid);
  replay_report(line, process);
  if (line == "busy\t0") busy_.erase(pid);
}

}  // namespace visor::worker

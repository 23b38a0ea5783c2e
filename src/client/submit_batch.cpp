#include "client/submit_batch.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <filesystem>
#include <thread>

#include "net/http_client.hpp"

namespace visor::client {
namespace {

// Takes the next file not yet taken until none is left.
void work_through(const SubmitSettings& settings, ProgressDisplay& display, std::atomic<std::size_t>& next,
                  std::vector<FileReport>& reports) {
  std::unique_ptr<net::HttpClient> client;
  std::string no_client;
  try {
    client = std::make_unique<net::HttpClient>();
  } catch (const std::exception& e) {
    no_client = e.what();
  }
  const Transport transport = [&client](const net::HttpRequest& request) { return client->perform(request); };
  for (std::size_t file = next++; file < settings.files.size(); file = next++) {
    const std::string& input = settings.files[file];
    const auto show = [&display, file](const FileState& state) { display.show(file, state); };
    if (!client) {
      reports[file] = {input, no_client, {}};
      show({input, Phase::failed, 0, 0, no_client});
      continue;
    }
    reports[file] = run_file_job(transport, settings, input, show);
  }
}

}  // namespace

Result<std::vector<FileReport>> submit_files(const SubmitSettings& settings, ProgressDisplay& display) {
  std::error_code error;
  std::filesystem::create_directories(settings.output_dir, error);
  if (error) return Error::unavailable("Cannot create " + settings.output_dir.string() + ": " + error.message());
  std::vector<FileReport> reports(settings.files.size());
  std::atomic<std::size_t> next{0};
  {
    std::vector<std::jthread> workers;
    const auto count = std::min<std::size_t>(static_cast<std::size_t>(settings.parallel), settings.files.size());
    for (std::size_t i = 0; i < count; ++i) {
      workers.emplace_back([&] { work_through(settings, display, next, reports); });
    }
  }
  return reports;
}

std::string failure_summary(const std::vector<FileReport>& reports) {
  const auto failures = std::count_if(reports.begin(), reports.end(), [](const FileReport& r) { return !r.ok(); });
  if (failures == 0) return {};
  std::string out = std::to_string(failures) + " of " + std::to_string(reports.size()) + " files failed:\n";
  for (const auto& report : reports) {
    if (!report.ok()) out += "  " + report.input + ": " + report.error + "\n";
  }
  return out;
}

}  // namespace visor::client

#include "api/access_log.hpp"

#include <cstdio>
#include <mutex>

#include <nlohmann/json.hpp>

#include "util/log.hpp"
#include "util/time.hpp"

namespace visor::api {

std::string format_request_json(const RequestRecord& record, std::int64_t unix_ms) {
  nlohmann::ordered_json line = {{"ts", util::format_iso8601(unix_ms)},
                                 {"event", "http.request"},
                                 {"method", record.method},
                                 {"route", record.route},
                                 {"path", record.path},
                                 {"status", record.status},
                                 {"ms", record.ms}};
  if (!record.job_id.empty()) line["job_id"] = record.job_id;
  return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

void log_request(LogFormat format, const RequestRecord& record) {
  if (format == LogFormat::text) {
    util::log(util::LogLevel::debug, "http.request",
              {{"method", std::string(record.method)}, {"route", std::string(record.route)},
               {"path", std::string(record.path)}, {"status", std::to_string(record.status)},
               {"ms", std::to_string(record.ms)}, {"job_id", std::string(record.job_id)}});
    return;
  }
  static std::mutex mutex;
  const std::string line = format_request_json(record, util::now_ms());
  const std::lock_guard lock(mutex);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

}  // namespace visor::api

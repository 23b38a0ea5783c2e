#include "client/job_events.hpp"

#include <nlohmann/json.hpp>

namespace visor::client {
namespace {

using json = nlohmann::json;

std::string text_field(const json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int count_field(const json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_number_integer() ? it->get<int>() : 0;
}

StreamUpdate progress_update(const json& data) {
  StreamUpdate update{StreamUpdate::Kind::progress, {}, {}};
  update.progress.status = text_field(data, "status");
  if (const auto progress = data.find("progress"); progress != data.end() && progress->is_object()) {
    update.progress.pages_done = count_field(*progress, "pages_done");
    update.progress.total_pages = count_field(*progress, "total_pages");
  }
  return update;
}

StreamUpdate failure_update(const json& data) {
  std::string why = text_field(data, "error");
  if (why.empty()) why = "the job ended with status '" + text_field(data, "status") + "'";
  return {StreamUpdate::Kind::failed, {}, std::move(why)};
}

}  // namespace

StreamUpdate read_stream_event(const SseEvent& event) {
  // `close` carries nothing the client needs, so its data is not read.
  if (event.event == "close") return {StreamUpdate::Kind::closed, {}, {}};
  // `result` carries every page's results, which the client downloads in
  // the formats asked for instead: only its name matters.
  if (event.event == "result") return {StreamUpdate::Kind::completed, {}, {}};
  const json data = json::parse(event.data, nullptr, false);
  if (!data.is_object()) return {};
  if (event.event == "status") return progress_update(data);
  if (event.event == "error") return failure_update(data);
  if (event.event == "timeout") return {StreamUpdate::Kind::timeout, {}, text_field(data, "message")};
  return {};
}

}  // namespace visor::client

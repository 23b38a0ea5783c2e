#include "cli/engine_setup.hpp"

#include <limits>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "ocr/engine.hpp"
#include "util/duration.hpp"
#include "util/integer.hpp"

namespace visor::cli {
namespace {

using ocr::Model;
using ocr::remote::EndpointConfig;
using ocr::remote::RemoteModelConfig;

struct ModelFacts {
  Model model;
  const char* description;
  const char* output;
  const char* default_served_name;
  const char* serve_command;  // how to start a real server for it
};

constexpr ModelFacts kModels[] = {
    {Model::dotsocr, "Layout detection: elements with bounding boxes, categories and text (dots.ocr format)",
     "layout", "rednote-hilab/dots.ocr", "vllm serve rednote-hilab/dots.ocr --trust-remote-code"},
    {Model::lightonocr, "Markdown text extraction, one Markdown document per page (LightOnOCR format)", "markdown",
     "lightonai/LightOnOCR-1B-1025",
     "vllm serve lightonai/LightOnOCR-1B-1025 --limit-mm-per-prompt '{\"image\": 1}'"},
};

std::string flag(Model model, const char* suffix) { return std::string(ocr::model_name(model)) + "-" + suffix; }

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

Result<std::chrono::milliseconds> duration_ms(const std::string& text, const std::string& what) {
  auto seconds = util::parse_duration(text);
  if (!seconds) return Error::bad_input(what + ": " + seconds.error().message);
  return std::chrono::milliseconds(*seconds);
}

Result<int> positive(const std::string& text, const std::string& what) {
  auto value = util::parse_integer_in(text, 0, std::numeric_limits<int>::max(), what);
  if (!value) return value.take_error();
  return static_cast<int>(*value);
}

// {"models": {"dotsocr": {"retries": 4, "endpoints": [{"url", "model",
// "api_key", "max_concurrency", "timeout"}]}}}
Status read_config_file(const std::string& path, std::map<Model, RemoteModelConfig>& out) {
  std::ifstream in(path);
  if (!in) return Error::bad_input("Cannot read the config file " + path);
  const nlohmann::json config = nlohmann::json::parse(in, nullptr, false);
  if (!config.is_object()) return Error::bad_input("The config file " + path + " is not a JSON object");
  for (const auto& [name, model_config] : config.value("models", nlohmann::json::object()).items()) {
    const auto model = ocr::parse_model(name);
    if (!model) return Error::bad_input("The config file names an unknown model '" + name + "'");
    RemoteModelConfig& remote = out[*model];
    remote.max_retries = model_config.value("retries", remote.max_retries);
    for (const auto& endpoint : model_config.value("endpoints", nlohmann::json::array())) {
      EndpointConfig e;
      e.url = endpoint.value("url", "");
      if (e.url.empty()) return Error::bad_input("An endpoint of " + name + " in " + path + " has no url");
      e.model = endpoint.value("model", "");
      e.api_key = endpoint.value("api_key", "");
      e.max_in_flight = endpoint.value("max_concurrency", e.max_in_flight);
      auto timeout = duration_ms(endpoint.value("timeout", "5m"), "timeout of " + e.url);
      if (!timeout) return timeout.take_error();
      e.timeout = *timeout;
      remote.endpoints.push_back(std::move(e));
    }
  }
  return {};
}

const ModelFacts& facts(Model model) {
  for (const auto& f : kModels) {
    if (f.model == model) return f;
  }
  return kModels[0];
}

}  // namespace

std::vector<OptionSpec> engine_options() {
  std::vector<OptionSpec> specs = {
      {"config", "", "JSON file with remote inference endpoints per model (see README)"},
  };
  for (const auto& f : kModels) {
    const std::string name(ocr::model_name(f.model));
    specs.push_back({flag(f.model, "url"), "",
                     "Base URLs (comma-separated) of OpenAI-compatible servers for " + name +
                         "; without one the embedded engine serves it"});
    specs.push_back({flag(f.model, "model"), f.default_served_name, "Served model name for " + name});
    specs.push_back({flag(f.model, "api-key"), "", "Bearer token for the " + name + " endpoints"});
  }
  specs.push_back({"remote-concurrency", "32", "Requests in flight per remote endpoint"});
  specs.push_back({"remote-timeout", "5m", "Time limit of one remote request"});
  specs.push_back({"remote-retries", "4", "Retries of a failed remote request, across endpoints"});
  return specs;
}

Result<std::map<Model, RemoteModelConfig>> engine_config(const ParsedOptions& options) {
  std::map<Model, RemoteModelConfig> out;
  if (options.has("config")) {
    if (Status s = read_config_file(options.get("config"), out); !s) return s.take_error();
  }
  auto concurrency = positive(options.get("remote-concurrency"), "--remote-concurrency");
  auto timeout = duration_ms(options.get("remote-timeout"), "--remote-timeout");
  auto retries = positive(options.get("remote-retries"), "--remote-retries");
  if (!concurrency) return concurrency.take_error();
  if (!timeout) return timeout.take_error();
  if (!retries) return retries.take_error();
  for (const auto& f : kModels) {
    const auto urls = split_list(options.get(flag(f.model, "url")));
    if (urls.empty()) continue;
    RemoteModelConfig& remote = out[f.model];
    remote.max_retries = *retries;
    for (const auto& url : urls) {
      remote.endpoints.push_back({url, options.get(flag(f.model, "model")), options.get(flag(f.model, "api-key")),
                                  std::max(1, *concurrency), *timeout});
    }
  }
  for (auto& [model, remote] : out) {
    for (auto& endpoint : remote.endpoints) {
      if (endpoint.model.empty()) endpoint.model = facts(model).default_served_name;
    }
  }
  return out;
}

std::vector<std::string> EngineCatalog::model_ids() const {
  std::vector<std::string> ids;
  for (const auto& f : kModels) ids.emplace_back(ocr::model_name(f.model));
  return ids;
}

api::Json EngineCatalog::describe() const {
  api::Json list = api::Json::array();
  for (const auto& f : kModels) {
    api::Json engine;
    bool available = true;
    if (auto* pool = backends_.pool(f.model)) {
      api::Json endpoints = api::Json::array();
      for (const auto& status : pool->status()) {
        endpoints.push_back({{"url", status.url},
                             {"model", status.model},
                             {"healthy", status.healthy},
                             {"in_flight", status.in_flight},
                             {"last_error", status.last_error}});
      }
      available = pool->any_healthy();
      engine = {{"type", "remote"}, {"name", pool->config(0).model}, {"endpoints", endpoints}};
    } else {
      engine = {{"type", "embedded"}, {"name", ocr::tesseract_engine_name()}};
    }
    list.push_back({{"id", std::string(ocr::model_name(f.model))},
                    {"description", f.description},
                    {"output", f.output},
                    {"available", available},
                    {"engine", engine}});
  }
  return list;
}

Status EngineCatalog::check_available(const std::string& model) const {
  const auto parsed = ocr::parse_model(model);
  if (!parsed) return {};
  auto* pool = backends_.pool(*parsed);
  if (pool == nullptr || pool->any_healthy()) return {};
  std::string urls;
  for (const auto& status : pool->status()) urls += (urls.empty() ? "" : ", ") + status.url;
  return Error::unavailable(model + " backend not available: no inference endpoint is reachable (" +
                            pool->last_error() + "). Start one with: " + facts(*parsed).serve_command +
                            ", or check --" + flag(*parsed, "url") + " (" + urls + ")");
}

}  // namespace visor::cli

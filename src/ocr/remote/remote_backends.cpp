#include "ocr/remote/remote_backends.hpp"

#include "net/http_client.hpp"
#include "util/log.hpp"

namespace visor::ocr::remote {
namespace {

constexpr auto kProbeTimeout = std::chrono::seconds(3);

}  // namespace

namespace {

std::map<Model, std::unique_ptr<EndpointPool>> make_pools(const std::map<Model, RemoteModelConfig>& configs) {
  std::map<Model, std::unique_ptr<EndpointPool>> pools;
  for (const auto& [model, config] : configs) {
    if (!config.endpoints.empty()) pools[model] = std::make_unique<EndpointPool>(config.endpoints);
  }
  return pools;
}

}  // namespace

RemoteBackends::RemoteBackends(std::map<Model, RemoteModelConfig> models, std::chrono::milliseconds probe_interval)
    : configs_(std::move(models)),
      pools_(make_pools(configs_)),
      prober_(probe_interval, [this] { probe_due(); }) {
  // Health is known before the server takes its first request. A periodic
  // probe overlapping this one is harmless: the pools lock their state.
  probe_due();
}

EndpointPool* RemoteBackends::pool(Model model) {
  const auto it = pools_.find(model);
  return it == pools_.end() ? nullptr : it->second.get();
}

const RemoteModelConfig* RemoteBackends::config(Model model) const {
  const auto it = configs_.find(model);
  return it == configs_.end() ? nullptr : &it->second;
}

void RemoteBackends::probe_due() {
  thread_local net::HttpClient client;
  for (auto& [model, pool] : pools_) {
    for (int index : pool->due_for_probe()) {
      const EndpointConfig& endpoint = pool->config(index);
      auto reply = client.get(EndpointPool::models_url(endpoint), endpoint.api_key, kProbeTimeout);
      const bool reachable = reply.ok() && reply->status < 500;
      const std::string error = !reply.ok() ? reply.error().message
                                            : reachable ? std::string()
                                                        : "HTTP " + std::to_string(reply->status) + " from " +
                                                              EndpointPool::models_url(endpoint);
      pool->record_probe(index, reachable, error);
      if (reachable) {
        util::log_info("remote.endpoint_up", {{"model", std::string(model_name(model))}, {"url", endpoint.url}});
      } else {
        util::log_warn("remote.endpoint_down",
                       {{"model", std::string(model_name(model))}, {"url", endpoint.url}, {"error", error}});
      }
    }
  }
}

}  // namespace visor::ocr::remote

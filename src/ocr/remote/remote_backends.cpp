#include "ocr/remote/remote_backends.hpp"

#include "ocr/remote/http_client.hpp"
#include "util/log.hpp"

namespace visor::ocr::remote {
namespace {

constexpr auto kProbeTimeout = std::chrono::seconds(3);

}  // namespace

RemoteBackends::RemoteBackends(std::map<Model, RemoteModelConfig> models, std::chrono::milliseconds probe_interval)
    : configs_(std::move(models)), probe_interval_(probe_interval) {
  for (const auto& [model, config] : configs_) {
    if (!config.endpoints.empty()) pools_[model] = std::make_unique<EndpointPool>(config.endpoints);
  }
  probe_due();
  prober_ = std::thread([this] { run(); });
}

RemoteBackends::~RemoteBackends() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  prober_.join();
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
  thread_local HttpClient client;
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

void RemoteBackends::run() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, probe_interval_, [this] { return stopping_; })) {
    lock.unlock();
    probe_due();
    lock.lock();
  }
}

}  // namespace visor::ocr::remote

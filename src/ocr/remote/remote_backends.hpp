#pragma once
// The remote inference backends of a process: one endpoint pool per model
// that has remote endpoints configured, and a prober thread that checks
// endpoints out of service (GET /v1/models) and brings them back.

#include <chrono>
#include <map>
#include <memory>
#include <vector>

#include "ocr/model.hpp"
#include "ocr/remote/endpoint_pool.hpp"
#include "util/periodic.hpp"

namespace visor::ocr::remote {

struct RemoteModelConfig {
  std::vector<EndpointConfig> endpoints;
  int max_retries = 4;  // further attempts after the first, across endpoints
  // How long a page waits for some endpoint to come back before it is
  // given up (the worker retries the page later).
  std::chrono::milliseconds unavailable_wait{std::chrono::seconds(10)};
};

class RemoteBackends {
 public:
  // Probes every endpoint once before returning, so health is known at once.
  explicit RemoteBackends(std::map<Model, RemoteModelConfig> models,
                          std::chrono::milliseconds probe_interval = std::chrono::seconds(2));

  // nullptr when `model` has no remote backend (the embedded engine serves it).
  EndpointPool* pool(Model model);
  const RemoteModelConfig* config(Model model) const;

 private:
  void probe_due();

  std::map<Model, RemoteModelConfig> configs_;
  std::map<Model, std::unique_ptr<EndpointPool>> pools_;
  util::PeriodicThread prober_;  // last: probes only once the pools exist
};

}  // namespace visor::ocr::remote

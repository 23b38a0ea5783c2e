#pragma once
// Which engine serves each model: the remote endpoints configured by flags
// (--dotsocr-url, ...) and the optional JSON config file (--config), else
// the embedded engine; and the catalog GET /ocr/models shows.

#include <map>
#include <vector>

#include "api/service.hpp"
#include "cli/options.hpp"
#include "ocr/remote/remote_backends.hpp"

namespace visor::cli {

// The options engine_config() reads.
std::vector<OptionSpec> engine_options();

// Remote backends per model; models absent from the map use the embedded
// engine. bad_input with the reason for a malformed flag or config file.
Result<std::map<ocr::Model, ocr::remote::RemoteModelConfig>> engine_config(const ParsedOptions& options);

class EngineCatalog final : public api::ModelCatalog {
 public:
  // REQUIRES: backends outlives the catalog.
  explicit EngineCatalog(ocr::remote::RemoteBackends& backends) : backends_(backends) {}

  std::vector<std::string> model_ids() const override;
  api::Json describe() const override;
  Status check_available(const std::string& model) const override;

 private:
  ocr::remote::RemoteBackends& backends_;
};

}  // namespace visor::cli

#pragma once
// Files embedded in the binary at build time (the web UI, the OpenAPI
// document, the API reference renderer); src/api/CMakeLists.txt lists them.

#include <string_view>

namespace visor::api {

struct Asset {
  std::string_view content_type;
  std::string_view body;  // lives as long as the program
};

// The file served under `name` ("index.html", "app.js", "openapi.json"),
// or nullptr. Thread-safe.
const Asset* find_asset(std::string_view name);

}  // namespace visor::api

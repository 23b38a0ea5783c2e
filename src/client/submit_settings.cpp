#include "client/submit_settings.hpp"

#include <algorithm>
#include <array>

#include "util/integer.hpp"

namespace visor::client {
namespace {

constexpr std::array<std::string_view, 2> kModels{"dotsocr", "lightonocr"};
constexpr std::array<std::string_view, 3> kOcrModes{"auto", "ocr", "text"};
constexpr int kMostParallel = 64;

std::optional<std::string> given(const std::string& value) {
  return value.empty() ? std::nullopt : std::optional<std::string>(value);
}

template <std::size_t N>
Status check_one_of(const std::string& value, const std::array<std::string_view, N>& allowed, const char* option) {
  if (value.empty() || std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return {};
  std::string names;
  for (const auto name : allowed) names += (names.empty() ? "" : ", ") + std::string(name);
  return Error::bad_input(std::string(option) + " must be one of " + names + ", got '" + value + "'");
}

Result<std::string> server_url(std::string url) {
  if (url.empty()) {
    return Error::bad_input("--server is required (or VISOR_SERVER), e.g. --server http://localhost:8003");
  }
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    return Error::bad_input("--server must be an http:// or https:// URL, got '" + url + "'");
  }
  while (url.ends_with('/')) url.pop_back();
  return url;
}

}  // namespace

Result<SubmitSettings> read_submit_settings(const SubmitArguments& arguments) {
  SubmitSettings settings;
  if (arguments.files.empty()) return Error::bad_input("No files to submit");
  settings.files = arguments.files;
  auto url = server_url(arguments.server);
  if (!url) return url.take_error();
  settings.server = {std::move(*url), arguments.api_key};
  if (auto model = check_one_of(arguments.model, kModels, "--model"); !model) return model.take_error();
  if (auto mode = check_one_of(arguments.ocr_mode, kOcrModes, "--ocr-mode"); !mode) return mode.take_error();
  if (!arguments.dpi.empty()) {
    if (auto dpi = util::parse_integer_in(arguments.dpi, 72, 600, "--dpi"); !dpi) return dpi.take_error();
  }
  settings.job = {given(arguments.model), given(arguments.dpi), given(arguments.ocr_mode), given(arguments.pages)};
  auto formats = parse_output_formats(arguments.formats);
  if (!formats) return formats.take_error();
  settings.formats = std::move(*formats);
  settings.output_dir = arguments.output_dir.empty() ? "." : arguments.output_dir;
  if (!arguments.parallel.empty()) {
    auto parallel = util::parse_integer_in(arguments.parallel, 1, kMostParallel, "--parallel");
    if (!parallel) return parallel.take_error();
    settings.parallel = static_cast<int>(*parallel);
  }
  if (auto distinct = check_distinct_outputs(settings.files); !distinct) return distinct.take_error();
  return settings;
}

}  // namespace visor::client

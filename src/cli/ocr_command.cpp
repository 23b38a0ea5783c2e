// `visor ocr FILE`: one document (PDF or image), processed in this process with the
// embedded engine and the same page pipeline as the workers; no server, no
// store.

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/command_list.hpp"
#include "cli/options.hpp"
#include "cli/worker_settings.hpp"
#include "jobs/page_result.hpp"
#include "ocr/engine.hpp"
#include "ocr/running_margins.hpp"
#include "util/integer.hpp"
#include "util/page_selection.hpp"
#include "worker/page_processor.hpp"

namespace visor::cli {
namespace {

std::vector<OptionSpec> ocr_options() {
  return {
      {"model", "dotsocr", "Output model: dotsocr (layout JSON) or lightonocr (Markdown)"},
      {"dpi", "200", "Rendering resolution of PDF pages, 72 to 600 (images are read in their own pixels)"},
      {"pages", "", "Pages to process, 1-based: numbers and ranges such as 1-3,7,10- (default: every page)"},
      {"ocr-mode", "auto",
       "auto (read a page's own text layer when it can be trusted, else OCR it), ocr (always OCR), or text (text "
       "layers only: a page without one is a page error)"},
      {"format", "json", "json, or md (Markdown; lightonocr only)"},
      {"help", "", "Show this help", true},
  };
}

Result<std::shared_ptr<const std::string>> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::not_found("Cannot open " + path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return std::make_shared<const std::string>(std::move(bytes).str());
}

std::string file_name_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

int fail(const std::string& message, int code = 1) {
  std::cerr << "visor ocr: " << message << "\n";
  return code;
}

}  // namespace

int ocr_command(int argc, char** argv) {
  const auto specs = ocr_options();
  constexpr const char* kUsage =
      "visor ocr FILE [options]\n\nFILE is a PDF or an image (PNG, JPEG, TIFF with every page, GIF, BMP, JPEG 2000, "
      "PNM),\ntold by its content; results go to stdout";
  int exit_code = 0;
  const auto options = parse_command("ocr", kUsage, specs, argc, argv, exit_code);
  if (!options) return exit_code;
  if (options->positional().size() != 1) {
    std::cerr << format_help(kUsage, specs);
    return 2;
  }
  const auto model = ocr::parse_model(options->get("model"));
  if (!model) {
    return fail("Unsupported model '" + options->get("model") + "'. Available models: " +
                    std::string(ocr::kAvailableModels), 2);
  }
  const auto mode = ocr_mode_option(*options);
  if (!mode) return fail(mode.error().message, 2);
  const auto dpi_value = util::parse_integer_in(options->get("dpi"), 72, 600, "--dpi");
  if (!dpi_value) return fail(dpi_value.error().message, 2);
  const int dpi = static_cast<int>(*dpi_value);
  const std::string format = options->get("format");
  if (format != "json" && !(format == "md" && *model == ocr::Model::lightonocr)) {
    return fail("--format must be json, or md with --model lightonocr", 2);
  }

  const std::string& path = options->positional().front();
  auto bytes = read_file(path);
  if (!bytes) return fail(bytes.error().message);
  auto engine = ocr::make_tesseract_engine();
  worker::PageProcessor processor(*engine);
  auto document = processor.open(std::move(*bytes));
  if (!document) return fail(document.error().message);

  auto selection = util::PageSelection::from_parameter(options->get("pages"), document->page_count());
  if (!selection) return fail("--pages: " + selection.error().message, 2);
  auto first_image_dpi = document->image_dpi(selection->indexes().front());
  if (!first_image_dpi) return fail(first_image_dpi.error().message);

  std::vector<Result<worker::PageData>> outcomes;
  std::vector<nlohmann::json*> pages;
  for (const int page : selection->indexes()) {
    outcomes.push_back(processor.process(*document, page, dpi, *model, *mode));
    if (!outcomes.back()) std::cerr << "visor ocr: page " << page << ": " << outcomes.back().error().message << "\n";
  }
  // Running headers and footers are judged over the whole document, as the
  // API does when it assembles a job's results.
  for (auto& outcome : outcomes) pages.push_back(outcome ? &outcome->data : nullptr);
  ocr::mark_running_margins(pages);
  jobs::PageJson results = jobs::PageJson::object();
  std::string markdown;
  for (std::size_t page = 0; page < outcomes.size(); ++page) {
    const auto& outcome = outcomes[page];
    if (outcome && outcome->data.is_string()) {
      markdown += (markdown.empty() ? "" : "\n\n") + outcome->data.get<std::string>();
    }
    results["page_" + std::to_string(selection->indexes()[page])] = worker::page_record(outcome);
  }
  if (format == "md") {
    std::cout << markdown << "\n";
    return 0;
  }
  // As the API's metadata: the engine of the first page that has one.
  const auto first = std::find_if(outcomes.begin(), outcomes.end(), [](const auto& outcome) { return outcome.ok(); });
  const jobs::PageJson out = {{"filename", file_name_of(path)},
                              {"model", std::string(ocr::model_name(*model))},
                              {"dpi", first_image_dpi->value_or(dpi)},
                              {"ocr_mode", std::string(ocr::ocr_mode_name(*mode))},
                              {"total_pages", selection->count()},
                              {"pages", selection->text()},
                              {"document_pages", document->page_count()},
                              {"results", results},
                              {"metadata", {{"engine", first != outcomes.end() ? (*first)->engine : engine->name()}}}};
  std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace visor::cli

// `visor submit FILE...`: the command-line client of a Visor server. Reads
// its options and hands over to the client subsystem (src/client/).

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/command_list.hpp"
#include "cli/options.hpp"
#include "client/progress_display.hpp"
#include "client/submit_batch.hpp"
#include "client/submit_settings.hpp"

namespace visor::cli {
namespace {

constexpr const char* kUsage =
    "visor submit FILE... --server URL [options]\n"
    "\n"
    "Submits each FILE (a PDF or an image) to the server's POST /ocr/submit, several at once,\n"
    "follows each job live over GET /ocr/stream/{job_id} (reconnecting with Last-Event-ID when\n"
    "the stream drops) and, when it completes, downloads its outputs into the output directory:\n"
    "\n"
    "  --format md    <stem>.md       the whole document as Markdown (the default)\n"
    "  --format txt   <stem>.txt      its plain text\n"
    "  --format json  <stem>.json     the result body of GET /ocr/result\n"
    "  --format pdf   <stem>.ocr.pdf  a searchable PDF (never the name of the input)\n"
    "\n"
    "where <stem> is the input's file name without its last extension. --format may be repeated\n"
    "or comma-separated (--format md,pdf). Each output is written to a temporary file and renamed.\n"
    "-o DIR is --output DIR. --model, --dpi, --ocr-mode and --pages are sent only when given,\n"
    "so the server's defaults apply otherwise; --api-key goes as 'Authorization: Bearer KEY'.\n"
    "\n"
    "Progress goes to stderr: a live bar per file on a terminal, else a log line per change.\n"
    "\n"
    "Exit status: 0 when every file's outputs were written; 1 when any file failed (its upload\n"
    "refused, its job failed or was cancelled, its outputs could not be fetched or written),\n"
    "after a summary on stderr naming each failed file and the server's reason; 2 for usage\n"
    "errors (an unknown option, no FILE, no --server, a bad option value)";

std::vector<OptionSpec> submit_options() {
  return {
      {"server", "", "Base URL of the Visor server, e.g. http://localhost:8003 (required)"},
      {"api-key", "", "API key of the server, sent as a bearer token"},
      {"model", "", "dotsocr or lightonocr (default: the server's, dotsocr)"},
      {"format", "md", "Outputs to write: md, txt, json, pdf; repeat or comma-separate for several"},
      {"output", ".", "Directory for the outputs (also -o), created when missing"},
      {"dpi", "", "Rendering resolution of PDF pages, 72 to 600 (default: the server's, 200)"},
      {"ocr-mode", "", "auto, ocr or text (default: the server's)"},
      {"pages", "", "Pages to process, 1-based: numbers and ranges such as 1-3,7,10- (default: every page)"},
      {"parallel", std::to_string(client::kDefaultParallel), "Files submitted and followed at once, 1 to 64"},
      {"help", "", "Show this help (also -h)", true},
  };
}

// argv as parse_options() reads it: -o and -h become --output and --help,
// and each --format value is taken out into `formats`, since
// parse_options() keeps only a flag's last value. Values of other options
// are passed through untouched. bad_input for any other short option.
Result<std::vector<std::string>> normalized_arguments(int argc, char** argv, const std::vector<OptionSpec>& specs,
                                                      std::vector<std::string>& formats) {
  const auto takes_value = [&specs](std::string_view flag) {
    return std::any_of(specs.begin(), specs.end(),
                       [&](const OptionSpec& spec) { return !spec.is_switch && flag == "--" + spec.name; });
  };
  std::vector<std::string> out(argv, argv + std::min(argc, 2));
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-o" || arg == "-h") {
      out.push_back(arg == "-o" ? "--output" : "--help");
    } else if (arg == "--format" || arg.starts_with("--format=")) {
      if (arg == "--format" && i + 1 >= argc) return Error::bad_input("Option --format needs a value");
      formats.push_back(arg == "--format" ? argv[++i] : arg.substr(std::string_view("--format=").size()));
    } else if (arg.size() > 1 && arg[0] == '-' && arg[1] != '-') {
      return Error::bad_input("Unknown option " + arg + " (see --help)");
    } else {
      out.push_back(arg);
      if (takes_value(arg) && i + 1 < argc) out.push_back(argv[++i]);
    }
  }
  return out;
}

Result<client::SubmitSettings> read_settings(const ParsedOptions& options, std::vector<std::string> formats) {
  if (formats.empty()) formats.push_back(options.get("format"));
  return client::read_submit_settings({options.positional(), options.get("server"), options.get("api-key"),
                                       options.get("model"), options.get("dpi"), options.get("ocr-mode"),
                                       options.get("pages"), std::move(formats), options.get("output"),
                                       options.get("parallel")});
}

// Live bars on a terminal that can draw them; log lines anywhere else.
std::unique_ptr<client::ProgressDisplay> progress_display() {
  const char* term = std::getenv("TERM");
  if (::isatty(STDERR_FILENO) == 0 || (term != nullptr && std::string_view(term) == "dumb")) {
    return client::make_log_display(std::cerr);
  }
  winsize size{};
  const bool known = ::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0;
  return client::make_terminal_display(std::cerr, known ? size.ws_col : 80);
}

int usage_error(const std::string& message) {
  std::cerr << "visor submit: " << message << "\n";
  return 2;
}

}  // namespace

int submit_command(int argc, char** argv) {
  const auto specs = submit_options();
  std::vector<std::string> formats;
  auto arguments = normalized_arguments(argc, argv, specs, formats);
  if (!arguments) return usage_error(arguments.error().message);
  std::vector<char*> pointers;
  for (auto& argument : *arguments) pointers.push_back(argument.data());
  int exit_code = 0;
  const auto options =
      parse_command("submit", kUsage, specs, static_cast<int>(pointers.size()), pointers.data(), exit_code);
  if (!options) return exit_code;
  auto settings = read_settings(*options, std::move(formats));
  if (!settings) return usage_error(settings.error().message);

  const auto display = progress_display();
  const auto reports = client::submit_files(*settings, *display);
  if (!reports) {
    std::cerr << "visor submit: " << reports.error().message << "\n";
    return 1;
  }
  const std::string failures = client::failure_summary(*reports);
  if (failures.empty()) return 0;
  std::cerr << "visor submit: " << failures;
  return 1;
}

}  // namespace visor::cli

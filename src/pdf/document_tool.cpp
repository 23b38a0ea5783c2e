// Both sides of the document tool: the parent (IsolatedDocumentTool), which
// runs `visor document ...` through util::run_bounded and turns how the child
// ended into a Result, and the child (document_tool_main), which reads its
// input from stdin and answers on stdout. The child is forked by the fork
// server `visor document fork-server`, or spawned as a program.
//
// The protocol, private to this file:
//   argv:   <visor> document inspect|page|searchable --name=value...
//   stdin:  for `page`, the annotations as JSON (--annotations-bytes long),
//           then the document; for `searchable`, the pages' text as JSON
//           (--text-bytes long), then the document; for `inspect`, the
//           document alone
//   exit 0: stdout is the answer: {"pages": N, "format": "PNG", "image_dpi": D}
//           for inspect (image_dpi 0 for a PDF), PNG for page, PDF for searchable
//   exit 3: stdout is an error {"kind": "bad_input", "message": "..."}
// Any other end (a signal, a kill at the time limit, another status) is a
// failure of the child, which the parent words for the user.

#include "pdf/document_tool.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/duration.hpp"
#include "util/fork_server.hpp"
#include "util/log.hpp"
#include "util/process.hpp"

namespace visor::pdf {
namespace {

using json = nlohmann::json;

constexpr std::string_view kForkServerVerb = "fork-server";
constexpr int kAnsweredWithError = 3;
constexpr int kUsageError = 2;

constexpr std::size_t kInspectAnswerBytes = 64 << 10;

// Test hook for the end-to-end tests: no file of the hostile corpus crashes
// MuPDF 1.21 (bench/robustness.py), so they set this variable to make the
// child crash (SIGSEGV) after reading its input, and check what the API
// answers and that it goes on serving.
constexpr const char* kCrashForTests = "VISOR_TEST_CRASH_DOCUMENT_TOOL";

constexpr std::array<std::pair<Error::Kind, std::string_view>, 8> kKindNames{{
    {Error::Kind::bad_input, "bad_input"},
    {Error::Kind::invalid_request, "invalid_request"},
    {Error::Kind::too_large, "too_large"},
    {Error::Kind::not_found, "not_found"},
    {Error::Kind::conflict, "conflict"},
    {Error::Kind::unavailable, "unavailable"},
    {Error::Kind::timeout, "timeout"},
    {Error::Kind::internal, "internal"},
}};

std::string_view kind_name(Error::Kind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  return "internal";
}

Error::Kind kind_named(std::string_view name) {
  for (const auto& [kind, n] : kKindNames) {
    if (n == name) return kind;
  }
  return Error::Kind::internal;
}

// " (--some-flag)", or "" when no setting is named.
std::string setting_note(const std::string& setting) { return setting.empty() ? "" : " (" + setting + ")"; }

json annotations_json(const std::vector<Annotation>& annotations) {
  json out = json::array();
  for (const Annotation& a : annotations) {
    out.push_back({{"x1", a.x1}, {"y1", a.y1}, {"x2", a.x2}, {"y2", a.y2}, {"label", a.label}, {"rgb", a.rgb}});
  }
  return out;
}

Result<std::vector<Annotation>> annotations_from(std::string_view text) {
  const json parsed = json::parse(text, nullptr, false);
  if (!parsed.is_array()) return Error::internal("The annotations are not a JSON array");
  std::vector<Annotation> out;
  for (const json& item : parsed) {
    if (!item.is_object()) return Error::internal("An annotation is not a JSON object");
    Annotation a;
    a.x1 = item.value("x1", 0);
    a.y1 = item.value("y1", 0);
    a.x2 = item.value("x2", 0);
    a.y2 = item.value("y2", 0);
    a.label = item.value("label", "");
    a.rgb = item.value("rgb", 0xFFFFFFu);
    out.push_back(std::move(a));
  }
  return out;
}

json page_texts_json(const std::vector<PageText>& pages) {
  json out = json::array();
  for (const PageText& page : pages) {
    json lines = json::array();
    for (const RecognisedLine& l : page.lines) lines.push_back({l.x1, l.y1, l.x2, l.y2, l.text});
    out.push_back({{"page", page.page_index}, {"lines", std::move(lines)}, {"unplaced", page.unplaced_lines}});
  }
  return out;
}

Result<std::vector<PageText>> page_texts_from(std::string_view text) {
  const json parsed = json::parse(text, nullptr, false);
  if (!parsed.is_array()) return Error::internal("The pages' text is not a JSON array");
  std::vector<PageText> out;
  try {
    for (const json& item : parsed) {
      PageText page;
      page.page_index = item.at("page").get<int>();
      for (const json& l : item.at("lines")) {
        page.lines.push_back({l.at(0).get<int>(), l.at(1).get<int>(), l.at(2).get<int>(), l.at(3).get<int>(),
                              l.at(4).get<std::string>()});
      }
      page.unplaced_lines = item.at("unplaced").get<std::vector<std::string>>();
      out.push_back(std::move(page));
    }
  } catch (const json::exception& e) {
    return Error::internal(std::string("The pages' text is malformed: ") + e.what());
  }
  return out;
}

// --- The parent ---------------------------------------------------------

class IsolatedDocumentTool final : public DocumentTool {
 public:
  explicit IsolatedDocumentTool(DocumentToolOptions options) : options_(std::move(options)) {
    if (options_.fork_server) {
      forks_ = std::make_unique<util::ForkServer>(
          std::vector<std::string>{options_.executable, "document", std::string(kForkServerVerb)});
    }
  }

  Result<DocumentFacts> inspect(const std::string& document) override {
    auto answer = run({"inspect"}, {document}, kInspectAnswerBytes);
    if (!answer) return answer.take_error();
    const json facts = json::parse(*answer, nullptr, false);
    if (!facts.is_object() || !facts.contains("pages") || !facts["pages"].is_number_integer() ||
        !facts.value("format", json()).is_string() || !facts.value("image_dpi", json()).is_number_integer()) {
      return Error::internal("The document tool did not answer with a page count, format and image DPI");
    }
    return DocumentFacts{facts["pages"].get<int>(), facts["format"].get<std::string>(), facts["image_dpi"].get<int>()};
  }

  Result<std::string> page_png(const std::string& document, const PageImageRequest& request) override {
    const std::string annotations = annotations_json(request.annotations).dump();
    return run({"page", "--page=" + std::to_string(request.page_index), "--dpi=" + std::to_string(request.dpi),
                "--line-width=" + std::to_string(request.line_width),
                "--annotations-bytes=" + std::to_string(annotations.size())},
               {annotations, document}, largest_png());
  }

  Result<std::string> searchable_pdf(const std::string& document, const std::vector<PageText>& pages,
                                     int dpi) override {
    const std::string text = page_texts_json(pages).dump();
    // The document's own objects, its text, and room for an image's pixels
    // stored anew.
    const std::size_t largest = 4 * document.size() + 4 * text.size() + (std::size_t{16} << 20);
    return run({"searchable", "--dpi=" + std::to_string(dpi), "--text-bytes=" + std::to_string(text.size())},
               {text, document}, largest);
  }

 private:
  // An RGB image of max_pixels stored without compression, plus room for
  // PNG's per-row filter bytes and framing.
  std::size_t largest_png() const {
    return static_cast<std::size_t>(options_.max_pixels * 3 * 1.01) + (std::size_t{1} << 20);
  }

  std::vector<std::string> command_line(std::vector<std::string> request) const {
    std::vector<std::string> argv = {options_.executable, "document"};
    argv.insert(argv.end(), request.begin(), request.end());
    argv.push_back("--max-pixels=" + std::to_string(static_cast<std::uint64_t>(options_.max_pixels)));
    argv.push_back("--max-pixels-setting=" + options_.max_pixels_setting);
    argv.push_back("--memory-setting=" + options_.memory_setting);
    return argv;
  }

  Result<std::string> run(std::vector<std::string> request, std::vector<std::string_view> input,
                          std::size_t max_answer) const {
    const std::string verb = request.front();
    util::ChildLimits limits;
    limits.address_space_bytes = options_.memory_bytes;
    limits.wall_time = options_.timeout;
    limits.cpu_time = std::chrono::ceil<std::chrono::seconds>(options_.timeout) + std::chrono::seconds(1);
    limits.max_output_bytes = max_answer;
    util::ChildLauncher& launcher = forks_ ? *forks_ : util::spawn_launcher();
    auto child = util::run_bounded(launcher, command_line(std::move(request)), input, limits);
    if (!child) return Error::unavailable("The document reader is not available: " + child.error().message);
    const std::string ms = std::to_string(child->elapsed.count());
    if (child->succeeded()) {
      util::log(util::LogLevel::debug, "document_tool.answered", {{"request", verb}, {"ms", ms}});
      return std::move(child->output);
    }
    if (child->exited_with(kAnsweredWithError)) return error_from(child->output);
    Error error = failure(*child, max_answer);
    util::log_warn("document_tool.failed", {{"request", verb},
                                            {"how", child->timed_out ? "killed at its time limit"
                                                                     : util::describe_exit(child->wait_status)},
                                            {"ms", ms},
                                            {"stderr", child->errors.substr(0, 300)}});
    return error;
  }

  static Error error_from(const std::string& answer) {
    const json error = json::parse(answer, nullptr, false);
    if (!error.is_object()) return Error::internal("The document reader failed without saying why");
    return Error{kind_named(error.value("kind", "")), error.value("message", "The document reader failed")};
  }

  // The child ended without an answer: say what happened, in words.
  Error failure(const util::ChildRun& child, std::size_t max_answer) const {
    constexpr std::string_view kUnreadable = "The PDF could not be read: ";
    if (child.timed_out) {
      const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(options_.timeout);
      return Error::bad_input(std::string(kUnreadable) + "reading it took longer than " +
                              util::describe_duration(seconds) + setting_note(options_.timeout_setting));
    }
    if (child.output_too_large) {
      return Error::internal("The document reader answered with more than " + util::describe_size(max_answer));
    }
    const int sig = child.crash_signal();
    if (sig == SIGXCPU) {
      return Error::bad_input(std::string(kUnreadable) + "reading it used more CPU time than its limit" +
                              setting_note(options_.timeout_setting));
    }
    if (sig == SIGKILL) {
      return Error::bad_input(std::string(kUnreadable) + "the parser was killed (signal 9), most likely by the "
                              "system for using too much memory");
    }
    if (sig != 0) {
      return Error::bad_input(std::string(kUnreadable) + "the parser crashed (signal " + std::to_string(sig) + ", " +
                              strsignal(sig) + ")");
    }
    std::string detail = child.errors.substr(0, child.errors.find('\n'));
    return Error::internal("The document reader failed (" + util::describe_exit(child.wait_status) + ")" +
                           (detail.empty() ? "" : ": " + detail));
  }

  DocumentToolOptions options_;
  std::unique_ptr<util::ForkServer> forks_;  // null: spawn each child
};

// --- The child ----------------------------------------------------------

using Arguments = std::map<std::string, std::string, std::less<>>;

// The values of `--name=value` arguments from argv[first..].
Arguments named_arguments(int argc, char** argv, int first) {
  Arguments out;
  for (int i = first; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (!arg.starts_with("--")) continue;
    arg.remove_prefix(2);
    const auto eq = arg.find('=');
    if (eq == std::string_view::npos) continue;
    out.emplace(std::string(arg.substr(0, eq)), std::string(arg.substr(eq + 1)));
  }
  return out;
}

std::optional<long long> number_argument(const Arguments& args, std::string_view name) {
  const auto it = args.find(name);
  if (it == args.end()) return std::nullopt;
  long long value = 0;
  const std::string& text = it->second;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string text_argument(const Arguments& args, std::string_view name) {
  const auto it = args.find(name);
  return it == args.end() ? std::string() : it->second;
}

// Reads `count` bytes from stdin, or all of it when count is nullopt.
Result<std::string> read_input(std::optional<std::size_t> count) {
  std::string out;
  std::array<char, 65536> buffer;
  while (!count || out.size() < *count) {
    const std::size_t want = count ? std::min(buffer.size(), *count - out.size()) : buffer.size();
    const ssize_t n = ::read(STDIN_FILENO, buffer.data(), want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::internal(std::string("Cannot read the input: ") + std::strerror(errno));
    if (n == 0) break;
    out.append(buffer.data(), static_cast<std::size_t>(n));
  }
  if (count && out.size() != *count) return Error::internal("The input ended early");
  return out;
}

bool write_output(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(STDOUT_FILENO, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

int answer(const Result<std::string>& outcome) {
  if (outcome) return write_output(*outcome) ? 0 : 1;
  const json error = {{"kind", kind_name(outcome.error().kind)}, {"message", outcome.error().message}};
  return write_output(error.dump()) ? kAnsweredWithError : 1;
}

Result<std::string> inspect(Context& context, std::shared_ptr<const std::string> document) {
  auto opened = Document::open(context, std::move(document));
  if (!opened) return opened.take_error();
  auto image_dpi = opened->image_dpi(0);
  if (!image_dpi) return image_dpi.take_error();
  return json{{"pages", opened->page_count()},
              {"format", opened->format().name},
              {"image_dpi", image_dpi->value_or(0)}}
      .dump();
}

Result<std::string> page(Context& context, std::shared_ptr<const std::string> document,
                         const std::vector<Annotation>& annotations, const Arguments& args) {
  const auto page_index = number_argument(args, "page");
  const auto dpi = number_argument(args, "dpi");
  const auto line_width = number_argument(args, "line-width").value_or(1);
  if (!page_index || !dpi) return Error::internal("The page request needs --page and --dpi");
  auto opened = Document::open(context, std::move(document));
  if (!opened) return opened.take_error();
  auto image = opened->render(static_cast<int>(*page_index), static_cast<double>(*dpi), 3);
  if (!image) return image.take_error();
  if (annotations.empty()) return encode_png(context, *image);
  return draw_annotations_png(context, *image, annotations, static_cast<int>(line_width));
}

Result<std::string> searchable(Context& context, std::shared_ptr<const std::string> document,
                               const std::vector<PageText>& pages, const Arguments& args) {
  const auto dpi = number_argument(args, "dpi");
  if (!dpi) return Error::internal("The searchable request needs --dpi");
  auto opened = Document::open(context, std::move(document));
  if (!opened) return opened.take_error();
  return opened->searchable_pdf(pages, static_cast<double>(*dpi));
}

// The JSON that comes before the document, `--<name>=N` bytes of it ("" when none).
Result<std::string> read_preamble(const Arguments& args, std::string_view name) {
  const auto bytes = number_argument(args, name).value_or(0);
  return read_input(static_cast<std::size_t>(std::max(0LL, bytes)));
}

Result<std::string> serve_request(std::string_view verb, const Arguments& args, Context& context) {
  std::vector<Annotation> annotations;
  std::vector<PageText> pages;
  if (verb == "page") {
    auto text = read_preamble(args, "annotations-bytes");
    if (!text) return text.take_error();
    auto parsed = annotations_from(text->empty() ? "[]" : *text);
    if (!parsed) return parsed.take_error();
    annotations = std::move(*parsed);
  } else if (verb == "searchable") {
    auto text = read_preamble(args, "text-bytes");
    if (!text) return text.take_error();
    auto parsed = page_texts_from(text->empty() ? "[]" : *text);
    if (!parsed) return parsed.take_error();
    pages = std::move(*parsed);
  }
  auto document = read_input(std::nullopt);
  if (!document) return document.take_error();
  if (std::getenv(kCrashForTests) != nullptr) ::raise(SIGSEGV);
  auto bytes = std::make_shared<const std::string>(std::move(*document));
  if (verb == "inspect") return inspect(context, std::move(bytes));
  if (verb == "searchable") return searchable(context, std::move(bytes), pages, args);
  return page(context, std::move(bytes), annotations, args);
}

// One request: `<visor> document inspect|page|searchable --name=value...`.
int run_request(int argc, char** argv) {
  // Never outlive the API process that asked.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  const std::string_view verb = argc > 2 ? argv[2] : "";
  if (verb != "inspect" && verb != "page" && verb != "searchable") return kUsageError;
  const Arguments args = named_arguments(argc, argv, 3);
  const std::string memory_setting = text_argument(args, "memory-setting");
  try {
    RenderLimits limits;
    limits.max_pixels = static_cast<double>(number_argument(args, "max-pixels").value_or(200'000'000));
    limits.max_pixels_setting = text_argument(args, "max-pixels-setting");
    limits.memory_setting = memory_setting;
    Context context(limits);
    return answer(serve_request(verb, args, context));
  } catch (const std::bad_alloc&) {
    return answer(Error::too_large("Out of memory" +
                                   (memory_setting.empty() ? "" : "; raise " + memory_setting + " to allow more")));
  } catch (const std::exception& e) {
    return answer(Error::internal(std::string("The document reader failed: ") + e.what()));
  }
}

}  // namespace

std::unique_ptr<DocumentTool> make_isolated_document_tool(DocumentToolOptions options) {
  return std::make_unique<IsolatedDocumentTool>(std::move(options));
}

int document_tool_main(int argc, char** argv) {
  const std::string_view verb = argc > 2 ? argv[2] : "";
  if (verb != kForkServerVerb) return run_request(argc, argv);
  return util::serve_forks(STDIN_FILENO, [](const std::vector<std::string>& arguments) {
    std::vector<char*> request_argv;
    for (const std::string& argument : arguments) request_argv.push_back(const_cast<char*>(argument.c_str()));
    request_argv.push_back(nullptr);
    return run_request(static_cast<int>(arguments.size()), request_argv.data());
  });
}

}  // namespace visor::pdf

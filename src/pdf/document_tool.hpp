#pragma once
// Reads untrusted documents for the API process without parsing them there:
// each request runs `visor document ...` in a short-lived child process,
// bounded in memory, CPU time and wall time, that reads the document from
// its stdin (uploaded files never touch the file system) and answers on its
// stdout. A document that crashes MuPDF or exceeds a limit ends that child
// only; the caller gets an error that says what happened.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pdf/document.hpp"
#include "util/result.hpp"

namespace visor::pdf {

// What the API learns from an upload before accepting it.
struct DocumentFacts {
  int page_count = 0;
  std::string format = "PDF";  // FormatInfo::name
  // For an image, the DPI of its first page's own pixel size
  // (Document::image_dpi); 0 for a PDF.
  int image_dpi = 0;
};

// One page image: the page rendered in RGB at `dpi`, with `annotations`
// (in pixels at that DPI) drawn on it, as PNG.
struct PageImageRequest {
  int page_index = 0;
  int dpi = 200;
  std::vector<Annotation> annotations;
  int line_width = 1;  // of the annotation outlines
};

// Thread safety: every method may be called from any thread, concurrently.
class DocumentTool {
 public:
  virtual ~DocumentTool() = default;

  // Opens the document and counts its pages. bad_input saying in words why a
  // person's file cannot be processed (the messages of Document::open), or
  // that reading it crashed, ran out of time or memory.
  virtual Result<DocumentFacts> inspect(const std::string& document) = 0;

  // The page as PNG bytes. Errors as Document::render (invalid_request for
  // a page out of range, too_large over the pixel limit), plus those of
  // inspect().
  virtual Result<std::string> page_png(const std::string& document, const PageImageRequest& request) = 0;

  // Document::searchable_pdf in a child: the PDF's bytes. Errors as
  // inspect(), and those of Document::searchable_pdf.
  virtual Result<std::string> searchable_pdf(const std::string& document, const std::vector<PageText>& pages,
                                             int dpi) = 0;
};

struct DocumentToolOptions {
  // The visor binary; its hidden `document` subcommand is the child.
  std::string executable = "/proc/self/exe";
  // How each child starts: forked by a helper (`visor document fork-server`,
  // started once and again if it dies), which costs a fork, or by running
  // `executable` anew, which costs an exec of the whole binary (about 17 ms
  // of CPU). Either way each request gets a fresh process.
  bool fork_server = true;
  // Address space of each child (RLIMIT_AS).
  std::uint64_t memory_bytes = std::uint64_t{2} << 30;
  // Wall time of each child, after which it is killed; its CPU time limit
  // is one second more, for a child whose parent died.
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  // The largest page image rendered (RenderLimits::max_pixels).
  double max_pixels = 200e6;
  // The settings that raise each limit, named in errors.
  std::string memory_setting;
  std::string timeout_setting;
  std::string max_pixels_setting;
};

// The DocumentTool that runs each request in a child process.
std::unique_ptr<DocumentTool> make_isolated_document_tool(DocumentToolOptions options);

// The child's side, `visor document inspect|page --name=value...`: reads
// the request's input from stdin, answers on stdout, returns the exit code.
// `visor document fork-server` is the fork server (util/fork_server.hpp)
// whose children do the same.
int document_tool_main(int argc, char** argv);

}  // namespace visor::pdf

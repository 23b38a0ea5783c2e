#pragma once
// The only door to MuPDF. Every fz_try lives in document.cpp; callers see
// Result values and RAII owners, never fz_context or a longjmp.
//
// Thread safety: a Context and everything opened through it belong to one
// thread at a time. Give each worker thread its own Context.

#include <chrono>
#include <cstddef>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "pdf/formats.hpp"
#include "pdf/searchable_pdf.hpp"
#include "pdf/text_layer.hpp"
#include "util/image.hpp"
#include "util/result.hpp"

namespace visor::pdf {

// When a render must stop; kNoDeadline for never.
using Deadline = std::chrono::steady_clock::time_point;
inline constexpr Deadline kNoDeadline = Deadline::max();

// What one Context agrees to do for an untrusted document.
struct RenderLimits {
  // The largest page image rendered, in pixels; render() refuses larger
  // pages (too_large), it never scales them down.
  double max_pixels = 200e6;
  // The most MuPDF may hold at once in this context, in bytes; an
  // allocation over it fails as out of memory (0: no budget but the
  // process's). For where a process limit cannot be set (under ASan).
  std::size_t max_memory_bytes = 0;
  // The settings that raise each limit, named in its errors so that a user
  // knows what to change (e.g. "--max-page-pixels"); empty names nothing.
  std::string max_pixels_setting;
  std::string memory_setting;
};

class Context {
 public:
  // Throws std::runtime_error when MuPDF cannot allocate a context.
  explicit Context(RenderLimits limits = {});
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // Changes the most MuPDF may hold at once in this context from now on
  // (RenderLimits::max_memory_bytes; 0: no budget but the process's).
  void set_memory_budget(std::size_t bytes);
  // Whether MuPDF was refused memory by the budget since the last call.
  bool memory_budget_refused();

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

struct PixelSize {
  int width = 0;
  int height = 0;
};

struct PageSize {
  double width_pt = 0;   // after /Rotate, as the page is displayed
  double height_pt = 0;
};

// An opened document. Keeps its own copy of the bytes alive.
// REQUIRES: the Context outlives the Document.
class Document {
 public:
  // Opens a document from memory: a PDF or an image (formats.hpp), told by
  // its content. Errors (Kind::bad_input) say in words a person understands
  // why: empty file, neither a PDF nor a supported image, encrypted
  // (password required), damaged beyond repair, no pages.
  static Result<Document> open(Context& context, std::shared_ptr<const std::string> bytes);

  Document(Document&&) noexcept;
  Document& operator=(Document&&) noexcept;
  ~Document();

  int page_count() const;
  Result<PageSize> page_size(int page_index);

  // What the document was recognised as.
  const FormatInfo& format() const;

  // For an image, the DPI at which page `page_index` renders at the image's
  // own pixel size: its resolution as MuPDF reads it (the file's, made
  // plausible, 72 to 4800; 72 or 96 when the file names none, by format).
  // nullopt for a PDF. Errors as page_size(), and bad_input when the page
  // draws no image.
  Result<std::optional<int>> image_dpi(int page_index);

  // Renders one page at `dpi` (72 DPI == 1 px per point), grayscale
  // (channels 1) or RGB (channels 3), white background, no alpha.
  // Kind::bad_input when the page cannot be rendered, invalid_request for a
  // page index, DPI or channel count out of range, too_large when the image
  // would exceed the context's max_pixels (the message gives the page size,
  // DPI, pixels and limit) or memory runs out, timeout when `deadline`
  // passes first (MuPDF stops between drawing operations; one long
  // operation, such as decoding one huge image, runs to its end), conflict
  // when `abandon` is requested first (the same way, from another thread).
  Result<util::Image> render(int page_index, double dpi, int channels, Deadline deadline = kNoDeadline,
                             std::stop_token abandon = {});

  // The size in pixels of render(page_index, dpi, ...), without rendering.
  Result<PixelSize> pixel_size(int page_index, double dpi);

  // What page `page_index` draws, read from its content without rendering
  // it, in pixels of the page at `dpi` (see text_layer.hpp). Errors as
  // render(): bad_input when the page cannot be read, too_large out of
  // memory, timeout at `deadline`, conflict when abandoned.
  Result<PageContent> read_content(int page_index, double dpi, Deadline deadline = kNoDeadline,
                                   std::stop_token abandon = {});

  // The document as a searchable PDF: its pages with the text of `pages`
  // laid over them as an invisible layer (searchable_pdf.hpp), in pixels
  // of the page at `dpi` for a PDF, at each page's image_dpi for an image.
  // A PDF keeps everything else as it was, pages not in `pages` untouched;
  // an image becomes a PDF whose pages draw it at its own size. Errors:
  // bad_input when the PDF cannot be written, too_large out of memory.
  Result<std::string> searchable_pdf(const std::vector<PageText>& pages, double dpi);

  // Renders one page stretched to exactly width × height pixels (vision
  // models expect exact input sizes; rendering at the target size is sharper
  // than resampling a rendered page).
  // Errors as render().
  Result<util::Image> render_to_size(int page_index, int width, int height, int channels,
                                     Deadline deadline = kNoDeadline, std::stop_token abandon = {});

 private:
  struct Impl;
  explicit Document(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A labelled rectangle to draw on an annotated page.
struct Annotation {
  int x1 = 0, y1 = 0, x2 = 0, y2 = 0;  // pixels of the rendered image
  std::string label;                   // drawn on a filled tag above the box
  unsigned rgb = 0xFFFFFF;             // 0xRRGGBB
};

// Draws each annotation on a copy of `page` (channels 3) with an outline of
// `line_width` pixels just outside the box and its label in black or white on
// a tag of the same colour, and encodes the result as PNG bytes.
Result<std::string> draw_annotations_png(Context& context, const util::Image& page,
                                         const std::vector<Annotation>& annotations, int line_width);

// Encodes an image (channels 1 or 3) as PNG bytes.
Result<std::string> encode_png(Context& context, const util::Image& image);

// "1.21.1": the MuPDF this binary was built with.
std::string mupdf_version();

}  // namespace visor::pdf

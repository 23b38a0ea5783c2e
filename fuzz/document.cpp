// libFuzzer target: document intake, what the server and its workers do
// with the bytes of an upload (src/pdf/document.hpp): open them, count the
// pages, and for the first and the last page read the size and render it at
// a low DPI, both as the page image and stretched to a small fixed size.
//
// The input is the file itself, so any PDF is a seed.
//
// Properties checked (besides ASan and UBSan); a violation aborts, which
// libFuzzer reports as a crash:
// - an opened document has at least one page;
// - render() gives the size pixel_size() announced, with a pixel buffer of
//   width × height × channels bytes;
// - render_to_size() gives exactly the size asked for.
//
// A page whose image at kDpi would exceed kMaxPixels is not rendered: the
// server's own cap (200 megapixels) is far too slow for a fuzzer, which
// needs thousands of inputs a second. Such pages still get pixel_size() and
// the small render_to_size().

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "pdf/document.hpp"

namespace visor::pdf {
namespace {

constexpr double kDpi = 36;
// Each render stops here, as a worker's does at --page-timeout: slow drawing
// (MuPDF checks the deadline between operations) ends as an error instead
// of a libFuzzer timeout. One long operation, such as decoding one huge
// image, can still run past it.
constexpr auto kRenderTime = std::chrono::seconds(2);
constexpr long long kMaxPixels = 1 << 20;
// What MuPDF may hold at once, as a worker's --worker-memory bounds it (an
// address-space limit is no option under ASan): half of libFuzzer's default
// 2 GB, so that a document asking MuPDF or jbig2dec for gigabytes is an
// ordinary error here rather than an out-of-memory stop.
constexpr std::size_t kMemoryBudget = std::size_t{1} << 30;
constexpr int kSmallWidth = 48;
constexpr int kSmallHeight = 64;

// Reports which property failed and stops the run, so that libFuzzer keeps
// the input as a crash.
[[noreturn]] void violated(const char* property) {
  std::fprintf(stderr, "document fuzz target: property violated: %s\n", property);
  std::abort();
}

void require(bool holds, const char* property) {
  if (!holds) violated(property);
}

bool has_size(const util::Image& image, int width, int height, int channels) {
  return image.width == width && image.height == height && image.channels == channels &&
         image.pixels.size() == static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                                    static_cast<std::size_t>(channels);
}

void render_page(Document& document, int page_index) {
  (void)document.page_size(page_index);
  Result<PixelSize> size = document.pixel_size(page_index, kDpi);
  if (size.ok() && size->width > 0 && size->height > 0 &&
      static_cast<long long>(size->width) * size->height <= kMaxPixels) {
    Result<util::Image> image = document.render(page_index, kDpi, 1, std::chrono::steady_clock::now() + kRenderTime);
    if (image.ok()) require(has_size(*image, size->width, size->height, 1), "render() gives pixel_size()");
  }
  Result<util::Image> small = document.render_to_size(page_index, kSmallWidth, kSmallHeight, 3,
                                                     std::chrono::steady_clock::now() + kRenderTime);
  if (small.ok()) require(has_size(*small, kSmallWidth, kSmallHeight, 3), "render_to_size() gives the size asked");
}

void take_in(const std::uint8_t* data, std::size_t size) {
  // A fresh context per input, as cheap as it is, keeps MuPDF's caches from
  // carrying one input's state into the next, so every crash reproduces
  // from its input alone.
  RenderLimits limits;
  limits.max_memory_bytes = kMemoryBudget;
  Context context(limits);
  auto bytes = std::make_shared<const std::string>(reinterpret_cast<const char*>(data), size);
  Result<Document> document = Document::open(context, std::move(bytes));
  if (!document.ok()) return;
  const int pages = document->page_count();
  require(pages >= 1, "an opened document has a page");
  render_page(*document, 0);
  if (pages > 1) render_page(*document, pages - 1);
}

}  // namespace
}  // namespace visor::pdf

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  visor::pdf::take_in(data, size);
  return 0;
}

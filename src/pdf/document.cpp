// Opening, rendering and drawing on documents. MuPDF is called only from
// pdf/, and always through fitz.hpp's guarded().

#include "pdf/document.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <stdexcept>

#include "pdf/allocator_budget.hpp"
#include "pdf/formats.hpp"
#include "util/alarm.hpp"
#include "util/duration.hpp"

#include "pdf/fitz.hpp"

namespace visor::pdf {
namespace fitz {

const RenderLimits& limits_of(fz_context* ctx) {
  static const RenderLimits kDefaults;
  const auto* limits = static_cast<const RenderLimits*>(fz_user_context(ctx));
  return limits != nullptr ? *limits : kDefaults;
}

std::string raised_by(const std::string& setting) {
  return setting.empty() ? std::string() : "; raise " + setting + " to allow more";
}

Error out_of_memory(fz_context* ctx) {
  return Error::too_large(std::string("Out of memory (") + fz_caught_message(ctx) + ")" +
                          raised_by(limits_of(ctx).memory_setting));
}

Status run_page(fz_context* ctx, fz_page* page, fz_device* device, Deadline deadline, const std::stop_token& abandon,
                const char* doing, const char* failure) {
  // Checked first so that a passed deadline or an abandoned page stops even
  // a page quicker to run than the alarm thread is to start.
  if (abandon.stop_requested()) return Error::conflict(std::string(doing) + " was abandoned");
  if (std::chrono::steady_clock::now() >= deadline) {
    return Error::timeout(std::string(doing) + " took longer than its time limit");
  }
  fz_cookie cookie{};
  const auto stop = [&cookie] { std::atomic_ref<int>(cookie.abort).store(1); };
  const util::Alarm alarm(deadline, stop);
  const std::stop_callback on_abandon(abandon, stop);
  const Status s = guarded(ctx, failure, [&] {
    fz_run_page(ctx, page, device, fz_identity, &cookie);
    fz_close_device(ctx, device);
  });
  if (abandon.stop_requested()) return Error::conflict(std::string(doing) + " was abandoned");
  if (alarm.rang()) return Error::timeout(std::string(doing) + " took longer than its time limit");
  return s;
}

PixelSpace pixel_space(fz_rect bounds, double dpi) {
  const auto scale = static_cast<float>(dpi / 72.0);
  const fz_irect box = fz_round_rect(fz_transform_rect(bounds, fz_scale(scale, scale)));
  return {fz_concat(fz_scale(scale, scale), fz_translate(static_cast<float>(-box.x0), static_cast<float>(-box.y0))),
          {0, 0, box.x1 - box.x0, box.y1 - box.y0}};
}

}  // namespace fitz

namespace {

using namespace fitz;

void ignore_message(void*, const char*) {}

std::string not_a_document() {
  return "The file is neither a PDF nor an image Visor reads (it reads " + std::string(supported_formats()) +
         ", told apart by their content)";
}

// "The PDF", "The PNG image": the document as a sentence names it.
std::string the_document(const FormatInfo& format) {
  return "The " + std::string(format.name) + (format.image ? " image" : "");
}

bool valid_channels(int channels) { return channels == 1 || channels == 3; }

fz_colorspace* colorspace_for(fz_context* ctx, int channels) {
  return channels == 1 ? fz_device_gray(ctx) : fz_device_rgb(ctx);
}

Status check_image(const util::Image& image) {
  if (!valid_channels(image.channels)) return Error::internal("Images must have 1 or 3 channels");
  const auto expected = static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height) *
                        static_cast<std::size_t>(image.channels);
  if (image.width <= 0 || image.height <= 0 || image.pixels.size() != expected) {
    return Error::internal("The image is empty or its pixel buffer does not match its size");
  }
  return {};
}

// Copies the pixmap row by row: its stride may include padding.
util::Image copy_pixels(fz_context* ctx, fz_pixmap* pixmap) {
  util::Image image;
  image.width = fz_pixmap_width(ctx, pixmap);
  image.height = fz_pixmap_height(ctx, pixmap);
  image.channels = fz_pixmap_components(ctx, pixmap);
  const std::size_t row_bytes = static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.channels);
  const auto stride = static_cast<std::size_t>(fz_pixmap_stride(ctx, pixmap));
  const unsigned char* samples = fz_pixmap_samples(ctx, pixmap);
  image.pixels.resize(row_bytes * static_cast<std::size_t>(image.height));
  for (int y = 0; y < image.height; ++y) {
    std::memcpy(image.row(y), samples + stride * static_cast<std::size_t>(y), row_bytes);
  }
  return image;
}

// Whether page `index` can be found in the page tree.
bool page_exists(fz_context* ctx, pdf_document* pdf, int index) {
  pdf_obj* page = nullptr;
  return guarded(ctx, "", [&] { page = pdf_lookup_page_obj(ctx, pdf, index); }).ok() && page != nullptr;
}

// The number of pages really in the tree. MuPDF trusts /Count, which broken
// or hostile files get wrong, so when the last claimed page is missing we
// binary-search the largest index that resolves.
int real_page_count(fz_context* ctx, fz_document* document, int claimed) {
  pdf_document* pdf = pdf_specifics(ctx, document);
  if (pdf == nullptr || claimed <= 0 || page_exists(ctx, pdf, claimed - 1)) return claimed;
  int found = 0;            // pages 0..found-1 exist
  int missing = claimed - 1;  // page `missing` does not
  while (missing - found > 0) {
    const int probe = found + (missing - found) / 2;
    if (page_exists(ctx, pdf, probe)) {
      found = probe + 1;
    } else {
      missing = probe;
    }
  }
  return found;
}

bool was_repaired(fz_context* ctx, fz_document* document) {
  pdf_document* pdf = pdf_specifics(ctx, document);
  return pdf != nullptr && pdf_was_repaired(ctx, pdf) != 0;
}

// The budget's "no limit" for RenderLimits' 0.
std::size_t budget_bytes(std::size_t max_memory_bytes) {
  return max_memory_bytes == 0 ? std::numeric_limits<std::size_t>::max() : max_memory_bytes;
}

}  // namespace

struct Context::Impl {
  explicit Impl(RenderLimits render_limits)
      : budget(budget_bytes(render_limits.max_memory_bytes)), limits(std::move(render_limits)) {}

  // Always there, so that it can be set per page; declared first: outlives the context.
  AllocatorBudget budget;
  fz_context* ctx = nullptr;
  RenderLimits limits;
};

Context::Context(RenderLimits limits) : impl_(std::make_unique<Impl>(std::move(limits))) {
  impl_->ctx = fz_new_context(impl_->budget.allocator(), nullptr, FZ_STORE_DEFAULT);
  if (impl_->ctx == nullptr) throw std::runtime_error("MuPDF could not create a context (out of memory)");
  fz_set_user_context(impl_->ctx, &impl_->limits);
  // Hostile files can make MuPDF print millions of warnings to stderr.
  fz_set_warning_callback(impl_->ctx, ignore_message, nullptr);
  fz_set_error_callback(impl_->ctx, ignore_message, nullptr);
  if (Status s = guarded(impl_->ctx, "MuPDF cannot register its document handlers",
                         [&] { fz_register_document_handlers(impl_->ctx); });
      !s) {
    fz_drop_context(impl_->ctx);
    throw std::runtime_error(s.error().message);
  }
}

Context::~Context() { fz_drop_context(impl_->ctx); }

void Context::set_memory_budget(std::size_t bytes) {
  impl_->limits.max_memory_bytes = bytes;
  impl_->budget.set_max_bytes(budget_bytes(bytes));
}

bool Context::memory_budget_refused() { return impl_->budget.take_refusal(); }

struct Document::Impl {
  std::shared_ptr<const std::string> bytes;  // declared first: outlives the document reading it
  fz_context* ctx = nullptr;
  FormatInfo format{};
  OwnedDocument document{nullptr, {nullptr}};
  int page_count = 0;

  std::string damaged() const { return the_document(format) + " is damaged and cannot be read"; }

  Result<OwnedPage> load_page(int page_index) {
    if (page_index < 0 || page_index >= page_count) {
      return Error::invalid_request("Page " + std::to_string(page_index + 1) + " does not exist; the document has " +
                                    std::to_string(page_count) + " pages");
    }
    fz_page* page = nullptr;
    const Status s = guarded(ctx, "The page cannot be read", [&] { page = fz_load_page(ctx, document.get(), page_index); });
    OwnedPage owner = own<OwnedPage>(ctx, page);
    if (!s) return s.error();
    return owner;
  }

  Result<fz_rect> bounds(fz_page* page) {
    fz_rect rect{};
    if (Status s = guarded(ctx, "The page size cannot be read", [&] { rect = fz_bound_page(ctx, page); }); !s) {
      return s.take_error();
    }
    return rect;
  }

  // Opens `bytes` as `format` into `document`.
  Status open_as_format() {
    fz_stream* stream = nullptr;
    fz_document* raw = nullptr;
    const std::string mime(format.mime);
    const Status s = guarded(ctx, damaged().c_str(), [&] {
      stream = fz_open_memory(ctx, reinterpret_cast<const unsigned char*>(bytes->data()), bytes->size());
      raw = fz_open_document_with_stream(ctx, mime.c_str(), stream);
    });
    const OwnedStream stream_owner = own<OwnedStream>(ctx, stream);  // the document holds its own reference
    document = own<OwnedDocument>(ctx, raw);
    return s;
  }

  // Files with only an owner password open with the empty user password.
  Status unlock() {
    int needs_password = 0;
    int authenticated = 0;
    fz_document* doc = document.get();
    if (Status s = guarded(ctx, damaged().c_str(), [&] {
          needs_password = fz_needs_password(ctx, doc);
          if (needs_password) authenticated = fz_authenticate_password(ctx, doc, "");
        });
        !s) {
      return s;
    }
    if (needs_password && !authenticated) {
      return Error::bad_input("The PDF is encrypted and needs a password; remove the password and upload it again");
    }
    return {};
  }

  Status count_pages() {
    int claimed = 0;
    fz_document* doc = document.get();
    if (Status s = guarded(ctx, damaged().c_str(), [&] { claimed = fz_count_pages(ctx, doc); }); !s) return s;
    page_count = real_page_count(ctx, doc, claimed);
    if (page_count > 0) return {};
    // A repaired file whose catalog or page tree was lost (e.g. cut short)
    // may still hold page objects, but nothing says in which order.
    if (was_repaired(ctx, doc)) return Error::bad_input(damaged() + ": no pages could be recovered");
    return Error::bad_input(the_document(format) + " has no pages");
  }
};

Document::Document(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Document::Document(Document&&) noexcept = default;
Document& Document::operator=(Document&&) noexcept = default;
Document::~Document() = default;

Result<Document> Document::open(Context& context, std::shared_ptr<const std::string> bytes) {
  if (!bytes || bytes->empty()) return Error::bad_input("The file is empty");
  const std::optional<FormatInfo> format = sniff_format(*bytes);
  if (!format) return Error::bad_input(not_a_document());

  auto impl = std::make_unique<Impl>();
  impl->bytes = std::move(bytes);
  impl->ctx = context.impl().ctx;
  impl->format = *format;
  for (Status (Impl::*step)() : {&Impl::open_as_format, &Impl::unlock, &Impl::count_pages}) {
    if (Status s = (impl.get()->*step)(); !s) return s.take_error();
  }
  return Document(std::move(impl));
}

int Document::page_count() const { return impl_->page_count; }

const FormatInfo& Document::format() const { return impl_->format; }

Result<PageSize> Document::page_size(int page_index) {
  auto page = impl_->load_page(page_index);
  if (!page) return page.take_error();
  auto bounds = impl_->bounds(page->get());
  if (!bounds) return bounds.take_error();
  return PageSize{bounds->x1 - bounds->x0, bounds->y1 - bounds->y0};
}

namespace {

// "8.5", "11", "200": a length with at most one decimal.
std::string one_decimal(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", value);
  std::string out = text;
  if (out.ends_with(".0")) out.resize(out.size() - 2);
  return out;
}

// Names the page size, DPI, pixel count and limit, and how to raise it.
Error too_many_pixels(int page_index, const fz_rect& bounds, double dpi, double pixels, const RenderLimits& limits) {
  const std::string size = one_decimal((bounds.x1 - bounds.x0) / 72.0) + " × " +
                           one_decimal((bounds.y1 - bounds.y0) / 72.0) + " in";
  return Error::too_large("Page " + std::to_string(page_index + 1) + " is " + size + "; at " + one_decimal(dpi) +
                          " DPI that is " + util::describe_count(static_cast<std::uint64_t>(pixels)) +
                          " pixels, over the limit of " +
                          util::describe_count(static_cast<std::uint64_t>(limits.max_pixels)) + " per page" +
                          raised_by(limits.max_pixels_setting));
}

// The pixmap's pixels as an Image; too_large when there is no memory for
// the copy.
Result<util::Image> image_of(fz_context* ctx, fz_pixmap* pixmap) {
  try {
    return copy_pixels(ctx, pixmap);
  } catch (const std::bad_alloc&) {
    return Error::too_large("Out of memory (copying a rendered page)" + raised_by(limits_of(ctx).memory_setting));
  }
}

// Draws `page` through `ctm` on a new white pixmap, as
// fz_new_pixmap_from_page does, but stopping at `deadline` or when
// `abandon` is requested (run_page).
Result<OwnedPixmap> draw_page(fz_context* ctx, fz_page* page, fz_matrix ctm, int channels, Deadline deadline,
                              const std::stop_token& abandon) {
  fz_pixmap* pixmap = nullptr;
  Status s = guarded(ctx, "The page cannot be rendered", [&] {
    const fz_irect box = fz_round_rect(fz_transform_rect(fz_bound_page(ctx, page), ctm));
    pixmap = fz_new_pixmap_with_bbox(ctx, colorspace_for(ctx, channels), box, nullptr, 0);
    fz_clear_pixmap_with_value(ctx, pixmap, 0xFF);
  });
  OwnedPixmap owner = own<OwnedPixmap>(ctx, pixmap);
  if (!s) return s.take_error();

  fz_device* device = nullptr;
  s = guarded(ctx, "The page cannot be rendered", [&] { device = fz_new_draw_device(ctx, ctm, pixmap); });
  const OwnedDevice device_owner = own<OwnedDevice>(ctx, device);
  if (!s) return s.take_error();
  s = run_page(ctx, page, device, deadline, abandon, "Rendering the page", "The page cannot be rendered");
  if (!s) return s.take_error();
  return owner;
}

}  // namespace

namespace {

// Notes how many pixels per point the page's most detailed image is drawn
// at. Its callback only reads the image's size: nothing is decoded.
struct ImageScaleDevice {
  fz_device super;
  float pixels_per_point;
};

void note_image_scale(fz_context*, fz_device* device, fz_image* image, fz_matrix ctm, float, fz_color_params) {
  auto& scale = *reinterpret_cast<ImageScaleDevice*>(device);
  const fz_rect drawn = fz_transform_rect(fz_unit_rect, ctm);
  const float width = drawn.x1 - drawn.x0;
  if (width > 0) scale.pixels_per_point = std::max(scale.pixels_per_point, static_cast<float>(image->w) / width);
}

}  // namespace

Result<std::optional<int>> Document::image_dpi(int page_index) {
  if (!impl_->format.image) return std::optional<int>();
  fz_context* ctx = impl_->ctx;
  auto page = impl_->load_page(page_index);
  // Images are decoded when their page is loaded: this is where a cut or
  // corrupt one shows.
  if (!page && page.error().kind == Error::Kind::bad_input) return Error::bad_input(impl_->damaged());
  if (!page) return page.take_error();
  ImageScaleDevice* device = nullptr;
  Status s = guarded(ctx, "The image cannot be read", [&] { device = fz_new_derived_device(ctx, ImageScaleDevice); });
  const OwnedDevice owner = own<OwnedDevice>(ctx, reinterpret_cast<fz_device*>(device));
  if (!s) return s.take_error();
  device->pixels_per_point = 0;
  device->super.fill_image = note_image_scale;
  s = run_page(ctx, page->get(), &device->super, kNoDeadline, {}, "Reading the image", "The image cannot be read");
  if (!s) return s.take_error();
  if (device->pixels_per_point <= 0) return Error::bad_input("Page " + std::to_string(page_index + 1) + " of the image draws no image");
  return std::optional<int>(static_cast<int>(std::lround(device->pixels_per_point * 72.0f)));
}

Result<util::Image> Document::render(int page_index, double dpi, int channels, Deadline deadline,
                                     std::stop_token abandon) {
  if (!valid_channels(channels)) return Error::invalid_request("Pages render with 1 or 3 channels");
  if (dpi <= 0) return Error::invalid_request("The DPI must be positive");
  fz_context* ctx = impl_->ctx;
  auto page = impl_->load_page(page_index);
  if (!page) return page.take_error();
  auto bounds = impl_->bounds(page->get());
  if (!bounds) return bounds.take_error();

  // fz_bound_page already applies /Rotate, and so does rendering. The
  // limit is checked before any pixel is allocated.
  const float scale = static_cast<float>(dpi) / 72.0f;
  const double pixels = std::fabs((bounds->x1 - bounds->x0) * scale) * std::fabs((bounds->y1 - bounds->y0) * scale);
  const RenderLimits& limits = limits_of(ctx);
  if (!(pixels <= limits.max_pixels)) return too_many_pixels(page_index, *bounds, dpi, pixels, limits);

  auto pixmap = draw_page(ctx, page->get(), fz_scale(scale, scale), channels, deadline, abandon);
  if (!pixmap) return pixmap.take_error();
  return image_of(ctx, pixmap->get());
}

namespace {

// A pixmap over `pixels`, a copy of `image`'s. REQUIRES: `pixels` outlives it.
Result<OwnedPixmap> wrap_pixels(fz_context* ctx, const util::Image& image, std::vector<unsigned char>& pixels) {
  if (Status s = check_image(image); !s) return s.take_error();
  pixels.assign(image.pixels.begin(), image.pixels.end());
  fz_pixmap* pixmap = nullptr;
  const Status s = guarded(ctx, "The image cannot be prepared", [&] {
    pixmap = fz_new_pixmap_with_data(ctx, colorspace_for(ctx, image.channels), image.width, image.height, nullptr, 0,
                                     image.width * image.channels, pixels.data());
  });
  OwnedPixmap owner = own<OwnedPixmap>(ctx, pixmap);
  if (!s) return s.error();
  return owner;
}

Result<std::string> png_bytes(fz_context* ctx, fz_pixmap* pixmap) {
  fz_buffer* buffer = nullptr;
  const Status s = guarded(ctx, "The image cannot be encoded as PNG",
                           [&] { buffer = fz_new_buffer_from_pixmap_as_png(ctx, pixmap, fz_default_color_params); });
  const OwnedBuffer owner = own<OwnedBuffer>(ctx, buffer);
  if (!s) return s.error();
  unsigned char* data = nullptr;
  const std::size_t size = fz_buffer_storage(ctx, buffer, &data);
  return std::string(reinterpret_cast<const char*>(data), size);
}

struct Colour {
  float rgb[3];
};

Colour colour_of(unsigned rgb) {
  return {{static_cast<float>((rgb >> 16) & 0xFF) / 255.0f, static_cast<float>((rgb >> 8) & 0xFF) / 255.0f,
           static_cast<float>(rgb & 0xFF) / 255.0f}};
}

// Black text on light tags, white on dark ones (ITU-R BT.601 luma).
Colour text_colour_on(const Colour& tag) {
  const float luma = 0.299f * tag.rgb[0] + 0.587f * tag.rgb[1] + 0.114f * tag.rgb[2];
  return luma > 0.55f ? Colour{{0, 0, 0}} : Colour{{1, 1, 1}};
}

// Draws on one pixmap with a device in pixel coordinates; each method is
// one guarded MuPDF call sequence.
class Painter {
 public:
  Painter(fz_context* ctx, int width, int height) : ctx_(ctx), width_(width), height_(height) {}

  Status open(fz_pixmap* pixmap) {
    fz_device* device = nullptr;
    fz_font* font = nullptr;
    const Status s = guarded(ctx_, "The annotations cannot be drawn", [&] {
      device = fz_new_draw_device(ctx_, fz_identity, pixmap);
      font = fz_new_base14_font(ctx_, "Helvetica-Bold");
    });
    device_ = own<OwnedDevice>(ctx_, device);
    font_ = own<OwnedFont>(ctx_, font);
    return s;
  }

  Status close() {
    fz_device* device = device_.get();
    return guarded(ctx_, "The annotations cannot be drawn", [&] { fz_close_device(ctx_, device); });
  }

  Status draw(const Annotation& a, int line_width) {
    const Colour colour = colour_of(a.rgb);
    const auto lw = static_cast<float>(std::max(1, line_width));
    const fz_rect box = box_of(a);
    // Stroked on the middle of a band of `lw` pixels just outside the box,
    // so the outline hides none of its content.
    const fz_rect outline{box.x0 - lw / 2, box.y0 - lw / 2, box.x1 + lw / 2, box.y1 + lw / 2};
    if (Status s = stroke_rect(outline, lw, colour); !s) return s;
    if (a.label.empty()) return {};
    return draw_label(a.label, fz_rect{box.x0 - lw, box.y0 - lw, box.x1 + lw, box.y1 + lw}, colour);
  }

 private:
  static fz_rect box_of(const Annotation& a) {
    return {static_cast<float>(std::min(a.x1, a.x2)), static_cast<float>(std::min(a.y1, a.y2)),
            static_cast<float>(std::max(a.x1, a.x2)), static_cast<float>(std::max(a.y1, a.y2))};
  }

  // Label text height in pixels: small, but readable on a 200 DPI page.
  float label_size() const { return std::max(12.0f, std::round(static_cast<float>(height_) * 0.009f)); }

  Status stroke_rect(fz_rect r, float width, const Colour& colour) {
    fz_path* path = nullptr;
    fz_stroke_state* stroke = nullptr;
    fz_device* device = device_.get();
    const Status s = guarded(ctx_, "The annotations cannot be drawn", [&] {
      path = fz_new_path(ctx_);
      fz_rectto(ctx_, path, r.x0, r.y0, r.x1, r.y1);
      stroke = fz_new_stroke_state(ctx_);
      stroke->linewidth = width;
      fz_stroke_path(ctx_, device, path, stroke, fz_identity, fz_device_rgb(ctx_), colour.rgb, 1.0f,
                     fz_default_color_params);
    });
    const OwnedPath path_owner = own<OwnedPath>(ctx_, path);
    const OwnedStroke stroke_owner = own<OwnedStroke>(ctx_, stroke);
    return s;
  }

  Status fill_rect(fz_rect r, const Colour& colour) {
    fz_path* path = nullptr;
    fz_device* device = device_.get();
    const Status s = guarded(ctx_, "The annotations cannot be drawn", [&] {
      path = fz_new_path(ctx_);
      fz_rectto(ctx_, path, r.x0, r.y0, r.x1, r.y1);
      fz_fill_path(ctx_, device, path, 0, fz_identity, fz_device_rgb(ctx_), colour.rgb, 1.0f, fz_default_color_params);
    });
    const OwnedPath owner = own<OwnedPath>(ctx_, path);
    return s;
  }

  Result<float> text_width(const std::string& label, float size) {
    fz_matrix end{};
    fz_font* font = font_.get();
    if (Status s = guarded(ctx_, "The annotations cannot be drawn", [&] {
          end = fz_measure_string(ctx_, font, fz_scale(size, size), label.c_str(), 0, 0, FZ_BIDI_LTR, FZ_LANG_UNSET);
        });
        !s) {
      return s.take_error();
    }
    return end.e;
  }

  Status fill_text(const std::string& label, float size, float x, float baseline, const Colour& colour) {
    fz_text* text = nullptr;
    fz_font* font = font_.get();
    fz_device* device = device_.get();
    // The device's y axis points down, so flip the glyphs upright.
    const fz_matrix trm = fz_make_matrix(size, 0, 0, -size, x, baseline);
    const Status s = guarded(ctx_, "The annotations cannot be drawn", [&] {
      text = fz_new_text(ctx_);
      fz_show_string(ctx_, text, font, trm, label.c_str(), 0, 0, FZ_BIDI_LTR, FZ_LANG_UNSET);
      fz_fill_text(ctx_, device, text, fz_identity, fz_device_rgb(ctx_), colour.rgb, 1.0f, fz_default_color_params);
    });
    const OwnedText owner = own<OwnedText>(ctx_, text);
    return s;
  }

  // A filled tag holding the label, on top of `outer` (the box with its
  // outline) when there is room above it, else inside its top edge; always
  // shifted to stay inside the image.
  Status draw_label(const std::string& label, fz_rect outer, const Colour& colour) {
    const float size = label_size();
    auto width = text_width(label, size);
    if (!width) return width.take_error();
    const float padding = std::round(size * 0.25f);
    const float tag_width = *width + 2 * padding;
    const float tag_height = std::round(size * 1.2f) + padding;
    const auto image_width = static_cast<float>(width_);
    const auto image_height = static_cast<float>(height_);

    float top = outer.y0 - tag_height >= 0 ? outer.y0 - tag_height : outer.y0;
    top = std::max(0.0f, std::min(top, image_height - tag_height));
    const float left = std::max(0.0f, std::min(outer.x0, image_width - tag_width));

    if (Status s = fill_rect({left, top, left + tag_width, top + tag_height}, colour); !s) return s;
    const float baseline = top + padding / 2 + size * 0.95f;
    return fill_text(label, size, left + padding, baseline, text_colour_on(colour));
  }

  fz_context* ctx_;
  int width_;
  int height_;
  OwnedDevice device_{nullptr, {nullptr}};
  OwnedFont font_{nullptr, {nullptr}};
};

}  // namespace

Result<std::string> draw_annotations_png(Context& context, const util::Image& page,
                                         const std::vector<Annotation>& annotations, int line_width) {
  if (page.channels != 3) return Error::internal("Annotations are drawn on RGB images only");
  fz_context* ctx = context.impl().ctx;
  std::vector<unsigned char> pixels;
  auto pixmap = wrap_pixels(ctx, page, pixels);
  if (!pixmap) return pixmap.take_error();
  {
    Painter painter(ctx, page.width, page.height);
    if (Status s = painter.open(pixmap->get()); !s) return s.take_error();
    for (const Annotation& annotation : annotations) {
      if (Status s = painter.draw(annotation, line_width); !s) return s.take_error();
    }
    if (Status s = painter.close(); !s) return s.take_error();
  }
  return png_bytes(ctx, pixmap->get());
}

Result<std::string> Document::searchable_pdf(const std::vector<PageText>& pages, double dpi) {
  std::vector<double> dpis(static_cast<std::size_t>(page_count()), dpi);
  for (int i = 0; i < page_count(); ++i) {
    auto own_dpi = image_dpi(i);
    if (!own_dpi) return own_dpi.take_error();
    if (*own_dpi) dpis[static_cast<std::size_t>(i)] = **own_dpi;
  }
  return write_searchable_pdf(impl_->ctx, impl_->document.get(), page_count(), pages, dpis);
}

std::string mupdf_version() { return FZ_VERSION; }

Result<std::string> encode_png(Context& context, const util::Image& image) {
  fz_context* ctx = context.impl().ctx;
  std::vector<unsigned char> pixels;
  auto pixmap = wrap_pixels(ctx, image, pixels);
  if (!pixmap) return pixmap.take_error();
  return png_bytes(ctx, pixmap->get());
}

Result<PageContent> Document::read_content(int page_index, double dpi, Deadline deadline, std::stop_token abandon) {
  if (dpi <= 0) return Error::invalid_request("The DPI must be positive");
  auto page = impl_->load_page(page_index);
  if (!page) return page.take_error();
  auto bounds = impl_->bounds(page->get());
  if (!bounds) return bounds.take_error();
  return read_page_content(impl_->ctx, page->get(), *bounds, dpi, deadline, abandon);
}

Result<PixelSize> Document::pixel_size(int page_index, double dpi) {
  if (dpi <= 0) return Error::invalid_request("The DPI must be positive");
  auto page = impl_->load_page(page_index);
  if (!page) return page.take_error();
  auto bounds = impl_->bounds(page->get());
  if (!bounds) return bounds.take_error();
  // The same rounding fz_new_pixmap_from_page applies.
  const fz_irect box = pixel_space(*bounds, dpi).pixels;
  return PixelSize{box.x1, box.y1};
}

Result<util::Image> Document::render_to_size(int page_index, int width, int height, int channels,
                                             Deadline deadline, std::stop_token abandon) {
  if (!valid_channels(channels)) return Error::invalid_request("Pages render with 1 or 3 channels");
  if (width <= 0 || height <= 0) return Error::invalid_request("The target size must be positive");
  fz_context* ctx = impl_->ctx;
  const RenderLimits& limits = limits_of(ctx);
  if (static_cast<double>(width) * height > limits.max_pixels) {
    return Error::too_large("The target size " + std::to_string(width) + " × " + std::to_string(height) +
                            " is over the limit of " +
                            util::describe_count(static_cast<std::uint64_t>(limits.max_pixels)) + " pixels per page" +
                            raised_by(limits.max_pixels_setting));
  }
  auto page = impl_->load_page(page_index);
  if (!page) return page.take_error();
  auto bounds = impl_->bounds(page->get());
  if (!bounds) return bounds.take_error();
  const float page_width = bounds->x1 - bounds->x0;
  const float page_height = bounds->y1 - bounds->y0;
  if (!(page_width > 0 && page_height > 0)) return Error::bad_input("The page has no area");

  const fz_matrix ctm = fz_scale(static_cast<float>(width) / page_width, static_cast<float>(height) / page_height);
  auto drawn = draw_page(ctx, page->get(), ctm, channels, deadline, abandon);
  if (!drawn) return drawn.take_error();
  fz_pixmap* rendered = drawn->get();
  if (fz_pixmap_width(ctx, rendered) == width && fz_pixmap_height(ctx, rendered) == height) {
    return image_of(ctx, rendered);
  }
  // A page box off the integer grid can round one pixel wider or taller;
  // stretch the few rows or columns back to the exact size.
  const fz_point corners[4] = {{0, 0},
                               {static_cast<float>(fz_pixmap_width(ctx, rendered)), 0},
                               {static_cast<float>(fz_pixmap_width(ctx, rendered)),
                                static_cast<float>(fz_pixmap_height(ctx, rendered))},
                               {0, static_cast<float>(fz_pixmap_height(ctx, rendered))}};
  fz_pixmap* exact = nullptr;
  const Status s =
      guarded(ctx, "The page cannot be resized", [&] { exact = fz_warp_pixmap(ctx, rendered, corners, width, height); });
  const OwnedPixmap exact_owner = own<OwnedPixmap>(ctx, exact);
  if (!s) return s.error();
  return image_of(ctx, exact);
}

}  // namespace visor::pdf

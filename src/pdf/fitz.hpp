#pragma once
// What the files of pdf/ share to call MuPDF safely; included by them only,
// never outside pdf/. MuPDF reports errors by longjmp, so each fz_try sits
// in guarded(), whose body only calls MuPDF and stores plain pointers into
// variables of its caller: no C++ object with a destructor is created
// inside it and no exception crosses it. Whatever the body created is handed
// to an owner right after guarded() returns, failed or not, and failures
// come out as Error values.

#include <memory>
#include <stop_token>
#include <string>

#include "pdf/document.hpp"
#include "util/result.hpp"

extern "C" {
#include <mupdf/fitz.h>
#include <mupdf/pdf.h>
}

namespace visor::pdf::fitz {

// Drop functions take (ctx, T*) or, for paths, strokes and text, (ctx, const T*).
template <class T, auto Drop>
struct Dropper {
  fz_context* ctx;
  void operator()(T* p) const { Drop(ctx, p); }
};
template <class T, auto Drop>
using Owned = std::unique_ptr<T, Dropper<T, Drop>>;

using OwnedDocument = Owned<fz_document, fz_drop_document>;
using OwnedPage = Owned<fz_page, fz_drop_page>;
using OwnedPixmap = Owned<fz_pixmap, fz_drop_pixmap>;
using OwnedBuffer = Owned<fz_buffer, fz_drop_buffer>;
using OwnedStream = Owned<fz_stream, fz_drop_stream>;
using OwnedDevice = Owned<fz_device, fz_drop_device>;
using OwnedFont = Owned<fz_font, fz_drop_font>;
using OwnedPath = Owned<fz_path, fz_drop_path>;
using OwnedStroke = Owned<fz_stroke_state, fz_drop_stroke_state>;
using OwnedText = Owned<fz_text, fz_drop_text>;
using OwnedTextPage = Owned<fz_stext_page, fz_drop_stext_page>;

template <class Owner, class T>
Owner own(fz_context* ctx, T* raw) {
  return Owner(raw, {ctx});
}

// The limits of the Context that owns `ctx` (its MuPDF user context).
const RenderLimits& limits_of(fz_context* ctx);

// "; raise --some-flag to allow more", naming the setting that raises a
// limit; "" when none is named.
std::string raised_by(const std::string& setting);

// MuPDF's allocation failures, when the process's address space limit
// (or the machine) has no room left; the failure's own words would blame
// the document ("damaged").
Error out_of_memory(fz_context* ctx);

// Runs `body` under fz_try and returns Error::bad_input("<failure>: <MuPDF
// message>") if MuPDF throws, or too_large naming the memory limit if an
// allocation failed. REQUIRES: body only calls MuPDF functions and
// assigns to variables of the caller; it never throws.
// Not inlined so that the caller's variables the body writes live in memory
// of another frame than the one setjmp saves, and keep their values after a
// longjmp.
template <class Body>
[[gnu::noinline]] Status guarded(fz_context* ctx, const char* failure, Body&& body) {
  bool failed = false;
  fz_try(ctx) { body(); }
  fz_catch(ctx) { failed = true; }
  if (!failed) return {};
  if (fz_caught(ctx) == FZ_ERROR_MEMORY) return out_of_memory(ctx);
  return Error::bad_input(std::string(failure) + ": " + fz_caught_message(ctx));
}

// Runs `page` through `device` (then closes it) with a cookie whose abort
// flag an alarm raises at `deadline`, or `abandon` when it is requested:
// MuPDF checks it between operations. timeout or conflict, saying what
// `doing` ("Rendering the page") stopped, when it stopped so (an aborted run
// may end without an error, half done), else the run's own error named
// `failure`.
Status run_page(fz_context* ctx, fz_page* page, fz_device* device, Deadline deadline, const std::stop_token& abandon,
                const char* doing, const char* failure);

// The transform from page space to the pixels of the page rendered at
// `dpi`, and the pixel size of that image: what render() draws, and what
// every box in pixels refers to.
struct PixelSpace {
  fz_matrix ctm;    // page space to pixels, the image's top left at (0, 0)
  fz_irect pixels;  // the image, at the origin
};
PixelSpace pixel_space(fz_rect bounds, double dpi);

// What `page` (whose bounds are `bounds`) draws, in pixels at `dpi`
// (text_layer.cpp). Errors as run_page's.
Result<PageContent> read_page_content(fz_context* ctx, fz_page* page, fz_rect bounds, double dpi, Deadline deadline,
                                      const std::stop_token& abandon);

// Document::searchable_pdf (searchable_pdf.cpp): `dpis` holds the DPI of
// each of the document's `page_count` pages.
Result<std::string> write_searchable_pdf(fz_context* ctx, fz_document* document, int page_count,
                                         const std::vector<PageText>& pages, const std::vector<double>& dpis);

}  // namespace visor::pdf::fitz

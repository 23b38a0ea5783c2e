#pragma once
// Running headers and footers, judged over the pages of one document.
//
// Pages are recognised one at a time, by whichever worker leases them, so a
// page on its own can tell its headers and footers by position only (the
// margin zones of rules::margin_category). Once the pages of a document are
// together (when `visor ocr` has read them all, or when the API assembles a
// job's result), text that repeats at the top or at the bottom of other
// pages is a running header or footer wherever it lies, and this pass says
// so. It needs no page images: it reads the engine's page results.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace visor::ocr {

// Longest text (bytes) taken for a running header or footer; longer text is
// body text even when it repeats.
inline constexpr std::size_t kMaxRunningLength = 120;

// The form of a text compared across pages: lower-cased, whitespace
// collapsed, every run of digits one '#', and a lone roman numeral "#"
// too, so that "Page 3 of 12" and "Page 4 of 12" both read "page # of #".
std::string running_signature(std::string_view text);

// Whether the pass applies to pages of the engine named `engine_name`: the
// embedded engine's and those laid out from their text layer (the same
// rules made both); the remote models judge headers themselves, and their
// output is passed on as they give it.
bool marks_running_margins(std::string_view engine_name);

// Marks the running headers and footers of one document. `pages` holds each
// page's data, in page order: a dotsocr element array or a lightonocr
// Markdown string; other values (a failed page) are skipped and take no
// part.
//
// dotsocr: a Text element in a page's top row (the elements that start
// above the bottom of its top-most element) becomes a Page-header, and one
// in its bottom row a Page-footer, when another page has an element of the
// same running_signature in the same row at about the same height (within
// twice the taller box's height); Page-header and Page-footer elements that
// the page found itself count as such evidence. Marked elements move to
// the start / end of their page, as the engine orders its margins.
//
// lightonocr: a page's first paragraph (plain text: no heading, list,
// table or formula) is removed when another page's first paragraph has the
// same signature, and likewise its last paragraph; the engine already
// leaves the margins it recognised out of the Markdown.
void mark_running_margins(const std::vector<nlohmann::json*>& pages);

}  // namespace visor::ocr

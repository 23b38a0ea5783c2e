#pragma once
// Pages read from their own text layer instead of OCR: when a page's text
// layer can be trusted (judge_text_layer), its characters, images and
// drawings become the same scan the embedded engine makes of an image
// (rules::PageScan, in pixels at the job's DPI), and the same layout rules
// turn it into dotsocr elements and Markdown.

#include <string>

#include <nlohmann/json.hpp>

#include "ocr/layout_rules.hpp"
#include "ocr/model.hpp"
#include "pdf/text_layer.hpp"

namespace visor::ocr {

// Whether a page's text layer says what the page shows. The rule, in order:
// - no more text drawn invisibly (render mode 3) than visibly: invisible
//   text over a page image is another program's OCR of a scan (ocrmypdf's
//   GlyphLessFont), not the document's own text;
// - at least kMinTextGlyphs characters drawn visibly, else the page has no
//   text layer to speak of (a scan, or a page that is one picture);
// - at most 5 % of the characters without a Unicode mapping (U+FFFD, no
//   ToUnicode) or in the Private Use Area (a symbol font's own codes);
// - at least half of them letters or digits: a broken encoding maps glyphs
//   to the wrong characters, mostly punctuation and symbols;
// - no raster image over 10 % of the page with next to no text over it
//   (under 5 % of its area covered by characters): such an image can carry
//   words the text layer lacks (a scanned page with a printed stamp, a
//   scanned figure), so the whole page is OCR'd rather than lose them.
// A page that fails any is OCR'd in ocr_mode auto, and a page error naming
// the reason in ocr_mode text.
struct TextLayerTrust {
  bool usable = false;
  std::string reason;  // why not, in words; empty when usable
};

inline constexpr int kMinTextGlyphs = 20;

TextLayerTrust judge_text_layer(const pdf::PageContent& page);

// The page's text layer as a scan for the layout rules: MuPDF's blocks as
// text blocks whose paragraphs break where the leading or the type size
// changes, lines sharing a baseline joined (a bullet and its text), words
// cut at spaces; ruled grids with text inside as table blocks; raster
// images and clusters of vector drawings as pictures (their words belong
// to them, as in dots.ocr), thin drawings as rules.
rules::PageScan scan_text_layer(const pdf::PageContent& page);

// The page's result in `model`'s format, laid out from its text layer.
nlohmann::json text_layer_result(const pdf::PageContent& page, Model model);

// "text layer (MuPDF 1.21.1)": the engine named in the results of pages
// read from their text layer.
std::string text_layer_engine_name();

}  // namespace visor::ocr

#pragma once
// What a page's own content says, without rendering it: its text layer
// (characters with their boxes, sizes and styles, grouped into lines and
// blocks as MuPDF's structured text does) and where it draws images and
// vector graphics, with a census of how its text is drawn. Coordinates are
// pixels of the page rendered at the DPI asked for, top-left origin: the
// boxes of an OCR'd page at the same DPI.

#include <vector>

namespace visor::pdf {

struct PixelRect {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  float width() const { return x1 - x0; }
  float height() const { return y1 - y0; }
};

struct TextGlyph {
  char32_t codepoint = 0;  // U+FFFD when the font maps the glyph to no character
  // Advance wide; in horizontal text as high as its ink (what OCR would
  // box), else the font's ascender to descender.
  PixelRect box;
};

// Glyphs sharing a baseline, left to right (spaces included, as MuPDF
// inserts them between words).
struct TextLine {
  PixelRect box;  // its glyphs' boxes together
  float cell_height = 0;  // pixels, its fonts' ascender to descender: steadier than the ink's height
  float font_size = 0;  // pixels, the most common size of its glyphs
  bool bold = false;    // most of its glyphs are set in a bold face
  bool italic = false;
  bool horizontal = true;  // false for vertical or rotated text
  std::vector<TextGlyph> glyphs;
};

struct TextBlock {
  PixelRect box;
  std::vector<TextLine> lines;  // top to bottom
};

// How the page draws its text, counted in glyphs (spaces aside).
struct TextCensus {
  int visible = 0;    // filled or stroked text
  int invisible = 0;  // text drawn invisibly (render mode 3): typically another program's OCR of a scan
  int unmapped = 0;   // glyphs with no Unicode (no ToUnicode, U+FFFD)
  int private_use = 0;  // glyphs mapped into the Private Use Area: a font's own symbols, not text
};

struct PageContent {
  int width = 0;  // pixels of the page at the DPI asked for
  int height = 0;
  std::vector<TextBlock> blocks;    // in the order the page draws them
  std::vector<PixelRect> images;    // where raster images are drawn
  std::vector<PixelRect> drawings;  // the boxes of filled or stroked vector paths
  TextCensus census;
};

}  // namespace visor::pdf

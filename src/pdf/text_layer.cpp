// Reading a page's content without rendering it: MuPDF's structured text
// for the characters, and a census device of our own for how text is drawn
// and where images and vector graphics lie.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <unordered_map>

#include "pdf/fitz.hpp"

namespace visor::pdf::fitz {
namespace {

// Past this many, further drawings of a page (a vector map, a hatched
// chart) add nothing to what the boxes already say.
constexpr std::size_t kMaxDrawings = 20000;
constexpr std::size_t kMaxImages = 2000;

PixelRect pixel_rect(fz_rect rect, fz_matrix ctm) {
  const fz_rect r = fz_transform_rect(rect, ctm);
  return {r.x0, r.y0, r.x1, r.y1};
}

bool is_private_use(int c) { return (c >= 0xE000 && c <= 0xF8FF) || c >= 0xF0000; }
bool is_unmapped(int c) { return c < 0x20 || c == 0xFFFD || (c >= 0xD800 && c <= 0xDFFF); }

// Where each drawn glyph's ink lies, in page space, by the pen position it
// is drawn at (to a hundredth of a point). The structured text keeps no
// glyph ids, so this is how each of its characters gets the outline of the
// glyph the page really draws: looking a character up in the font again
// finds the wrong glyph, or none, in fonts whose character map is not
// Unicode (the Type 1 stand-ins for the base 14 fonts, subsets).
using GlyphInks = std::unordered_map<std::uint64_t, fz_rect>;

// Past this many glyphs a page's further characters keep their cells.
constexpr std::size_t kMaxGlyphInks = 200000;

std::uint64_t pen_key(fz_point pen) {
  const auto hundredths = [](float v) {
    return static_cast<std::uint32_t>(static_cast<std::int32_t>(std::lround(v * 100.0f)));
  };
  return (std::uint64_t{hundredths(pen.x)} << 32) | hundredths(pen.y);
}

// The census device: counts the glyphs of text by how they are drawn, notes
// their ink and where images and paths lie. Its callbacks run inside
// fz_run_page: MuPDF calls that may throw are guarded, and what the
// standard library throws is caught.
struct CensusDevice {
  fz_device super;
  fz_matrix to_pixels;
  PageContent* content;
  GlyphInks* inks;
  bool overflowed;
};

CensusDevice& census_of(fz_device* device) { return *reinterpret_cast<CensusDevice*>(device); }

void note_ink(fz_context* ctx, CensusDevice& census, const fz_text_span* span, const fz_text_item& item,
              fz_matrix ctm) {
  if (item.gid < 0 || census.inks->size() >= kMaxGlyphInks) return;
  fz_matrix trm = span->trm;
  trm.e = item.x;
  trm.f = item.y;
  const fz_matrix placed = fz_concat(trm, ctm);
  fz_rect ink = fz_empty_rect;
  try {
    if (!guarded(ctx, "", [&] { ink = fz_bound_glyph(ctx, span->font, item.gid, placed); })) return;
    if (fz_is_empty_rect(ink)) return;
    fz_rect& known = (*census.inks)[pen_key(fz_make_point(placed.e, placed.f))];
    known = fz_is_empty_rect(known) || fz_is_infinite_rect(known) ? ink : fz_union_rect(known, ink);
  } catch (const std::bad_alloc&) {
    census.overflowed = true;
  }
}

void count_glyphs(fz_context* ctx, fz_device* device, const fz_text* text, fz_matrix ctm, bool visible) {
  CensusDevice& device_census = census_of(device);
  TextCensus& census = device_census.content->census;
  for (const fz_text_span* span = text->head; span != nullptr; span = span->next) {
    for (int i = 0; i < span->len; ++i) {
      const int c = span->items[i].ucs;
      if (c == ' ') continue;
      ++(visible ? census.visible : census.invisible);
      if (is_unmapped(c)) ++census.unmapped;
      if (is_private_use(c)) ++census.private_use;
      note_ink(ctx, device_census, span, span->items[i], ctm);
    }
  }
}

void note(fz_device* device, std::vector<PixelRect>& boxes, std::size_t most, fz_rect rect) {
  CensusDevice& census = census_of(device);
  if (boxes.size() >= most) return;
  try {
    boxes.push_back(pixel_rect(rect, census.to_pixels));
  } catch (const std::bad_alloc&) {
    census.overflowed = true;
  }
}

void fill_text(fz_context* ctx, fz_device* device, const fz_text* text, fz_matrix ctm, fz_colorspace*, const float*,
               float, fz_color_params) {
  count_glyphs(ctx, device, text, ctm, true);
}

void stroke_text(fz_context* ctx, fz_device* device, const fz_text* text, const fz_stroke_state*, fz_matrix ctm,
                 fz_colorspace*, const float*, float, fz_color_params) {
  count_glyphs(ctx, device, text, ctm, true);
}

void ignore_text(fz_context* ctx, fz_device* device, const fz_text* text, fz_matrix ctm) {
  count_glyphs(ctx, device, text, ctm, false);
}

void fill_path(fz_context* ctx, fz_device* device, const fz_path* path, int, fz_matrix ctm, fz_colorspace*,
               const float*, float, fz_color_params) {
  note(device, census_of(device).content->drawings, kMaxDrawings, fz_bound_path(ctx, path, nullptr, ctm));
}

// MuPDF bounds a stroke by its miter limit (a thin rule gets a box ten line
// widths tall): the path's own box grown by half the line width is where
// the ink is for the rules and frames that matter here.
void stroke_path(fz_context* ctx, fz_device* device, const fz_path* path, const fz_stroke_state* stroke, fz_matrix ctm,
                 fz_colorspace*, const float*, float, fz_color_params) {
  const float half = stroke->linewidth * fz_matrix_expansion(ctm) / 2;
  const fz_rect box = fz_bound_path(ctx, path, nullptr, ctm);
  note(device, census_of(device).content->drawings, kMaxDrawings,
       fz_rect{box.x0 - half, box.y0 - half, box.x1 + half, box.y1 + half});
}

void fill_shade(fz_context* ctx, fz_device* device, fz_shade* shade, fz_matrix ctm, float, fz_color_params) {
  note(device, census_of(device).content->drawings, kMaxDrawings, fz_bound_shade(ctx, shade, ctm));
}

void fill_image(fz_context*, fz_device* device, fz_image*, fz_matrix ctm, float, fz_color_params) {
  note(device, census_of(device).content->images, kMaxImages, fz_transform_rect(fz_unit_rect, ctm));
}

void fill_image_mask(fz_context*, fz_device* device, fz_image*, fz_matrix ctm, fz_colorspace*, const float*, float,
                     fz_color_params) {
  note(device, census_of(device).content->images, kMaxImages, fz_transform_rect(fz_unit_rect, ctm));
}

Status take_census(fz_context* ctx, fz_page* page, const PixelSpace& space, PageContent& content, GlyphInks& inks,
                   Deadline deadline, const std::stop_token& abandon) {
  CensusDevice* census = nullptr;
  Status s = guarded(ctx, "The page cannot be read", [&] {
    census = fz_new_derived_device(ctx, CensusDevice);
  });
  const OwnedDevice owner = own<OwnedDevice>(ctx, reinterpret_cast<fz_device*>(census));
  if (!s) return s;
  census->to_pixels = space.ctm;
  census->content = &content;
  census->inks = &inks;
  census->overflowed = false;
  census->super.fill_text = fill_text;
  census->super.stroke_text = stroke_text;
  census->super.ignore_text = ignore_text;
  census->super.fill_path = fill_path;
  census->super.stroke_path = stroke_path;
  census->super.fill_shade = fill_shade;
  census->super.fill_image = fill_image;
  census->super.fill_image_mask = fill_image_mask;
  s = run_page(ctx, page, &census->super, deadline, abandon, "Reading the page", "The page cannot be read");
  if (s && census->overflowed) return Error::too_large("Out of memory (noting the page's drawings)");
  return s;
}

// The most common value, by count; `fallback` when there is none.
template <class T>
T most_common(const std::map<T, int>& counts, T fallback) {
  const auto it = std::max_element(counts.begin(), counts.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; });
  return it == counts.end() ? fallback : it->first;
}

// A glyph of horizontal text, as tall as its ink: MuPDF's quad spans the
// font's whole ascender-to-descender height, a third taller than the
// letters, while OCR boxes the ink. Wide as its advance, so words stay
// apart as the quads set them. The quad when the glyph's ink is not known
// (an outline that cannot be read, a character MuPDF made up, as the parts
// of a ligature) or lies outside it.
fz_rect glyph_rect(const fz_stext_char* ch, const GlyphInks& inks) {
  const fz_rect cell = fz_rect_from_quad(ch->quad);
  if (ch->c <= ' ') return cell;
  const auto found = inks.find(pen_key(ch->origin));
  if (found == inks.end()) return cell;
  const float top = std::max(found->second.y0, cell.y0);
  const float bottom = std::min(found->second.y1, cell.y1);
  if (bottom <= top) return cell;
  return {cell.x0, top, cell.x1, bottom};
}

PixelRect glyphs_box(const std::vector<TextGlyph>& glyphs, PixelRect fallback) {
  bool any = false;
  PixelRect box = fallback;
  for (const TextGlyph& glyph : glyphs) {
    if (glyph.codepoint == ' ') continue;
    box = any ? PixelRect{std::min(box.x0, glyph.box.x0), std::min(box.y0, glyph.box.y0),
                          std::max(box.x1, glyph.box.x1), std::max(box.y1, glyph.box.y1)}
              : glyph.box;
    any = true;
  }
  return box;
}

TextLine read_line(fz_context* ctx, const fz_stext_line* line, const PixelSpace& space, float scale,
                   const GlyphInks& inks) {
  TextLine out;
  out.horizontal = std::fabs(line->dir.y) < 0.05f && line->dir.x > 0;
  std::map<float, int> sizes;
  int bold = 0;
  int italic = 0;
  int glyphs = 0;
  for (const fz_stext_char* ch = line->first_char; ch != nullptr; ch = ch->next) {
    const fz_rect rect = out.horizontal ? glyph_rect(ch, inks) : fz_rect_from_quad(ch->quad);
    out.glyphs.push_back({static_cast<char32_t>(ch->c < 0 ? 0xFFFD : ch->c), pixel_rect(rect, space.ctm)});
    if (ch->c == ' ') continue;
    ++glyphs;
    ++sizes[std::round(ch->size * scale * 10.0f) / 10.0f];
    bold += fz_font_is_bold(ctx, ch->font) != 0 ? 1 : 0;
    italic += fz_font_is_italic(ctx, ch->font) != 0 ? 1 : 0;
  }
  const PixelRect cell = pixel_rect(line->bbox, space.ctm);
  out.box = out.horizontal ? glyphs_box(out.glyphs, cell) : cell;
  out.cell_height = cell.height();
  out.font_size = most_common(sizes, 0.0f);
  out.bold = glyphs > 0 && bold * 2 > glyphs;
  out.italic = glyphs > 0 && italic * 2 > glyphs;
  return out;
}

Status read_text(fz_context* ctx, fz_page* page, fz_rect bounds, const PixelSpace& space, double dpi,
                 const GlyphInks& inks, PageContent& content, Deadline deadline, const std::stop_token& abandon) {
  fz_stext_page* text = nullptr;
  fz_device* device = nullptr;
  Status s = guarded(ctx, "The page's text cannot be read", [&] {
    text = fz_new_stext_page(ctx, bounds);
    fz_stext_options options{};
    device = fz_new_stext_device(ctx, text, &options);
  });
  const OwnedTextPage text_owner = own<OwnedTextPage>(ctx, text);
  const OwnedDevice device_owner = own<OwnedDevice>(ctx, device);
  if (!s) return s;
  s = run_page(ctx, page, device, deadline, abandon, "Reading the page's text", "The page's text cannot be read");
  if (!s) return s;
  const auto scale = static_cast<float>(dpi / 72.0);
  try {
    for (const fz_stext_block* block = text->first_block; block != nullptr; block = block->next) {
      if (block->type != FZ_STEXT_BLOCK_TEXT) continue;
      TextBlock out;
      out.box = pixel_rect(block->bbox, space.ctm);
      for (const fz_stext_line* line = block->u.t.first_line; line != nullptr; line = line->next) {
        out.lines.push_back(read_line(ctx, line, space, scale, inks));
      }
      content.blocks.push_back(std::move(out));
    }
  } catch (const std::bad_alloc&) {
    return Error::too_large("Out of memory (reading the page's text)" + raised_by(limits_of(ctx).memory_setting));
  }
  return {};
}

}  // namespace

Result<PageContent> read_page_content(fz_context* ctx, fz_page* page, fz_rect bounds, double dpi, Deadline deadline,
                                      const std::stop_token& abandon) {
  const PixelSpace space = pixel_space(bounds, dpi);
  PageContent content;
  content.width = space.pixels.x1;
  content.height = space.pixels.y1;
  GlyphInks inks;
  if (Status s = take_census(ctx, page, space, content, inks, deadline, abandon); !s) return s.take_error();
  if (Status s = read_text(ctx, page, bounds, space, dpi, inks, content, deadline, abandon); !s) {
    return s.take_error();
  }
  return content;
}

}  // namespace visor::pdf::fitz

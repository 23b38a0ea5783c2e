// Searchable PDFs: the document's own pages with the recognised text laid
// over them as invisible text (rendering mode 3), which viewers let people
// find, select and copy, and text extractors read, without changing what
// the page shows.
//
// The text is set in Type 3 fonts written here: every glyph is empty and
// half an em wide, and a ToUnicode map gives each code its character, so
// no font is embedded or needed on the reader's machine, and any script
// can be carried. A simple font has 255 codes; a page whose text has more
// distinct characters gets more fonts. Each line is stretched (Tz) to its
// box's width and sized to its box's height, the glyph cell spanning the
// box (ascent 0.8 em, descent 0.2 em), so that extractors report each word
// inside the box the line was given.
//
// A PDF keeps its objects and gets, on each page with text, a font
// resource and its content wrapped as "q <page> Q <text>", so that nothing
// the page leaves in its graphics state reaches the text. An image becomes
// a new PDF whose pages draw it at its own size.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "pdf/fitz.hpp"
#include "util/utf8.hpp"

namespace visor::pdf::fitz {
namespace {

using OwnedObject = Owned<pdf_obj, pdf_drop_obj>;
using OwnedPdf = Owned<pdf_document, pdf_drop_document>;
using OwnedOutput = Owned<fz_output, fz_drop_output>;

constexpr char kFailure[] = "The searchable PDF cannot be written";
constexpr int kCodesPerFont = 255;  // codes 1..255; 0 is left unused
constexpr double kAscent = 0.8;     // of the glyph cell, in ems
constexpr double kAdvance = 0.5;    // of every glyph, in ems

std::string number(double value) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed, 3);
  if (ec != std::errc()) return "0";
  std::string text(buffer, end);
  while (text.ends_with('0')) text.pop_back();
  if (text.ends_with('.')) text.pop_back();
  return text == "-0" ? "0" : text;
}

std::string matrix_operands(const fz_matrix& m) {
  return number(m.a) + ' ' + number(m.b) + ' ' + number(m.c) + ' ' + number(m.d) + ' ' + number(m.e) + ' ' +
         number(m.f);
}

std::string hex(unsigned value, int digits) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, value >>= 4) out[static_cast<std::size_t>(i)] = kDigits[value & 0xF];
  return out;
}

// UTF-16BE hex of one character, as ToUnicode maps want it.
std::string utf16_hex(char32_t c) {
  if (c < 0x10000) return hex(c, 4);
  const char32_t v = c - 0x10000;
  return hex(0xD800 + (v >> 10), 4) + hex(0xDC00 + (v & 0x3FF), 4);
}

// A laid-out line: the box in pixels and the characters it carries.
struct PlacedLine {
  double x1, y1, x2, y2;
  std::vector<char32_t> characters;
};

// The lines of a page in pixels: its placed lines, then the unplaced ones
// set down the page within a 5% margin.
std::vector<PlacedLine> placed_lines(const PageText& page, const fz_irect& pixels) {
  std::vector<PlacedLine> out;
  for (const RecognisedLine& line : page.lines) {
    out.push_back({static_cast<double>(line.x1), static_cast<double>(line.y1), static_cast<double>(line.x2),
                   static_cast<double>(line.y2), util::decode_utf8(line.text)});
  }
  if (page.unplaced_lines.empty()) return out;
  const double width = pixels.x1 - pixels.x0;
  const double height = pixels.y1 - pixels.y0;
  const double pitch = std::min(height * 0.9 / static_cast<double>(page.unplaced_lines.size()), height / 40);
  std::size_t longest = 1;
  for (const auto& text : page.unplaced_lines) longest = std::max(longest, util::decode_utf8(text).size());
  for (std::size_t i = 0; i < page.unplaced_lines.size(); ++i) {
    std::vector<char32_t> characters = util::decode_utf8(page.unplaced_lines[i]);
    const double share = static_cast<double>(characters.size()) / static_cast<double>(longest);
    const double top = height * 0.05 + pitch * static_cast<double>(i);
    out.push_back({width * 0.05, top, width * (0.05 + 0.9 * share), top + pitch, std::move(characters)});
  }
  return out;
}

// Which font and code each character of a page is drawn with.
class PageGlyphs {
 public:
  explicit PageGlyphs(const std::vector<PlacedLine>& lines) {
    for (const PlacedLine& line : lines) {
      for (char32_t c : line.characters) {
        if (c == '\n' || c == '\r' || codes_.contains(c)) continue;
        const int index = static_cast<int>(codes_.size());
        if (index % kCodesPerFont == 0) fonts_.emplace_back();
        fonts_.back().push_back(c);
        codes_.emplace(c, Code{index / kCodesPerFont, index % kCodesPerFont + 1});
      }
    }
  }

  struct Code {
    int font;
    int code;
  };
  Code code_of(char32_t c) const { return codes_.at(c); }
  // The characters of each font, in code order from 1.
  const std::vector<std::vector<char32_t>>& fonts() const { return fonts_; }

 private:
  std::map<char32_t, Code> codes_;
  std::vector<std::vector<char32_t>> fonts_;
};

std::string font_name(int font) { return "VisorText" + std::to_string(font); }

// One line's operators: size and stretch, position, then its characters
// in runs of one font.
std::string line_operations(const PlacedLine& line, const PageGlyphs& glyphs) {
  const double size = line.y2 - line.y1;
  const double natural = kAdvance * size * static_cast<double>(line.characters.size());
  const double stretch = 100 * (line.x2 - line.x1) / natural;
  // Pixels grow downwards; the flipped text matrix keeps glyphs upright.
  std::string ops = number(stretch) + " Tz 1 0 0 -1 " + number(line.x1) + ' ' + number(line.y1 + kAscent * size) +
                    " Tm\n";
  int font = -1;
  std::string run;
  const auto end_run = [&] {
    if (!run.empty()) ops += "<" + run + "> Tj\n";
    run.clear();
  };
  for (char32_t c : line.characters) {
    if (c == '\n' || c == '\r') continue;
    const PageGlyphs::Code code = glyphs.code_of(c);
    if (code.font != font) {
      end_run();
      font = code.font;
      ops += "/" + font_name(font) + ' ' + number(size) + " Tf\n";
    }
    run += hex(static_cast<unsigned>(code.code), 2);
  }
  end_run();
  return ops;
}

// The text layer's content: in pixels of the page, invisible.
std::string text_layer_operations(const std::vector<PlacedLine>& lines, const PageGlyphs& glyphs,
                                  const fz_matrix& pixels_to_user) {
  std::string ops = "q\n" + matrix_operands(pixels_to_user) + " cm\nBT\n3 Tr\n";
  for (const PlacedLine& line : lines) {
    if (!line.characters.empty() && line.x2 > line.x1 && line.y2 > line.y1) ops += line_operations(line, glyphs);
  }
  return ops + "ET\nQ\n";
}

std::string to_unicode_cmap(const std::vector<char32_t>& characters) {
  std::string cmap =
      "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
      "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
      "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
      "1 begincodespacerange\n<00> <FF>\nendcodespacerange\n";
  for (std::size_t first = 0; first < characters.size(); first += 100) {
    const std::size_t count = std::min<std::size_t>(100, characters.size() - first);
    cmap += std::to_string(count) + " beginbfchar\n";
    for (std::size_t i = first; i < first + count; ++i) {
      cmap += "<" + hex(static_cast<unsigned>(i + 1), 2) + "> <" + utf16_hex(characters[i]) + ">\n";
    }
    cmap += "endbfchar\n";
  }
  return cmap + "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n";
}

std::string type3_font(std::size_t glyphs, int glyph_procedure, int to_unicode) {
  std::string procedures;
  std::string names;
  std::string widths;
  for (std::size_t i = 1; i <= glyphs; ++i) {
    procedures += "/g" + std::to_string(i) + ' ' + std::to_string(glyph_procedure) + " 0 R ";
    names += "/g" + std::to_string(i) + ' ';
    widths += "500 ";
  }
  return "<< /Type /Font /Subtype /Type3 /FontBBox [0 -200 500 800] /FontMatrix [0.001 0 0 0.001 0 0] "
         "/CharProcs << " + procedures + ">> /Encoding << /Type /Encoding /Differences [1 " + names +
         "] >> /FirstChar 1 /LastChar " + std::to_string(glyphs) + " /Widths [" + widths + "] /ToUnicode " +
         std::to_string(to_unicode) + " 0 R /Resources << >> >>";
}

// Builds the output document; each method is one guarded MuPDF sequence.
class Writer {
 public:
  Writer(fz_context* ctx, pdf_document* pdf) : ctx_(ctx), pdf_(pdf) {}

  // A new stream object holding `bytes`; its object number.
  Result<int> add_stream(const std::string& bytes) {
    pdf_obj* ref = nullptr;
    int num = 0;
    const Status s = guarded(ctx_, kFailure, [&] {
      fz_buffer* buffer = fz_new_buffer_from_copied_data(ctx_, reinterpret_cast<const unsigned char*>(bytes.data()),
                                                         bytes.size());
      fz_try(ctx_) { ref = pdf_add_stream(ctx_, pdf_, buffer, nullptr, 0); }
      fz_always(ctx_) { fz_drop_buffer(ctx_, buffer); }
      fz_catch(ctx_) { fz_rethrow(ctx_); }
      num = pdf_to_num(ctx_, ref);
    });
    const OwnedObject owner = own<OwnedObject>(ctx_, ref);
    if (!s) return s.error();
    return num;
  }

  // A new object parsed from PDF syntax; a reference to it.
  Result<OwnedObject> add_object(const std::string& syntax) {
    pdf_obj* object = nullptr;
    pdf_obj* ref = nullptr;
    pdf_lexbuf lexbuf;
    pdf_lexbuf_init(ctx_, &lexbuf, PDF_LEXBUF_SMALL);
    const Status s = guarded(ctx_, kFailure, [&] {
      fz_stream* stream =
          fz_open_memory(ctx_, reinterpret_cast<const unsigned char*>(syntax.data()), syntax.size());
      fz_try(ctx_) { object = pdf_parse_stm_obj(ctx_, pdf_, stream, &lexbuf); }
      fz_always(ctx_) { fz_drop_stream(ctx_, stream); }
      fz_catch(ctx_) { fz_rethrow(ctx_); }
      ref = pdf_add_object(ctx_, pdf_, object);
    });
    pdf_lexbuf_fin(ctx_, &lexbuf);
    const OwnedObject object_owner = own<OwnedObject>(ctx_, object);
    OwnedObject ref_owner = own<OwnedObject>(ctx_, ref);
    if (!s) return s.error();
    return ref_owner;
  }

  // The page's fonts as new objects, named font_name(k) in `resources`
  // (copied first, so that a dictionary other pages share is not changed).
  // The new resource dictionary.
  Result<OwnedObject> with_fonts(pdf_obj* resources, const PageGlyphs& glyphs) {
    std::vector<OwnedObject> fonts;
    for (const auto& characters : glyphs.fonts()) {
      auto procedure = glyph_procedure();
      if (!procedure) return procedure.take_error();
      auto to_unicode = add_stream(to_unicode_cmap(characters));
      if (!to_unicode) return to_unicode.take_error();
      auto font = add_object(type3_font(characters.size(), *procedure, *to_unicode));
      if (!font) return font.take_error();
      fonts.push_back(std::move(*font));
    }
    std::vector<std::string> names;
    for (std::size_t k = 0; k < fonts.size(); ++k) names.push_back(font_name(static_cast<int>(k)));
    pdf_obj* copy = nullptr;
    const Status s = guarded(ctx_, kFailure, [&] {
      copy = resources != nullptr ? pdf_copy_dict(ctx_, resources) : pdf_new_dict(ctx_, pdf_, 1);
      pdf_obj* old_fonts = pdf_dict_get(ctx_, copy, PDF_NAME(Font));
      pdf_obj* font_dict = pdf_is_dict(ctx_, old_fonts) ? pdf_copy_dict(ctx_, old_fonts) : pdf_new_dict(ctx_, pdf_, 4);
      pdf_dict_put_drop(ctx_, copy, PDF_NAME(Font), font_dict);
      for (std::size_t k = 0; k < fonts.size(); ++k) pdf_dict_puts(ctx_, font_dict, names[k].c_str(), fonts[k].get());
    });
    OwnedObject owner = own<OwnedObject>(ctx_, copy);
    if (!s) return s.error();
    return owner;
  }

  // Lays `text` over PDF page `page_index`, whose pixels at `dpi` the
  // lines are in.
  Status overlay_page(fz_document* document, int page_index, double dpi, const PageText& text) {
    fz_page* page = nullptr;
    fz_rect bounds{};
    fz_rect mediabox{};
    fz_matrix page_ctm = fz_identity;
    pdf_obj* page_object = nullptr;
    pdf_obj* resources = nullptr;
    Status s = guarded(ctx_, kFailure, [&] {
      page = fz_load_page(ctx_, document, page_index);
      bounds = fz_bound_page(ctx_, page);
      pdf_page_transform(ctx_, pdf_page_from_fz_page(ctx_, page), &mediabox, &page_ctm);
      page_object = pdf_lookup_page_obj(ctx_, pdf_, page_index);
      resources = pdf_dict_get_inheritable(ctx_, page_object, PDF_NAME(Resources));
    });
    const OwnedPage page_owner = own<OwnedPage>(ctx_, page);
    if (!s) return s;
    const PixelSpace space = pixel_space(bounds, dpi);
    const std::vector<PlacedLine> lines = placed_lines(text, space.pixels);
    const PageGlyphs glyphs(lines);
    if (glyphs.fonts().empty()) return {};
    const fz_matrix pixels_to_user = fz_concat(fz_invert_matrix(space.ctm), fz_invert_matrix(page_ctm));
    auto new_resources = with_fonts(resources, glyphs);
    if (!new_resources) return new_resources.take_error();
    auto opening = add_stream("q\n");
    if (!opening) return opening.take_error();
    auto closing = add_stream("\nQ\n" + text_layer_operations(lines, glyphs, pixels_to_user));
    if (!closing) return closing.take_error();
    return guarded(ctx_, kFailure, [&] {
      pdf_dict_put(ctx_, page_object, PDF_NAME(Resources), new_resources->get());
      pdf_obj* old = pdf_dict_get(ctx_, page_object, PDF_NAME(Contents));
      pdf_obj* contents = pdf_new_array(ctx_, pdf_, 4);
      fz_try(ctx_) {
        pdf_array_push_drop(ctx_, contents, pdf_new_indirect(ctx_, pdf_, *opening, 0));
        if (pdf_is_array(ctx_, old)) {
          for (int i = 0; i < pdf_array_len(ctx_, old); ++i) pdf_array_push(ctx_, contents, pdf_array_get(ctx_, old, i));
        } else if (old != nullptr) {
          pdf_array_push(ctx_, contents, old);
        }
        pdf_array_push_drop(ctx_, contents, pdf_new_indirect(ctx_, pdf_, *closing, 0));
        pdf_dict_put(ctx_, page_object, PDF_NAME(Contents), contents);
      }
      fz_always(ctx_) { pdf_drop_obj(ctx_, contents); }
      fz_catch(ctx_) { fz_rethrow(ctx_); }
    });
  }

  // Appends page `page_index` of `document` (an image) as a new page that
  // draws it at its own size, with `text` (in its pixels at `dpi`) over it;
  // `text` null for none.
  Status append_page(fz_document* document, int page_index, double dpi, const PageText* text) {
    fz_page* page = nullptr;
    fz_device* device = nullptr;
    fz_buffer* drawn = nullptr;
    pdf_obj* resources = nullptr;
    fz_rect bounds{};
    Status s = guarded(ctx_, kFailure, [&] {
      page = fz_load_page(ctx_, document, page_index);
      bounds = fz_bound_page(ctx_, page);
      device = pdf_page_write(ctx_, pdf_, bounds, &resources, &drawn);
      fz_run_page(ctx_, page, device, fz_identity, nullptr);
      fz_close_device(ctx_, device);
    });
    const OwnedPage page_owner = own<OwnedPage>(ctx_, page);
    const OwnedDevice device_owner = own<OwnedDevice>(ctx_, device);
    const OwnedBuffer drawn_owner = own<OwnedBuffer>(ctx_, drawn);
    OwnedObject resources_owner = own<OwnedObject>(ctx_, resources);
    if (!s) return s;

    std::string content = "q\n" + buffer_text(drawn) + "\nQ\n";
    if (text != nullptr) {
      const PixelSpace space = pixel_space(bounds, dpi);
      const std::vector<PlacedLine> lines = placed_lines(*text, space.pixels);
      const PageGlyphs glyphs(lines);
      if (!glyphs.fonts().empty()) {
        // pdf_page_write draws page space into PDF space flipped.
        const fz_matrix page_to_user = fz_make_matrix(1, 0, 0, -1, -bounds.x0, bounds.y1);
        content += text_layer_operations(lines, glyphs, fz_concat(fz_invert_matrix(space.ctm), page_to_user));
        auto with = with_fonts(resources, glyphs);
        if (!with) return with.take_error();
        resources_owner = std::move(*with);
      }
    }
    pdf_obj* new_page = nullptr;
    s = guarded(ctx_, kFailure, [&] {
      fz_buffer* buffer = fz_new_buffer_from_copied_data(
          ctx_, reinterpret_cast<const unsigned char*>(content.data()), content.size());
      fz_try(ctx_) {
        new_page = pdf_add_page(ctx_, pdf_, bounds, 0, resources_owner.get(), buffer);
        pdf_insert_page(ctx_, pdf_, -1, new_page);
      }
      fz_always(ctx_) { fz_drop_buffer(ctx_, buffer); }
      fz_catch(ctx_) { fz_rethrow(ctx_); }
    });
    const OwnedObject new_page_owner = own<OwnedObject>(ctx_, new_page);
    return s;
  }

  Result<std::string> bytes() {
    fz_buffer* buffer = nullptr;
    fz_output* output = nullptr;
    pdf_write_options options = pdf_default_write_options;
    options.do_compress = 1;
    const Status s = guarded(ctx_, kFailure, [&] {
      buffer = fz_new_buffer(ctx_, 1 << 16);
      output = fz_new_output_with_buffer(ctx_, buffer);
      pdf_write_document(ctx_, pdf_, output, &options);
      fz_close_output(ctx_, output);
    });
    const OwnedOutput output_owner = own<OwnedOutput>(ctx_, output);
    const OwnedBuffer buffer_owner = own<OwnedBuffer>(ctx_, buffer);
    if (!s) return s.error();
    return buffer_text(buffer);
  }

 private:
  // The one empty glyph every font of the document draws.
  Result<int> glyph_procedure() {
    if (glyph_procedure_ == 0) {
      auto added = add_stream(number(kAdvance * 1000) + " 0 d0\n");
      if (!added) return added.take_error();
      glyph_procedure_ = *added;
    }
    return glyph_procedure_;
  }

  std::string buffer_text(fz_buffer* buffer) {
    unsigned char* data = nullptr;
    const std::size_t size = fz_buffer_storage(ctx_, buffer, &data);
    return std::string(reinterpret_cast<const char*>(data), size);
  }

  fz_context* ctx_;
  pdf_document* pdf_;
  int glyph_procedure_ = 0;
};

const PageText* text_for(const std::vector<PageText>& pages, int page_index) {
  for (const PageText& page : pages) {
    if (page.page_index == page_index) return &page;
  }
  return nullptr;
}

}  // namespace

Result<std::string> write_searchable_pdf(fz_context* ctx, fz_document* document, int page_count,
                                         const std::vector<PageText>& pages, const std::vector<double>& dpis) {
  pdf_document* source = nullptr;
  if (Status s = guarded(ctx, kFailure, [&] { source = pdf_document_from_fz_document(ctx, document); }); !s) {
    return s.error();
  }
  if (source != nullptr) {
    Writer writer(ctx, source);
    for (const PageText& page : pages) {
      if (page.page_index < 0 || page.page_index >= page_count) continue;
      if (Status s = writer.overlay_page(document, page.page_index, dpis[page.page_index], page); !s) return s.error();
    }
    return writer.bytes();
  }
  pdf_document* created = nullptr;
  if (Status s = guarded(ctx, kFailure, [&] { created = pdf_create_document(ctx); }); !s) return s.error();
  const OwnedPdf owner = own<OwnedPdf>(ctx, created);
  Writer writer(ctx, created);
  for (int i = 0; i < page_count; ++i) {
    if (Status s = writer.append_page(document, i, dpis[i], text_for(pages, i)); !s) return s.error();
  }
  return writer.bytes();
}

}  // namespace visor::pdf::fitz

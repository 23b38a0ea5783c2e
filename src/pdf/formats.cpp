#include "pdf/formats.hpp"

#include <array>

namespace visor::pdf {
namespace {

// How far into the file the "%PDF-" header may start (as Acrobat allows).
constexpr std::size_t kPdfHeaderSearchBytes = 1024;

constexpr FormatInfo kPdf{Format::pdf, "PDF", "application/pdf", false};
constexpr std::array kImages{
    FormatInfo{Format::png, "PNG", "image/png", true},
    FormatInfo{Format::jpeg, "JPEG", "image/jpeg", true},
    FormatInfo{Format::tiff, "TIFF", "image/tiff", true},
    FormatInfo{Format::gif, "GIF", "image/gif", true},
    FormatInfo{Format::bmp, "BMP", "image/bmp", true},
    FormatInfo{Format::jpeg2000, "JPEG 2000", "image/jpx", true},
    FormatInfo{Format::pnm, "PNM", "image/x-portable-anymap", true},
};

bool starts_with(std::string_view bytes, std::string_view magic) { return bytes.substr(0, magic.size()) == magic; }

unsigned little_endian_u32(std::string_view bytes, std::size_t at) {
  unsigned value = 0;
  for (std::size_t i = 0; i < 4; ++i) value |= static_cast<unsigned>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  return value;
}

// "BM" alone is two letters many text files start with: the size of the
// bitmap header after it must also be one of the header sizes there are.
bool is_bmp(std::string_view bytes) {
  if (!starts_with(bytes, "BM") || bytes.size() < 18) return false;
  const unsigned header = little_endian_u32(bytes, 14);
  return header == 12 || header == 40 || header == 52 || header == 56 || header == 64 || header == 108 ||
         header == 124;
}

// "P1" to "P6" and then white space (PBM, PGM, PPM, plain or raw).
bool is_pnm(std::string_view bytes) {
  if (bytes.size() < 3 || bytes[0] != 'P' || bytes[1] < '1' || bytes[1] > '6') return false;
  const char next = bytes[2];
  return next == ' ' || next == '\n' || next == '\r' || next == '\t';
}

bool is_format(Format format, std::string_view bytes) {
  using namespace std::string_view_literals;
  switch (format) {
    case Format::pdf: return bytes.substr(0, kPdfHeaderSearchBytes).find("%PDF-") != std::string_view::npos;
    case Format::png: return starts_with(bytes, "\x89PNG\r\n\x1a\n"sv);
    case Format::jpeg: return starts_with(bytes, "\xff\xd8\xff"sv);
    case Format::tiff: return starts_with(bytes, "II*\0"sv) || starts_with(bytes, "MM\0*"sv);
    case Format::gif: return starts_with(bytes, "GIF87a"sv) || starts_with(bytes, "GIF89a"sv);
    case Format::bmp: return is_bmp(bytes);
    case Format::jpeg2000:
      return starts_with(bytes, "\0\0\0\x0cjP  \r\n\x87\n"sv) || starts_with(bytes, "\xff\x4f\xff\x51"sv);
    case Format::pnm: return is_pnm(bytes);
  }
  return false;
}

}  // namespace

std::optional<FormatInfo> sniff_format(std::string_view bytes) {
  // Images first: their signatures sit at byte 0, while a PDF header may
  // come later in the file (and so inside an image's data).
  for (const FormatInfo& image : kImages) {
    if (is_format(image.format, bytes)) return image;
  }
  if (is_format(Format::pdf, bytes)) return kPdf;
  return std::nullopt;
}

std::string_view supported_formats() { return "PDF, PNG, JPEG, TIFF (every page), GIF, BMP, JPEG 2000, PNM"; }

}  // namespace visor::pdf

#pragma once
// Which kind of document an upload is, told from its first bytes, never from
// its name or declared type: the PDF and image formats Visor opens (through
// MuPDF). Pure; no MuPDF.

#include <optional>
#include <string_view>

namespace visor::pdf {

enum class Format { pdf, png, jpeg, tiff, gif, bmp, jpeg2000, pnm };

struct FormatInfo {
  Format format;
  std::string_view name;  // as users know it: "PDF", "PNG", "TIFF"
  std::string_view mime;  // the type MuPDF opens it as
  bool image;             // a raster image (every page one picture), not a PDF
};

// The format `bytes` start like; nullopt for anything else.
std::optional<FormatInfo> sniff_format(std::string_view bytes);

// "PDF, PNG, JPEG, ...": every format sniff_format recognises, for messages
// and documentation.
std::string_view supported_formats();

}  // namespace visor::pdf

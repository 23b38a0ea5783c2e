// make_test_image IN.pdf OUT FORMAT DPI PAGE...: renders the 0-based PAGEs
// of IN.pdf at DPI (grayscale) and writes them to OUT as one image file of
// FORMAT (png, jpeg, tiff, gif, bmp, jp2, pnm; every page in a tiff, the
// first elsewhere), its resolution set to DPI. The e2e tests upload the
// images it makes (Leptonica writes them, so no image library is needed in
// Python).

#include <leptonica/allheaders.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "pdf/document.hpp"

namespace {

using visor::pdf::Context;
using visor::pdf::Document;

struct PixDeleter {
  void operator()(PIX* pix) const { pixDestroy(&pix); }
};
using OwnedPix = std::unique_ptr<PIX, PixDeleter>;

OwnedPix to_pix(const visor::util::Image& image, int dpi) {
  OwnedPix pix(pixCreate(image.width, image.height, 8));
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) pixSetPixel(pix.get(), x, y, image.row(y)[x]);
  }
  pixSetResolution(pix.get(), dpi, dpi);
  return pix;
}

int fail(const std::string& message) {
  std::cerr << "make_test_image: " << message << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) return fail("usage: make_test_image IN.pdf OUT FORMAT DPI PAGE...");
  const std::map<std::string, int> formats{{"png", IFF_PNG}, {"jpeg", IFF_JFIF_JPEG}, {"tiff", IFF_TIFF_LZW},
                                           {"gif", IFF_GIF}, {"bmp", IFF_BMP},        {"jp2", IFF_JP2},
                                           {"pnm", IFF_PNM}};
  const std::string format = argv[3];
  const auto found = formats.find(format);
  if (found == formats.end()) return fail("unknown format " + format);
  const int dpi = std::stoi(argv[4]);

  std::ifstream in(argv[1], std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  Context context;
  auto document = Document::open(context, std::make_shared<const std::string>(std::move(bytes).str()));
  if (!document) return fail(document.error().message);
  std::remove(argv[2]);
  for (int arg = 5; arg < argc; ++arg) {
    auto image = document->render(std::stoi(argv[arg]), dpi, 1);
    if (!image) return fail(image.error().message);
    OwnedPix pix = to_pix(*image, dpi);
    const bool appended = format == "tiff" && arg > 5;
    const int failed = format == "tiff" ? pixWriteTiff(argv[2], pix.get(), found->second, appended ? "a" : "w")
                                        : pixWrite(argv[2], pix.get(), found->second);
    if (failed) return fail("Leptonica could not write " + std::string(argv[2]));
    if (format != "tiff") break;
  }
  return 0;
}

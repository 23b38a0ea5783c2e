// visor_render_pages FILE.pdf DPI OUTDIR: writes OUTDIR/page_N.png (N from 0)
// for every page, rendered exactly as the page pipeline renders it for the
// engine (MuPDF, grayscale, `DPI`). bench/quality feeds these images to the
// plain `tesseract` command line, so the baseline sees the same pixels as
// Visor's engine.
//
// Exit status: 0 when every page was written, 1 on any error (reported on
// stderr), 2 on bad arguments.

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "pdf/document.hpp"

namespace {

int fail(const std::string& message) {
  std::cerr << "visor_render_pages: " << message << "\n";
  return 1;
}

std::shared_ptr<const std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return nullptr;
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return std::make_shared<const std::string>(std::move(bytes).str());
}

bool write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: visor_render_pages FILE.pdf DPI OUTDIR\n";
    return 2;
  }
  const auto bytes = read_file(argv[1]);
  if (!bytes) return fail(std::string("cannot read ") + argv[1]);
  const int dpi = std::atoi(argv[2]);
  const std::filesystem::path out_dir = argv[3];
  std::filesystem::create_directories(out_dir);

  visor::pdf::Context context;
  auto document = visor::pdf::Document::open(context, bytes);
  if (!document) return fail(document.error().message);
  for (int page = 0; page < document->page_count(); ++page) {
    auto image = document->render(page, dpi, 1);
    if (!image) return fail("page " + std::to_string(page) + ": " + image.error().message);
    auto png = visor::pdf::encode_png(context, *image);
    if (!png) return fail("page " + std::to_string(page) + ": " + png.error().message);
    const auto path = out_dir / ("page_" + std::to_string(page) + ".png");
    if (!write_file(path, *png)) return fail("cannot write " + path.string());
  }
  return 0;
}

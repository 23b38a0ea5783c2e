#include "pdf/document.hpp"

#include <gtest/gtest.h>

#include "support/test_pdf.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

extern "C" {
#include <mupdf/fitz.h>
}

namespace visor::pdf {
namespace {

using test::make_pdf;
using test::text_page;

std::shared_ptr<const std::string> bytes(std::string s) { return std::make_shared<const std::string>(std::move(s)); }

util::Image white_rgb(int width, int height) {
  return {width, height, 3, std::vector<std::uint8_t>(static_cast<std::size_t>(width) * height * 3, 255)};
}

// The RGB value at (x, y) of an RGB image.
unsigned rgb_at(const util::Image& image, int x, int y) {
  const std::uint8_t* p = image.row(y) + static_cast<std::ptrdiff_t>(x) * 3;
  return (unsigned{p[0]} << 16) | (unsigned{p[1]} << 8) | p[2];
}

std::uint32_t big_endian(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

// Decodes PNG bytes with MuPDF itself; an empty image when it cannot.
util::Image decode_png(const std::string& png) {
  fz_context* ctx = fz_new_context(nullptr, nullptr, FZ_STORE_DEFAULT);
  fz_buffer* buffer = nullptr;
  fz_image* image = nullptr;
  fz_pixmap* pixmap = nullptr;
  fz_var(buffer);
  fz_var(image);
  fz_var(pixmap);
  fz_try(ctx) {
    buffer = fz_new_buffer_from_copied_data(ctx, reinterpret_cast<const unsigned char*>(png.data()), png.size());
    image = fz_new_image_from_buffer(ctx, buffer);
    pixmap = fz_get_pixmap_from_image(ctx, image, nullptr, nullptr, nullptr, nullptr);
  }
  fz_catch(ctx) {}
  util::Image out;
  if (pixmap != nullptr && fz_pixmap_alpha(ctx, pixmap) == 0) {
    out.width = fz_pixmap_width(ctx, pixmap);
    out.height = fz_pixmap_height(ctx, pixmap);
    out.channels = fz_pixmap_components(ctx, pixmap);
    const auto row = static_cast<std::size_t>(out.width) * out.channels;
    for (int y = 0; y < out.height; ++y) {
      const unsigned char* src = fz_pixmap_samples(ctx, pixmap) + static_cast<std::size_t>(y) * fz_pixmap_stride(ctx, pixmap);
      out.pixels.insert(out.pixels.end(), src, src + row);
    }
  }
  fz_drop_pixmap(ctx, pixmap);
  fz_drop_image(ctx, image);
  fz_drop_buffer(ctx, buffer);
  fz_drop_context(ctx);
  return out;
}

class DocumentTest : public ::testing::Test {
 protected:
  Result<Document> open(std::string s) { return Document::open(context_, bytes(std::move(s))); }

  void expect_rejected(std::string s, const std::string& message_start) {
    auto document = open(std::move(s));
    ASSERT_FALSE(document.ok());
    EXPECT_EQ(document.error().kind, Error::Kind::bad_input);
    EXPECT_EQ(document.error().message.rfind(message_start, 0), 0u) << document.error().message;
  }

  Context context_;
};

TEST_F(DocumentTest, RejectsEmptyBytes) {
  expect_rejected("", "The file is empty");
  auto document = Document::open(context_, nullptr);
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.error().message, "The file is empty");
}

TEST_F(DocumentTest, RejectsBytesThatAreNeitherAPdfNorAnImage) {
  expect_rejected("Dear customer,\nplease find attached\n",
                  "The file is neither a PDF nor an image Visor reads (it reads " + std::string(supported_formats()) +
                      ", told apart by their content)");
}

// Images are read lazily: the damage shows when the first page is loaded,
// which the API's inspection does before accepting an upload.
TEST_F(DocumentTest, ADamagedImageIsRefusedNamingItsFormat) {
  auto document = open(std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
  ASSERT_TRUE(document.ok()) << document.error().message;
  auto dpi = document->image_dpi(0);
  ASSERT_FALSE(dpi.ok());
  EXPECT_EQ(dpi.error().kind, Error::Kind::bad_input);
  EXPECT_EQ(dpi.error().message, "The PNG image is damaged and cannot be read");
}

TEST_F(DocumentTest, OpensAnImageAsOnePageReadInItsOwnPixels) {
  auto pdf = open(make_pdf({{text_page("Scanned")}}));
  ASSERT_TRUE(pdf.ok()) << pdf.error().message;
  EXPECT_EQ(pdf->format().format, Format::pdf);
  EXPECT_FALSE(pdf->image_dpi(0)->has_value());
  auto page = pdf->render(0, 100, 3);
  ASSERT_TRUE(page.ok());
  auto png = encode_png(context_, *page);
  ASSERT_TRUE(png.ok());

  auto image = open(*png);
  ASSERT_TRUE(image.ok()) << image.error().message;
  EXPECT_EQ(image->format().name, "PNG");
  EXPECT_TRUE(image->format().image);
  EXPECT_EQ(image->page_count(), 1);
  auto dpi = image->image_dpi(0);
  ASSERT_TRUE(dpi.ok() && dpi->has_value()) << (dpi ? "no DPI" : dpi.error().message);
  auto native = image->render(0, **dpi, 1);
  ASSERT_TRUE(native.ok()) << native.error().message;
  EXPECT_EQ(native->width, page->width);
  EXPECT_EQ(native->height, page->height);
}

TEST_F(DocumentTest, RejectsATruncatedPdf) {
  const std::string pdf = make_pdf({{text_page("A")}, {text_page("B")}});
  expect_rejected(pdf.substr(0, 40), "The PDF is damaged and cannot be read");
}

TEST_F(DocumentTest, RejectsAHeaderWithoutBody) { expect_rejected("%PDF-1.7\n", "The PDF"); }

TEST_F(DocumentTest, RejectsAPdfWithoutPages) {
  expect_rejected(make_pdf({}), "The PDF has no pages");
}

TEST_F(DocumentTest, CountsPages) {
  auto document = open(make_pdf({{text_page("One")}, {text_page("Two")}, {text_page("Three")}}));
  ASSERT_TRUE(document.ok()) << document.error().message;
  EXPECT_EQ(document->page_count(), 3);
}

TEST_F(DocumentTest, CountsThePagesThatExistWhenCountLies) {
  auto document = open(make_pdf({{text_page("One")}, {text_page("Two")}, {text_page("Three")}}, 1000));
  ASSERT_TRUE(document.ok()) << document.error().message;
  EXPECT_EQ(document->page_count(), 3);
  EXPECT_TRUE(document->render(2, 10, 1).ok());
}

TEST_F(DocumentTest, KeepsItsOwnCopyOfTheBytes) {
  auto input = std::make_shared<std::string>(make_pdf({{text_page("Kept")}}));
  auto document = Document::open(context_, input);
  ASSERT_TRUE(document.ok());
  input->assign(input->size(), 'x');  // the caller's copy is gone...
  input.reset();
  // ...but the document still renders: it shares ownership. (If it did not,
  // the overwrite above would make rendering fail or draw nothing.)
  EXPECT_TRUE(document->render(0, 36, 1).ok());
}

TEST_F(DocumentTest, ReportsPageSizeAfterRotation) {
  auto document = open(make_pdf({{text_page("A")}, {text_page("B"), 612, 792, 90}}));
  ASSERT_TRUE(document.ok());
  auto upright = document->page_size(0);
  auto turned = document->page_size(1);
  ASSERT_TRUE(upright.ok() && turned.ok());
  EXPECT_DOUBLE_EQ(upright->width_pt, 612);
  EXPECT_DOUBLE_EQ(upright->height_pt, 792);
  EXPECT_DOUBLE_EQ(turned->width_pt, 792);
  EXPECT_DOUBLE_EQ(turned->height_pt, 612);
  EXPECT_FALSE(document->page_size(2).ok());
  EXPECT_FALSE(document->page_size(-1).ok());
}

TEST_F(DocumentTest, RendersAtTheRequestedResolution) {
  auto document = open(make_pdf({{text_page("A")}, {text_page("B"), 612, 792, 90}}));
  ASSERT_TRUE(document.ok());
  struct Case {
    int page, dpi, channels, width, height;
  };
  for (const Case c : {Case{0, 72, 1, 612, 792}, Case{0, 200, 3, 1700, 2200}, Case{1, 200, 1, 2200, 1700},
                       Case{0, 150, 1, 1275, 1650}}) {
    auto image = document->render(c.page, c.dpi, c.channels);
    ASSERT_TRUE(image.ok()) << image.error().message;
    EXPECT_EQ(image->width, c.width) << c.dpi;
    EXPECT_EQ(image->height, c.height) << c.dpi;
    EXPECT_EQ(image->channels, c.channels);
    EXPECT_EQ(image->pixels.size(), static_cast<std::size_t>(c.width) * c.height * c.channels);
  }
}

TEST_F(DocumentTest, RejectsBadRenderRequests) {
  auto document = open(make_pdf({{text_page("A")}}));
  ASSERT_TRUE(document.ok());
  EXPECT_FALSE(document->render(1, 72, 1).ok());
  EXPECT_FALSE(document->render(0, 72, 4).ok());
  EXPECT_FALSE(document->render(0, 0, 1).ok());
  auto huge = document->render(0, 20000, 1);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().kind, Error::Kind::too_large);
}

// "HELLO" in 72 pt Helvetica with its baseline 600 pt above the bottom of a
// Letter page: at 72 DPI the glyphs lie in x 72..300, y 140..192 (top-down).
TEST_F(DocumentTest, RendersBlackTextOnWhite) {
  auto document = open(make_pdf({{text_page("HELLO")}}));
  ASSERT_TRUE(document.ok());
  for (int channels : {1, 3}) {
    auto image = document->render(0, 72, channels);
    ASSERT_TRUE(image.ok());
    int dark = 0;
    for (int y = 140; y < 192; ++y) {
      for (int x = 72 * channels; x < 300 * channels; ++x) dark += image->row(y)[x] < 64;
    }
    EXPECT_GT(dark, 1000 * channels) << channels;
    const bool white_below =
        std::all_of(image->row(250), image->row(792 - 1) + 612 * channels, [](std::uint8_t v) { return v == 255; });
    EXPECT_TRUE(white_below) << channels;
    EXPECT_EQ(image->row(10)[10 * channels], 255);
  }
}

TEST_F(DocumentTest, RendersRotatedPagesUpright) {
  // With /Rotate 90 the page turns clockwise: text along the top of the
  // unrotated page ends up along its right side.
  auto document = open(make_pdf({{text_page("HELLO"), 612, 792, 90}}));
  ASSERT_TRUE(document.ok());
  auto image = document->render(0, 72, 1);
  ASSERT_TRUE(image.ok());
  ASSERT_EQ(image->width, 792);
  int dark_right = 0;
  int dark_left = 0;
  for (int y = 0; y < image->height; ++y) {
    for (int x = 0; x < image->width; ++x) (x < 396 ? dark_left : dark_right) += image->row(y)[x] < 64;
  }
  EXPECT_GT(dark_right, 1000);
  EXPECT_EQ(dark_left, 0);
}

TEST_F(DocumentTest, EncodesPngThatDecodesToTheSamePixels) {
  util::Image gray{3, 2, 1, {0, 50, 100, 150, 200, 255}};
  util::Image rgb = white_rgb(5, 4);
  rgb.row(1)[3] = 0x12;
  for (const util::Image& image : {gray, rgb}) {
    auto png = encode_png(context_, image);
    ASSERT_TRUE(png.ok()) << png.error().message;
    ASSERT_GT(png->size(), 33u);
    EXPECT_EQ(png->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    EXPECT_EQ(png->substr(12, 4), "IHDR");
    EXPECT_EQ(big_endian(*png, 16), static_cast<std::uint32_t>(image.width));
    EXPECT_EQ(big_endian(*png, 20), static_cast<std::uint32_t>(image.height));
    EXPECT_EQ((*png)[25], image.channels == 1 ? 0 : 2);  // colour type: gray or RGB
    const util::Image decoded = decode_png(*png);
    EXPECT_EQ(decoded.channels, image.channels);
    EXPECT_EQ(decoded.pixels, image.pixels);
  }
}

TEST_F(DocumentTest, RefusesToEncodeMalformedImages) {
  EXPECT_FALSE(encode_png(context_, util::Image{2, 2, 4, std::vector<std::uint8_t>(16)}).ok());
  EXPECT_FALSE(encode_png(context_, util::Image{2, 2, 1, std::vector<std::uint8_t>(3)}).ok());
  EXPECT_FALSE(encode_png(context_, util::Image{}).ok());
}

TEST_F(DocumentTest, DrawsBoxOutlinesInTheirColour) {
  const util::Image page = white_rgb(300, 300);
  const Annotation box{50, 80, 150, 160, "Text", 0xFF0000};
  auto png = draw_annotations_png(context_, page, {box}, 3);
  ASSERT_TRUE(png.ok()) << png.error().message;
  const util::Image drawn = decode_png(*png);
  ASSERT_EQ(drawn.width, 300);
  ASSERT_EQ(drawn.channels, 3);
  // A 3-pixel band just outside each edge.
  for (int d = 1; d <= 3; ++d) {
    EXPECT_EQ(rgb_at(drawn, 100, 80 - d), 0xFF0000u) << d;
    EXPECT_EQ(rgb_at(drawn, 100, 160 + d - 1), 0xFF0000u) << d;
    EXPECT_EQ(rgb_at(drawn, 50 - d, 120), 0xFF0000u) << d;
    EXPECT_EQ(rgb_at(drawn, 150 + d - 1, 120), 0xFF0000u) << d;
  }
  EXPECT_EQ(rgb_at(drawn, 100, 120), 0xFFFFFFu);  // the content stays visible
  EXPECT_EQ(rgb_at(drawn, 100, 80 - 5), 0xFFFFFFu);  // beyond the tag's width
  EXPECT_EQ(rgb_at(drawn, 200, 120), 0xFFFFFFu);
  // The tag sits above the box: red with white (on red) lettering.
  int red = 0;
  int light = 0;
  for (int y = 50; y < 77; ++y) {
    for (int x = 47; x < 100; ++x) {
      const unsigned v = rgb_at(drawn, x, y);
      red += v == 0xFF0000u;
      light += (v & 0xFF) > 0xC0;
    }
  }
  EXPECT_GT(red, 200);
  EXPECT_GT(light, 10);
  EXPECT_EQ(rgb_at(drawn, 48, 70), 0xFF0000u);
}

TEST_F(DocumentTest, PutsTheTagInsideABoxAtTheTopOfThePage) {
  const util::Image page = white_rgb(200, 200);
  auto png = draw_annotations_png(context_, page, {{20, 2, 180, 100, "Title", 0x00FF00}}, 2);
  ASSERT_TRUE(png.ok());
  const util::Image drawn = decode_png(*png);
  ASSERT_EQ(drawn.height, 200);
  EXPECT_EQ(rgb_at(drawn, 19, 5), 0x00FF00u);  // inside the top edge, left of the text
  EXPECT_EQ(rgb_at(drawn, 100, 60), 0xFFFFFFu);
}

TEST_F(DocumentTest, DrawAnnotationsNeedsAnRgbImage) {
  util::Image gray{4, 4, 1, std::vector<std::uint8_t>(16, 255)};
  EXPECT_FALSE(draw_annotations_png(context_, gray, {}, 2).ok());
  auto unchanged = draw_annotations_png(context_, white_rgb(4, 4), {}, 2);
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(decode_png(*unchanged).pixels, white_rgb(4, 4).pixels);
}

// --- Corpus files (skipped when the shared corpus is not there) ---------

std::filesystem::path corpus(const std::string& name) { return std::filesystem::path(VISOR_CORPUS_DIR) / name; }

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class CorpusTest : public DocumentTest {
 protected:
  Result<Document> open_corpus(const std::string& name) {
    const auto path = corpus(name);
    if (!std::filesystem::exists(path)) return Error::not_found(path.string());
    return open(read_file(path));
  }

  void expect_corpus_rejected(const std::string& name, const std::string& message_start) {
    if (!std::filesystem::exists(corpus(name))) GTEST_SKIP() << "corpus file missing: " << name;
    auto document = open_corpus(name);
    ASSERT_FALSE(document.ok());
    EXPECT_EQ(document.error().kind, Error::Kind::bad_input);
    EXPECT_EQ(document.error().message.rfind(message_start, 0), 0u) << document.error().message;
  }
};

TEST_F(CorpusTest, ZeroBytes) { expect_corpus_rejected("pdfs/derived/zero_bytes.pdf", "The file is empty"); }

// Content decides, never the name: a PNG called .pdf is read as the PNG it is.
TEST_F(CorpusTest, PngNamedPdfOpensAsAPng) {
  if (!std::filesystem::exists(corpus("pdfs/derived/png_named_as.pdf"))) GTEST_SKIP() << "corpus file missing";
  auto document = open_corpus("pdfs/derived/png_named_as.pdf");
  ASSERT_TRUE(document.ok()) << document.error().message;
  EXPECT_EQ(document->format().format, Format::png);
  EXPECT_EQ(document->page_count(), 1);
}

TEST_F(CorpusTest, RandomBytes) {
  expect_corpus_rejected("pdfs/derived/random_64k.pdf", "The file is neither a PDF nor an image");
}

TEST_F(CorpusTest, HeaderOnly) {
  expect_corpus_rejected("pdfs/derived/header_only.pdf", "The PDF is damaged and cannot be read");
}

TEST_F(CorpusTest, UserPasswordEncrypted) {
  expect_corpus_rejected("pdfs/derived/two_paragraphs_aes256_userpw_secret.pdf",
                         "The PDF is encrypted and needs a password");
}

// The first half keeps 11 page objects but loses the catalog and the page
// tree, so MuPDF's repair finds nothing to count.
TEST_F(CorpusTest, TruncatedHalfOfTracemonkey) {
  expect_corpus_rejected("pdfs/derived/truncated_half_tracemonkey.pdf",
                         "The PDF is damaged and cannot be read: no pages could be recovered");
}

TEST_F(CorpusTest, GroundTruthPage) {
  if (!std::filesystem::exists(corpus("gt/doc11_000.pdf"))) GTEST_SKIP();
  auto document = open_corpus("gt/doc11_000.pdf");
  ASSERT_TRUE(document.ok()) << document.error().message;
  ASSERT_GE(document->page_count(), 1);
  auto size = document->page_size(0);
  ASSERT_TRUE(size.ok());
  const bool letter = std::lround(size->width_pt) == 612 && std::lround(size->height_pt) == 792;
  const bool a4 = std::lround(size->width_pt) == 595 && std::lround(size->height_pt) == 842;
  EXPECT_TRUE(letter || a4) << size->width_pt << "x" << size->height_pt;
  auto image = document->render(0, 200, 1);
  ASSERT_TRUE(image.ok());
  EXPECT_EQ(image->width, std::lround(size->width_pt * 200 / 72));
  EXPECT_EQ(image->height, std::lround(size->height_pt * 200 / 72));
  EXPECT_TRUE(std::any_of(image->pixels.begin(), image->pixels.end(), [](std::uint8_t v) { return v < 64; }));
}

TEST_F(CorpusTest, LargeDocumentsCountEveryPage) {
  auto document = open_corpus("pdfs/derived/tracemonkey_x40_560_pages.pdf");
  if (!document.ok() && document.error().kind == Error::Kind::not_found) GTEST_SKIP();
  ASSERT_TRUE(document.ok()) << document.error().message;
  EXPECT_EQ(document->page_count(), 560);
}

}  // namespace
}  // namespace visor::pdf

namespace visor::pdf {
namespace {

TEST_F(DocumentTest, PixelSizeMatchesTheRenderedSize) {
  auto document = open(make_pdf({{text_page("A"), 595, 842}, {text_page("B"), 612, 792, 90}}));
  ASSERT_TRUE(document.ok());
  for (int page = 0; page < 2; ++page) {
    for (double dpi : {72.0, 100.0, 200.0, 333.0}) {
      auto size = document->pixel_size(page, dpi);
      auto image = document->render(page, dpi, 1);
      ASSERT_TRUE(size.ok() && image.ok());
      EXPECT_EQ(size->width, image->width) << page << " " << dpi;
      EXPECT_EQ(size->height, image->height) << page << " " << dpi;
    }
  }
}

TEST_F(DocumentTest, RendersToAnExactSizeStretchingThePage) {
  auto document = open(make_pdf({{text_page("HELLO"), 595, 842}}));
  ASSERT_TRUE(document.ok());
  for (const auto& [w, h] : {std::pair{1652, 2352}, std::pair{597, 843}, std::pair{300, 300}}) {
    auto image = document->render_to_size(0, w, h, 3);
    ASSERT_TRUE(image.ok()) << image.error().message;
    EXPECT_EQ(image->width, w);
    EXPECT_EQ(image->height, h);
    EXPECT_EQ(image->channels, 3);
  }
  EXPECT_FALSE(document->render_to_size(0, 0, 10, 3).ok());
}

}  // namespace
}  // namespace visor::pdf

#include <gtest/gtest.h>

#include "pdf/document.hpp"
#include "support/test_pdf.hpp"
#include "worker/page_processor.hpp"

namespace visor::worker {
namespace {

using nlohmann::json;

// Records what it was asked; answers with the image size it was given.
class RecordingEngine final : public ocr::Engine {
 public:
  std::string name() const override { return "recording"; }
  Result<json> recognize(const ocr::PageInput& page, ocr::Model) override {
    ++calls;
    return json{{"width", page.image.width}, {"height", page.image.height}, {"channels", page.image.channels}};
  }
  int calls = 0;
};

std::shared_ptr<const std::string> pdf_bytes(std::vector<test::TestPage> pages) {
  return std::make_shared<const std::string>(test::make_pdf(pages));
}

TEST(PageProcessorTest, RendersGrayscaleAtTheJobDpiForTheEngine) {
  RecordingEngine engine;
  PageProcessor processor(engine);
  auto document = processor.open(pdf_bytes({{test::text_page("Hello")}}));
  ASSERT_TRUE(document.ok()) << document.error().message;
  auto result = processor.process(*document, 0, 100, ocr::Model::dotsocr, ocr::OcrMode::ocr);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->data, json({{"width", 850}, {"height", 1100}, {"channels", 1}}));
  EXPECT_EQ(result->source, ocr::kSourceOcr);
  EXPECT_EQ(result->engine, "recording");
}

TEST(PageProcessorTest, PageWithoutVisibleAreaIsEmptyWithoutAskingTheEngine) {
  RecordingEngine engine;
  PageProcessor processor(engine);
  auto document = processor.open(pdf_bytes({{"", 1, 1}, {"", 612, 2}}));
  ASSERT_TRUE(document.ok()) << document.error().message;
  EXPECT_EQ(processor.process(*document, 0, 72, ocr::Model::dotsocr, ocr::OcrMode::ocr)->data, json::array());
  EXPECT_EQ(processor.process(*document, 1, 200, ocr::Model::lightonocr, ocr::OcrMode::ocr)->data, json(""));
  EXPECT_EQ(engine.calls, 0);
}

// A PNG of a one-page PDF rendered at 100 DPI: 850 x 1100 pixels.
std::shared_ptr<const std::string> png_bytes() {
  pdf::Context context;
  auto document = pdf::Document::open(context, pdf_bytes({{test::text_page("Hello")}}));
  EXPECT_TRUE(document.ok());
  auto page = document->render(0, 100, 3);
  EXPECT_TRUE(page.ok());
  auto png = pdf::encode_png(context, *page);
  EXPECT_TRUE(png.ok());
  return std::make_shared<const std::string>(png.ok() ? *png : std::string());
}

TEST(PageProcessorTest, AnImageIsRecognisedInItsOwnPixelsWhateverTheJobDpi) {
  RecordingEngine engine;
  PageProcessor processor(engine);
  auto document = processor.open(png_bytes());
  ASSERT_TRUE(document.ok()) << document.error().message;
  auto result = processor.process(*document, 0, 300, ocr::Model::dotsocr, ocr::OcrMode::automatic);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->data, json({{"width", 850}, {"height", 1100}, {"channels", 1}}));
  EXPECT_EQ(result->source, ocr::kSourceOcr);
}

TEST(PageProcessorTest, AnImageInTextModeIsAPageErrorSayingItHasNoTextLayer) {
  RecordingEngine engine;
  PageProcessor processor(engine);
  auto document = processor.open(png_bytes());
  ASSERT_TRUE(document.ok()) << document.error().message;
  auto result = processor.process(*document, 0, 200, ocr::Model::dotsocr, ocr::OcrMode::text);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message,
            "Page 1 has no usable text layer: the page has no text layer (the document is an image); ocr_mode text "
            "reads text layers only (auto or ocr would OCR the page)");
  EXPECT_EQ(engine.calls, 0);
}

}  // namespace
}  // namespace visor::worker

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace visor::worker

// The embedded engine end to end on a corpus page with exact ground truth:
// gt/doc11_000.pdf page 1 (title, paragraphs, bullet list, section headers,
// a framed chart with its caption), rendered at 150 DPI.

#include "ocr/engine.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "pdf/document.hpp"

namespace visor::ocr {
namespace {

constexpr int kDpi = 150;
const std::filesystem::path kCorpusDoc = std::filesystem::path(VISOR_CORPUS_DIR) / "gt" / "doc11_000";

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

struct Box {
  double x1, y1, x2, y2;
};

Box box_of(const nlohmann::json& bbox, double scale) {
  return {bbox[0].get<double>() * scale, bbox[1].get<double>() * scale, bbox[2].get<double>() * scale,
          bbox[3].get<double>() * scale};
}

double iou(const Box& a, const Box& b) {
  const double w = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  const double h = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const double inter = w * h;
  return inter / ((a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter);
}

// 1 - normalised edit distance: 1 for equal strings, 0 for nothing in common.
double similarity(const std::string& a, const std::string& b) {
  if (a.empty() && b.empty()) return 1;
  std::vector<std::size_t> previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitute});
    }
    std::swap(previous, current);
  }
  return 1.0 - static_cast<double>(previous[b.size()]) / static_cast<double>(std::max(a.size(), b.size()));
}

// The engine's element that overlaps `truth` most; nullptr when none overlaps.
const nlohmann::json* best_match(const nlohmann::json& elements, const Box& truth) {
  const nlohmann::json* best = nullptr;
  double best_iou = 0;
  for (const auto& element : elements) {
    const double overlap = iou(box_of(element["bbox"], 1.0), truth);
    if (overlap > best_iou) {
      best_iou = overlap;
      best = &element;
    }
  }
  return best;
}

// One engine for the whole suite: Init loads the language data.
class TesseractEngineTest : public testing::Test {
 protected:
  static void SetUpTestSuite() { engine_ = make_tesseract_engine().release(); }
  static void TearDownTestSuite() { delete engine_; }

  static inline Engine* engine_ = nullptr;
};

// The corpus page, recognised once: a page at 150 DPI takes a second or two.
class TesseractCorpusPageTest : public TesseractEngineTest {
 protected:
  static void SetUpTestSuite() {
    TesseractEngineTest::SetUpTestSuite();
    if (!std::filesystem::exists(kCorpusDoc.string() + ".pdf")) return;
    truth_ = new nlohmann::json(nlohmann::json::parse(read_file(kCorpusDoc.string() + ".json")));
    pdf::Context context;
    auto bytes = std::make_shared<const std::string>(read_file(kCorpusDoc.string() + ".pdf"));
    auto document = pdf::Document::open(context, bytes);
    ASSERT_TRUE(document.ok()) << document.error().message;
    auto image = document->render(0, kDpi, 1);
    ASSERT_TRUE(image.ok()) << image.error().message;
    page_ = new util::Image(std::move(*image));
    auto dotsocr = engine_->recognize({*page_, kDpi}, Model::dotsocr);
    ASSERT_TRUE(dotsocr.ok()) << dotsocr.error().message;
    elements_ = new nlohmann::json(std::move(*dotsocr));
  }

  static void TearDownTestSuite() {
    delete elements_;
    delete page_;
    delete truth_;
    TesseractEngineTest::TearDownTestSuite();
  }

  void SetUp() override {
    if (elements_ == nullptr) GTEST_SKIP() << "corpus page " << kCorpusDoc << " not available";
  }

  static std::vector<nlohmann::json> truth_elements(const std::string& category) {
    std::vector<nlohmann::json> out;
    for (const auto& element : (*truth_)["pages"][0]["elements"]) {
      if (element["category"] == category) out.push_back(element);
    }
    return out;
  }

  static constexpr double kScale = kDpi / 72.0;
  static inline nlohmann::json* truth_ = nullptr;
  static inline util::Image* page_ = nullptr;
  static inline nlohmann::json* elements_ = nullptr;
};

TEST(TesseractEngineName, IsTesseractWithVersion) {
  EXPECT_TRUE(tesseract_engine_name().starts_with("tesseract 5.")) << tesseract_engine_name();
}

TEST_F(TesseractEngineTest, NameMatchesFreeFunction) {
  EXPECT_EQ(engine_->name(), tesseract_engine_name());
}

TEST_F(TesseractCorpusPageTest, FindsTheTitleAsTitle) {
  const auto titles = truth_elements("Title");
  ASSERT_EQ(titles.size(), 1u);
  const nlohmann::json* match = best_match(*elements_, box_of(titles[0]["bbox"], kScale));
  ASSERT_NE(match, nullptr);
  EXPECT_EQ((*match)["category"], "Title");
  EXPECT_GT(similarity((*match)["text"], titles[0]["text"]), 0.9) << (*match)["text"];
}

TEST_F(TesseractCorpusPageTest, BodyParagraphsReadWellAndOverlapTheTruth) {
  const auto paragraphs = truth_elements("Text");
  ASSERT_FALSE(paragraphs.empty());
  double total = 0;
  for (const auto& truth : paragraphs) {
    const Box box = box_of(truth["bbox"], kScale);
    const nlohmann::json* match = best_match(*elements_, box);
    ASSERT_NE(match, nullptr) << truth["text"];
    EXPECT_GT(iou(box_of((*match)["bbox"], 1.0), box), 0.5) << truth["text"];
    EXPECT_EQ((*match)["category"], "Text") << truth["text"];
    total += similarity((*match)["text"], truth["text"]);
  }
  EXPECT_GT(total / static_cast<double>(paragraphs.size()), 0.9);
}

TEST_F(TesseractCorpusPageTest, BulletItemsAreListItemsWithoutBullets) {
  const auto items = truth_elements("List-item");
  ASSERT_FALSE(items.empty());
  std::size_t found = 0;
  for (const auto& truth : items) {
    const nlohmann::json* match = best_match(*elements_, box_of(truth["bbox"], kScale));
    if (match && (*match)["category"] == "List-item" && similarity((*match)["text"], truth["text"]) > 0.9) ++found;
  }
  EXPECT_GE(found * 5, items.size() * 4) << "found " << found << " of " << items.size();
}

TEST_F(TesseractCorpusPageTest, FindsPageHeaderSectionHeadersPictureAndCaption) {
  for (const char* category : {"Page-header", "Section-header", "Picture", "Caption"}) {
    for (const auto& truth : truth_elements(category)) {
      const nlohmann::json* match = best_match(*elements_, box_of(truth["bbox"], kScale));
      ASSERT_NE(match, nullptr) << category;
      EXPECT_EQ((*match)["category"], category) << truth["text"];
    }
  }
}

TEST_F(TesseractCorpusPageTest, PageHeaderComesFirst) {
  ASSERT_FALSE(elements_->empty());
  EXPECT_EQ((*elements_)[0]["category"], "Page-header");
}

TEST_F(TesseractCorpusPageTest, MarkdownStartsWithTitleAndLeavesOutHeader) {
  auto markdown = engine_->recognize({*page_, kDpi}, Model::lightonocr);
  ASSERT_TRUE(markdown.ok()) << markdown.error().message;
  ASSERT_TRUE(markdown->is_string());
  const std::string text = markdown->get<std::string>();
  EXPECT_TRUE(text.starts_with("# Provided For Under")) << text.substr(0, 80);
  EXPECT_NE(text.find("\n\n- "), std::string::npos);
  EXPECT_NE(text.find("\n\n## 1 Invariant Sections\n\n"), std::string::npos);
}

TEST_F(TesseractEngineTest, BlankPageGivesNoElements) {
  util::Image blank{400, 500, 1, std::vector<std::uint8_t>(400 * 500, 255)};
  auto result = engine_->recognize({blank, kDpi}, Model::dotsocr);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->dump(), "[]");
}

// malformed/pdfjs__bug1980958.pdf is a 10 × 10 pt page: its margin zones
// (7% of the height) are empty, which crashed Tesseract and, three times,
// the worker process.
TEST_F(TesseractEngineTest, APageTooShortForMarginZonesGivesNoElements) {
  for (const auto& [width, height] : {std::pair{612, 12}, std::pair{10, 10}, std::pair{100, 14}}) {
    util::Image blank{width, height, 1, std::vector<std::uint8_t>(static_cast<std::size_t>(width) * height, 255)};
    auto result = engine_->recognize({blank, kDpi}, Model::dotsocr);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->dump(), "[]");
  }
}

TEST_F(TesseractCorpusPageTest, StopsAtThePagesDeadline) {
  PageInput input{*page_, kDpi};
  input.deadline = std::chrono::steady_clock::now();  // passed: stop at the first word
  auto result = engine_->recognize(input, Model::dotsocr);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, Error::Kind::timeout);
  // The same page without a deadline was recognised in SetUpTestSuite, and
  // is again after a stopped run.
  auto again = engine_->recognize({*page_, kDpi}, Model::dotsocr);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *elements_);
}

TEST_F(TesseractCorpusPageTest, StopsWhenThePageIsAbandoned) {
  std::stop_source abandon;
  abandon.request_stop();
  PageInput input{*page_, kDpi};
  input.abandon = abandon.get_token();
  auto result = engine_->recognize(input, Model::dotsocr);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, Error::Kind::conflict);
}

TEST_F(TesseractEngineTest, RejectsColourOrMismatchedImagesAsBadInput) {
  util::Image rgb{10, 10, 3, std::vector<std::uint8_t>(300, 255)};
  auto colour = engine_->recognize({rgb, kDpi}, Model::dotsocr);
  ASSERT_FALSE(colour.ok());
  EXPECT_EQ(colour.error().kind, Error::Kind::bad_input);

  util::Image short_buffer{10, 10, 1, std::vector<std::uint8_t>(50, 255)};
  auto truncated = engine_->recognize({short_buffer, kDpi}, Model::dotsocr);
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().kind, Error::Kind::bad_input);
}

}  // namespace
}  // namespace visor::ocr

// Pages read from their text layer: when the layer is trusted
// (judge_text_layer), and the layout made of it (text_layer_result).

#include "ocr/text_layer.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "pdf/document.hpp"
#include "support/test_pdf.hpp"

namespace visor::ocr {
namespace {

using test::image_at;
using test::text_line;

constexpr double kDpi = 200;

// Page 1 of a one-page Letter PDF with `content`, read at 200 DPI.
pdf::PageContent read(const std::string& content) {
  pdf::Context context;
  auto document = pdf::Document::open(context, std::make_shared<const std::string>(test::make_pdf({{content}})));
  EXPECT_TRUE(document.ok()) << document.error().message;
  if (!document.ok()) return {};
  auto page = document->read_content(0, kDpi);
  EXPECT_TRUE(page.ok()) << page.error().message;
  return page.ok() ? *page : pdf::PageContent{};
}

const std::string kSentence = "The river flows quietly past the old mill every morning.";

// --- judge_text_layer ------------------------------------------------------

TEST(JudgeTextLayer, TrustsAPageOfOrdinaryText) {
  const TextLayerTrust trust = judge_text_layer(read(text_line(kSentence, 72, 700)));
  EXPECT_TRUE(trust.usable) << trust.reason;
  EXPECT_EQ(trust.reason, "");
}

TEST(JudgeTextLayer, RefusesAPageWithTooFewCharactersToBeItsText) {
  const TextLayerTrust trust = judge_text_layer(read(text_line("Page 7", 72, 700)));
  EXPECT_FALSE(trust.usable);
  EXPECT_EQ(trust.reason, "its text layer is too short to be the page's text (5 characters, fewer than 20)");
  const TextLayerTrust none = judge_text_layer(read(""));
  EXPECT_FALSE(none.usable);
  EXPECT_EQ(none.reason, "the page has no text layer");
}

TEST(JudgeTextLayer, RefusesInvisibleTextOverAScannedPage) {
  // What ocrmypdf makes: the page image, and its OCR in render mode 3.
  const TextLayerTrust trust =
      judge_text_layer(read(image_at(0, 0, 612, 792) + text_line(kSentence, 72, 700, 12, "F1", 3)));
  EXPECT_FALSE(trust.usable);
  EXPECT_NE(trust.reason.find("drawn invisibly"), std::string::npos) << trust.reason;
}

TEST(JudgeTextLayer, RefusesFontsWhoseGlyphsMapToNoCharacters) {
  const TextLayerTrust trust = judge_text_layer(read(text_line(kSentence, 72, 700, 12, "F2")));
  EXPECT_FALSE(trust.usable);
  EXPECT_EQ(trust.reason, "100 % of its characters have no Unicode mapping (fonts without ToUnicode)");
}

TEST(JudgeTextLayer, AFewUnmappedGlyphsAmongManyAreTolerated) {
  // 2 unmapped glyphs against 94 mapped ones: about 2 %.
  const TextLayerTrust trust = judge_text_layer(
      read(text_line(kSentence, 72, 700) + text_line(kSentence, 72, 680) + text_line("ab", 72, 660, 12, "F2")));
  EXPECT_TRUE(trust.usable) << trust.reason;
}

TEST(JudgeTextLayer, RefusesPrivateUseCodesBeyondTheShare) {
  pdf::PageContent page = read(text_line(kSentence, 72, 700));
  page.census.private_use = page.census.visible / 10;
  const TextLayerTrust trust = judge_text_layer(page);
  EXPECT_FALSE(trust.usable);
  EXPECT_NE(trust.reason.find("no Unicode mapping"), std::string::npos) << trust.reason;
}

TEST(JudgeTextLayer, RefusesTextThatIsMostlySymbols) {
  const TextLayerTrust trust = judge_text_layer(read(text_line("#*#*# -+-+- =*=*= ~#~#~ a1", 72, 700)));
  EXPECT_FALSE(trust.usable);
  EXPECT_EQ(trust.reason, "under half of its characters are letters or digits (a broken font encoding)");
}

TEST(JudgeTextLayer, RefusesAScannedPageThatCarriesOnlyAFooterAsText) {
  // A scanner's page image with a printed line of text at the bottom: the
  // words in the image are not in the text layer.
  const TextLayerTrust trust =
      judge_text_layer(read(image_at(36, 72, 540, 684) + text_line("Scanned by the office copier on 3 May.", 72, 36, 8)));
  EXPECT_FALSE(trust.usable);
  EXPECT_NE(trust.reason.find("image"), std::string::npos) << trust.reason;
}

TEST(JudgeTextLayer, TrustsTextBesideASmallFigure) {
  const TextLayerTrust trust = judge_text_layer(read(image_at(72, 300, 200, 150) + text_line(kSentence, 72, 700)));
  EXPECT_TRUE(trust.usable) << trust.reason;
}

TEST(JudgeTextLayer, TrustsALargeFigureWhoseLabelsAreText) {
  // A chart drawn as an image with its axis labels set over it as text.
  std::string content = image_at(72, 200, 468, 400);
  for (int i = 0; i < 12; ++i) content += text_line("Label value " + std::to_string(i), 80, 590 - 33 * i, 14);
  const TextLayerTrust trust = judge_text_layer(read(content));
  EXPECT_TRUE(trust.usable) << trust.reason;
}

// --- text_layer_result -----------------------------------------------------

const nlohmann::json* find_category(const nlohmann::json& elements, const std::string& category) {
  for (const nlohmann::json& element : elements) {
    if (element["category"] == category) return &element;
  }
  return nullptr;
}

std::vector<std::string> texts(const nlohmann::json& elements) {
  std::vector<std::string> out;
  for (const nlohmann::json& element : elements) {
    if (element.contains("text")) out.push_back(element["text"]);
  }
  return out;
}

TEST(TextLayerResult, ATitleAndAParagraphKeepTheirExactTextAndPlace) {
  const std::string content = text_line("Annual Report", 72, 700, 28) + text_line(kSentence, 72, 640) +
                              text_line("Farmers bring their grain to town before the market opens.", 72, 626);
  const nlohmann::json elements = text_layer_result(read(content), Model::dotsocr);
  ASSERT_EQ(elements.size(), 2u) << elements.dump(1);
  EXPECT_EQ(elements[0]["category"], "Title");
  EXPECT_EQ(elements[0]["text"], "Annual Report");
  EXPECT_EQ(elements[1]["category"], "Text");
  EXPECT_EQ(elements[1]["text"], kSentence + " Farmers bring their grain to town before the market opens.");
  // The title's box in pixels at 200 DPI: it starts one inch from the left.
  EXPECT_NEAR(elements[0]["bbox"][0].get<int>(), 200, 3);
  EXPECT_LT(elements[0]["bbox"][1].get<int>(), (792 - 700) * kDpi / 72);
}

TEST(TextLayerResult, ABulletLineIsAListItemEvenWhenItsBulletIsDrawnApart) {
  // The bullet (StandardEncoding 0267) and the item's text drawn as two
  // pieces on one baseline, as word processors often do.
  const std::string content = text_line(kSentence, 72, 700) + text_line("\\267", 90, 670) +
                              text_line("Fresh bread and butter from the bakery", 104, 670) +
                              text_line("\\267", 90, 652) + text_line("Apples from the orchard by the river", 104, 652);
  const nlohmann::json elements = text_layer_result(read(content), Model::dotsocr);
  int items = 0;
  for (const nlohmann::json& element : elements) items += element["category"] == "List-item" ? 1 : 0;
  EXPECT_EQ(items, 2) << elements.dump(1);
}

TEST(TextLayerResult, TwoColumnsReadLeftColumnFirstWhateverOrderThePageDrawsThem) {
  std::string right, left;
  for (int i = 0; i < 6; ++i) {
    right += text_line("Right column line number " + std::to_string(i + 1) + " goes here", 320, 600 - 14 * i, 10);
    left += text_line("Left column line number " + std::to_string(i + 1) + " goes here", 72, 600 - 14 * i, 10);
  }
  const nlohmann::json elements = text_layer_result(read(right + left), Model::dotsocr);
  EXPECT_EQ(find_category(elements, "Table"), nullptr) << "two columns of prose are no table";
  const std::vector<std::string> order = texts(elements);
  ASSERT_EQ(order.size(), 2u) << elements.dump(1);
  EXPECT_EQ(order[0].rfind("Left column line number 1", 0), 0u) << order[0];
  EXPECT_EQ(order[1].rfind("Right column line number 1", 0), 0u) << order[1];
}

TEST(TextLayerResult, ARuledGridWithTextInItsCellsIsATable) {
  std::string content = text_line(kSentence, 72, 700) + "0.5 w\n";
  for (int row = 0; row <= 3; ++row) {
    content += "72 " + std::to_string(600 - 20 * row) + " m 372 " + std::to_string(600 - 20 * row) + " l S\n";
  }
  for (int column = 0; column <= 2; ++column) {
    content += std::to_string(72 + 150 * column) + " 540 m " + std::to_string(72 + 150 * column) + " 600 l S\n";
  }
  const char* cells[3][2] = {{"Fruit", "Price"}, {"Apples", "3.20"}, {"Pears", "4.10"}};
  for (int row = 0; row < 3; ++row) {
    for (int column = 0; column < 2; ++column) {
      content += text_line(cells[row][column], 80 + 150 * column, 586 - 20 * row, 10);
    }
  }
  const nlohmann::json elements = text_layer_result(read(content), Model::dotsocr);
  const nlohmann::json* table = find_category(elements, "Table");
  ASSERT_NE(table, nullptr) << elements.dump(1);
  const std::string html = (*table)["text"];
  EXPECT_NE(html.find("<td>Apples</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td>4.10</td>"), std::string::npos) << html;
  for (const nlohmann::json& element : elements) {
    if (&element == table) continue;
    EXPECT_EQ(element.value("text", "").find("Apples"), std::string::npos) << element.dump();
  }
}

// Columns of figures set apart by spaces alone, as financial statements are.
TEST(TextLayerResult, RowsWhoseCellsLineUpInColumnsAreATableWithoutAnyRules) {
  std::string content = text_line(kSentence, 72, 700) + text_line("Year Ended", 300, 660, 10) +
                        text_line("2025", 300, 646, 10) + text_line("2024", 380, 646, 10);
  const char* labels[] = {"Cost of revenue", "Research and development", "Sales and marketing", "Total"};
  const char* values[4][2] = {{"178", "141"}, {"3,423", "2,532"}, {"1,136", "876"}, {"4,737", "3,549"}};
  for (int row = 0; row < 4; ++row) {
    const double y = 630 - 14 * row;
    content += text_line(labels[row], 72, y, 10) + text_line(values[row][0], 300, y, 10) +
               text_line(values[row][1], 380, y, 10);
  }
  const nlohmann::json elements = text_layer_result(read(content), Model::dotsocr);
  const nlohmann::json* table = find_category(elements, "Table");
  ASSERT_NE(table, nullptr) << elements.dump(1);
  const std::string html = (*table)["text"];
  EXPECT_NE(html.find("<td>Research and development</td><td>3,423</td><td>2,532</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("Year Ended"), std::string::npos) << html;
  EXPECT_EQ(texts(elements).front(), kSentence);
}

// LaTeX's booktabs: a rule above, one under the headings, one below, no
// vertical rules; a cell may wrap onto a second line.
TEST(TextLayerResult, ATableBetweenThreeHorizontalRulesIsATable) {
  std::string content = text_line(kSentence, 72, 700) + "0.5 w 72 660 m 400 660 l S 72 640 m 400 640 l S 72 560 m 400 560 l S\n";
  content += text_line("Source", 76, 648, 10) + text_line("Tokens", 250, 648, 10) + text_line("Docs", 340, 648, 10);
  const char* rows[4][3] = {{"Web pages", "3.71T", "2.95B"}, {"Code", "83.0B", "78.7M"}, {"Papers", "58.6B", "38.8M"},
                            {"Math", "12.2B", "2.89M"}};
  for (int row = 0; row < 4; ++row) {
    const double y = 626 - 16 * row;
    content += text_line(rows[row][0], 76, y, 10) + text_line(rows[row][1], 250, y, 10) +
               text_line(rows[row][2], 340, y, 10);
  }
  const nlohmann::json elements = text_layer_result(read(content), Model::dotsocr);
  const nlohmann::json* table = find_category(elements, "Table");
  ASSERT_NE(table, nullptr) << elements.dump(1);
  const std::string html = (*table)["text"];
  EXPECT_NE(html.find("<td>Source</td><td>Tokens</td><td>Docs</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td>Code</td><td>83.0B</td><td>78.7M</td>"), std::string::npos) << html;
}

// Two rules around the body of a page (under a running header, over the
// footer) do not make the page a table.
TEST(TextLayerResult, ProseBetweenTwoRulesIsNoTable) {
  std::string content = "0.5 w 72 720 m 540 720 l S 72 100 m 540 100 l S\n";
  for (int i = 0; i < 10; ++i) content += text_line(kSentence, 72, 690 - 14 * i, 10);
  const nlohmann::json elements = text_layer_result(read(content), Model::dotsocr);
  EXPECT_EQ(find_category(elements, "Table"), nullptr) << elements.dump(1);
}

// Text set on a frame around the page or on a card is read, not hidden in a picture.
TEST(TextLayerResult, TextOnAPageFrameOrACardIsTextNotAPicture) {
  const std::string frame = "1 w 20 20 572 752 re S\n0.9 g 60 400 300 200 re f 0 g\n";
  const std::string content = frame + text_line("Card heading", 72, 580, 14) +
                              text_line("A sentence of prose set on the card, as slides do.", 72, 560, 10) +
                              text_line(kSentence, 72, 300);
  const nlohmann::json elements = text_layer_result(read(content), Model::dotsocr);
  EXPECT_EQ(find_category(elements, "Picture"), nullptr) << elements.dump(1);
  const std::vector<std::string> all = texts(elements);
  const auto has = [&](const std::string& part) {
    return std::any_of(all.begin(), all.end(), [&](const std::string& t) { return t.find(part) != std::string::npos; });
  };
  EXPECT_TRUE(has("A sentence of prose set on the card")) << elements.dump(1);
  EXPECT_TRUE(has("The river flows quietly")) << elements.dump(1);
}

TEST(TextLayerResult, AnImageIsAPictureAndTheLabelsOnItAreNotBodyText) {
  const std::string content = text_line(kSentence, 72, 700) + image_at(72, 300, 300, 250) +
                              text_line("Axis label", 100, 400, 9);
  const nlohmann::json elements = text_layer_result(read(content), Model::dotsocr);
  const nlohmann::json* picture = find_category(elements, "Picture");
  ASSERT_NE(picture, nullptr) << elements.dump(1);
  EXPECT_FALSE(picture->contains("text"));
  for (const std::string& text : texts(elements)) EXPECT_EQ(text.find("Axis label"), std::string::npos) << text;
}

TEST(TextLayerResult, LightOnOcrGetsTheSamePageAsMarkdown) {
  const std::string content = text_line("Annual Report", 72, 700, 28) + text_line(kSentence, 72, 640);
  const nlohmann::json markdown = text_layer_result(read(content), Model::lightonocr);
  ASSERT_TRUE(markdown.is_string());
  EXPECT_EQ(markdown.get<std::string>(), "# Annual Report\n\n" + kSentence);
}

TEST(TextLayerEngineName, NamesTheMuPdfThatReadTheLayer) {
  EXPECT_EQ(text_layer_engine_name(), "text layer (MuPDF " + pdf::mupdf_version() + ")");
}

}  // namespace
}  // namespace visor::ocr

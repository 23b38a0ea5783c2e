// A finished job's pages as one document (document_text.hpp) and where
// their text goes in a searchable PDF (text_placement.hpp).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ocr/document_text.hpp"
#include "ocr/text_placement.hpp"

namespace visor::ocr {
namespace {

using json = nlohmann::json;

json element(std::string category, std::string text, std::vector<int> bbox = {100, 100, 900, 140}) {
  return {{"bbox", bbox}, {"category", std::move(category)}, {"text", std::move(text)}};
}

TEST(DocumentMarkdown, JoinsPagesLeavingRunningMarginsOutAndNamingFailedPages) {
  const json first = json::array({element("Page-header", "Annual report"), element("Title", "Results"),
                                  element("Text", "Revenue grew."), element("Page-footer", "1")});
  const json second = json::array({element("Section-header", "Outlook"), element("List-item", "More")});
  const std::string markdown = document_markdown(
      {{0, &first, ""}, {1, nullptr, "Page 2 took longer than --page-timeout"}, {2, &second, ""}});
  EXPECT_EQ(markdown,
            "# Results\n\nRevenue grew.\n\n<!-- Page 2 could not be read: Page 2 took longer than - page-timeout -->"
            "\n\n## Outlook\n\n- More\n");
}

TEST(DocumentMarkdown, TakesLightOnOcrPagesAsTheyAre) {
  const json page = "# Title\n\nBody text.";
  EXPECT_EQ(document_markdown({{0, &page, ""}}), "# Title\n\nBody text.\n");
}

TEST(DocumentPlainText, HasNoMarkupAndSeparatesPagesWithAFormFeed) {
  const json first = json::array({element("Title", "Results"), element("Text", "Revenue **grew**.")});
  const json second = "## Outlook\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";
  EXPECT_EQ(document_plain_text({{0, &first, ""}, {1, nullptr, "failed"}, {2, &second, ""}}),
            "Results\n\nRevenue grew.\n\f\fOutlook\n\na\tb\n1\t2\n");
}

TEST(DocumentPlainText, HtmlTablesBecomeTabSeparatedRowsWithReferencesDecoded) {
  EXPECT_EQ(html_table_plain_text("<table><tr><th>A &amp; B</th><th>C</th></tr><tr><td>1</td><td>&#50;</td></tr>"
                                  "</table>"),
            "A & B\tC\n1\t2");
}

TEST(TextPlacement, AParagraphIsBrokenIntoTheLinesItsBoxLikelyHolds) {
  // A 20 px em (10 px advance, 24 px lines): 80 characters in a 267 × 72 box are three lines.
  EXPECT_EQ(estimated_line_count(267, 72, 80, 14), 3);
  EXPECT_EQ(estimated_line_count(480, 24, 40, 7), 1);
  EXPECT_EQ(estimated_line_count(10, 1000, 40, 2), 2);  // never more lines than words
  EXPECT_EQ(balanced_lines({"aa", "bb", "cc", "dd"}, 2), (std::vector<std::string>{"aa bb", "cc dd"}));
}

TEST(TextPlacement, LinesStayInsideTheirElementAndRunningMarginsAreCarried) {
  const json page = json::array({element("Page-header", "Annual report", {100, 20, 500, 50}),
                                 element("Text", "one two three four five six seven eight", {100, 100, 420, 160}),
                                 element("Picture", "", {100, 200, 400, 400})});
  const pdf::PageText text = page_text_layer(3, page);
  EXPECT_EQ(text.page_index, 3);
  ASSERT_GE(text.lines.size(), 2u);
  EXPECT_EQ(text.lines[0].text, "Annual report");
  std::string body;
  for (std::size_t i = 1; i < text.lines.size(); ++i) {
    const auto& line = text.lines[i];
    EXPECT_GE(line.x1, 100);
    EXPECT_LE(line.x2, 420);
    EXPECT_GE(line.y1, 100);
    EXPECT_LE(line.y2, 160);
    body += (body.empty() ? "" : " ") + line.text;
  }
  EXPECT_EQ(body, "one two three four five six seven eight");
}

TEST(TextPlacement, AMarkdownPageHasItsPlainTextUnplaced) {
  const pdf::PageText text = page_text_layer(0, json("# Title\n\nFirst paragraph."));
  EXPECT_TRUE(text.lines.empty());
  EXPECT_EQ(text.unplaced_lines, (std::vector<std::string>{"Title", "First paragraph."}));
}

}  // namespace
}  // namespace visor::ocr

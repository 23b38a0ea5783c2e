#include <gtest/gtest.h>

#include "ocr/remote/dots_output.hpp"
#include "ocr/remote/lighton_output.hpp"
#include "ocr/remote/smart_resize.hpp"

namespace visor::ocr::remote {
namespace {

using nlohmann::json;

TEST(SmartResizeTest, MatchesTheReferenceExamples) {
  EXPECT_EQ(*smart_resize({1700, 2200}), (ImageSize{1708, 2212}));  // Letter at 200 DPI
  EXPECT_EQ(*smart_resize({1654, 2339}), (ImageSize{1652, 2352}));  // A4 at 200 DPI
  EXPECT_EQ(*smart_resize({5100, 6600}), (ImageSize{2940, 3808}));  // Letter at 600 DPI, downscaled
}

TEST(SmartResizeTest, KeepsSidesMultiplesOf28AndAreaInBounds) {
  for (const ImageSize size : {ImageSize{20, 30}, ImageSize{612, 792}, ImageSize{9000, 9000}, ImageSize{50, 5000}}) {
    const auto resized = smart_resize(size);
    ASSERT_TRUE(resized.ok());
    EXPECT_EQ(resized->width % 28, 0);
    EXPECT_EQ(resized->height % 28, 0);
    EXPECT_GE(static_cast<double>(resized->width) * resized->height, 3136);
    EXPECT_LE(static_cast<double>(resized->width) * resized->height, 11289600);
  }
}

TEST(SmartResizeTest, RefusesExtremeAspectRatios) {
  EXPECT_FALSE(smart_resize({10, 2100}).ok());
  EXPECT_FALSE(smart_resize({0, 100}).ok());
}

TEST(FitLongestSideTest, ScalesTheLongestSideTo1540) {
  EXPECT_EQ(fit_longest_side(612, 792, 1540), (ImageSize{1190, 1540}));
  EXPECT_EQ(fit_longest_side(842, 595, 1540), (ImageSize{1540, 1088}));
}

TEST(DotsOutputTest, ParsesAValidReplyUnchanged) {
  auto parsed = parse_dots_output(R"([{"bbox": [1, 2, 3, 4], "category": "Title", "text": "A"},
                                      {"bbox": [5, 6, 7, 8], "category": "Picture"}])");
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->repaired);
  ASSERT_EQ(parsed->elements.size(), 2u);
  EXPECT_EQ(parsed->elements[0]["text"], "A");
}

TEST(DotsOutputTest, StripsACodeFence) {
  auto parsed = parse_dots_output("```json\n[{\"bbox\": [1, 2, 3, 4], \"category\": \"Text\", \"text\": \"x\"}]\n```");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->elements.size(), 1u);
}

TEST(DotsOutputTest, CutsATruncatedReplyAtTheLastCompleteElement) {
  auto parsed = parse_dots_output(R"([{"bbox": [1, 2, 3, 4], "category": "Text", "text": "one"},
    {"bbox": [5, 6, 7, 8], "category": "Text", "text": "two"}, {"bbox": [9, 10, 11, 12], "category": "Te)");
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->repaired);
  ASSERT_EQ(parsed->elements.size(), 2u);
  EXPECT_EQ(parsed->elements[1]["text"], "two");
}

TEST(DotsOutputTest, InsertsMissingCommasBetweenObjects) {
  auto parsed = parse_dots_output(R"([{"bbox": [1, 2, 3, 4], "category": "Text", "text": "a"}
    {"bbox": [5, 6, 7, 8], "category": "Text", "text": "b"}])");
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->repaired);
  EXPECT_EQ(parsed->elements.size(), 2u);
}

TEST(DotsOutputTest, ForcesTheArrayWrapper) {
  auto parsed = parse_dots_output(R"({"bbox": [1, 2, 3, 4], "category": "Text", "text": "a"},
    {"bbox": [5, 6, 7, 8], "category": "Text", "text": "b"})");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->elements.size(), 2u);
}

TEST(DotsOutputTest, KeepsObjectsThatParseOnTheirOwn) {
  auto parsed = parse_dots_output(R"([{"bbox": [1, 2, 3, 4], "category": "Text", "text": "a"}, garbage,
    {"bbox": [5, 6, 7, 8], "category": "Text", "text": "b {not} \"quoted\""}, {broken}])");
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->elements.size(), 2u);
  EXPECT_EQ(parsed->elements[1]["text"], "b {not} \"quoted\"");
}

TEST(DotsOutputTest, DropsRepetitionsOfAModelStuckInALoop) {
  json reply = json::array();
  reply.push_back({{"bbox", {0, 0, 10, 10}}, {"category", "Title"}, {"text", "T"}});
  for (int i = 0; i < 8; ++i) {
    reply.push_back({{"bbox", {0, 20 + i * 10, 10, 25 + i * 10}}, {"category", "Text"}, {"text", "..."}});
  }
  reply.push_back({{"bbox", {0, 0, 10, 10}}, {"category", "Text"}, {"text", "same box again"}});
  reply.push_back(reply[0]);
  auto parsed = parse_dots_output(reply.dump());
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->repaired);
  ASSERT_EQ(parsed->elements.size(), 2u);
  EXPECT_EQ(parsed->elements[0]["text"], "T");
  EXPECT_EQ(parsed->elements[1]["text"], "...");
}

TEST(DotsOutputTest, KeepsAPairRepeatedFewerThanFiveTimesAfterItsFirst) {
  json reply = json::array();
  for (int i = 0; i < 5; ++i) reply.push_back({{"bbox", {0, i * 10, 10, i * 10 + 5}}, {"category", "Text"}, {"text", "x"}});
  EXPECT_EQ(parse_dots_output(reply.dump())->elements.size(), 5u);
}

TEST(DotsOutputTest, ProseIsAnErrorAndAnEmptyReplyIsAnEmptyPage) {
  EXPECT_FALSE(parse_dots_output("I cannot read this image.").ok());
  EXPECT_TRUE(parse_dots_output("").ok());
  EXPECT_TRUE(parse_dots_output("[]")->elements.empty());
}

TEST(MapDotsElementsTest, ScalesBoxesBackToThePage) {
  const json elements = json::parse(R"([{"bbox": [854, 1106, 1708, 2212], "category": "Text", "text": "x"}])");
  const json mapped = map_dots_elements(elements, {1708, 2212}, {1700, 2200});
  EXPECT_EQ(mapped[0]["bbox"], json({850, 1100, 1700, 2200}));
  const json down = map_dots_elements(json::parse(R"([{"bbox": [294, 381, 588, 762], "category": "Text"}])"),
                                      {2940, 3808}, {5100, 6600});
  EXPECT_EQ(down[0]["bbox"], json({510, 660, 1020, 1321}));
}

TEST(MapDotsElementsTest, ClampsDropsPictureTextFlagsUnknownAndSkipsBadBoxes) {
  const json elements = json::parse(R"([
    {"bbox": [-5, 0, 5000, 10], "category": "Text", "text": "wide"},
    {"bbox": [0, 0, 10, 10], "category": "Picture", "text": "should go"},
    {"bbox": [0, 0, 10], "category": "Text", "text": "bad box"},
    {"bbox": [0, 0, 10, 10], "category": "Chart", "text": "odd"}])");
  const json mapped = map_dots_elements(elements, {100, 100}, {100, 100});
  ASSERT_EQ(mapped.size(), 3u);
  EXPECT_EQ(mapped[0]["bbox"], json({0, 0, 100, 10}));
  EXPECT_FALSE(mapped[1].contains("text"));
  EXPECT_EQ(mapped[2]["category"], "Chart");
  EXPECT_EQ(mapped[2]["unknown_category"], true);
  EXPECT_FALSE(mapped[0].contains("unknown_category"));
}

TEST(LightOnOutputTest, UnescapesMathDelimiters) {
  EXPECT_EQ(repair_escaped_math(R"(Energy \$E = mc^2\$ and \$\$x\$\$)"), "Energy $E = mc^2$ and $$x$$");
  EXPECT_EQ(repair_escaped_math("no math here \\ ok"), "no math here \\ ok");
}

}  // namespace
}  // namespace visor::ocr::remote

#include <gtest/gtest.h>

#include "client/submit_settings.hpp"

namespace visor::client {
namespace {

SubmitArguments minimal() {
  SubmitArguments arguments;
  arguments.files = {"a.pdf", "b.png"};
  arguments.server = "http://localhost:8003/";
  return arguments;
}

std::string usage_error(const SubmitArguments& arguments) {
  auto settings = read_submit_settings(arguments);
  EXPECT_FALSE(settings.ok());
  return settings.ok() ? "" : settings.error().message;
}

TEST(SubmitSettingsTest, DefaultsLeaveTheJobParametersToTheServer) {
  const auto settings = read_submit_settings(minimal());
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->server.url, "http://localhost:8003");
  EXPECT_FALSE(settings->job.model || settings->job.dpi || settings->job.ocr_mode || settings->job.pages);
  EXPECT_EQ(settings->formats, std::vector{OutputFormat::markdown});
  EXPECT_EQ(settings->output_dir, ".");
  EXPECT_EQ(settings->parallel, kDefaultParallel);
}

TEST(SubmitSettingsTest, GivenValuesAreKept) {
  auto arguments = minimal();
  arguments.model = "lightonocr";
  arguments.dpi = "300";
  arguments.ocr_mode = "text";
  arguments.pages = "1-3,7";
  arguments.formats = {"json", "pdf,txt"};
  arguments.output_dir = "out";
  arguments.parallel = "2";
  arguments.api_key = "k";
  const auto settings = read_submit_settings(arguments);
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->job.model, "lightonocr");
  EXPECT_EQ(settings->job.dpi, "300");
  EXPECT_EQ(settings->job.ocr_mode, "text");
  EXPECT_EQ(settings->job.pages, "1-3,7");
  EXPECT_EQ(settings->formats.size(), 3U);
  EXPECT_EQ(settings->output_dir, "out");
  EXPECT_EQ(settings->parallel, 2);
  EXPECT_EQ(settings->server.api_key, "k");
}

TEST(SubmitSettingsTest, EachUsageErrorSaysWhatIsWrong) {
  auto arguments = minimal();
  arguments.files.clear();
  EXPECT_EQ(usage_error(arguments), "No files to submit");

  arguments = minimal();
  arguments.server.clear();
  EXPECT_NE(usage_error(arguments).find("--server is required"), std::string::npos);
  arguments.server = "localhost:8003";
  EXPECT_NE(usage_error(arguments).find("http:// or https://"), std::string::npos);

  arguments = minimal();
  arguments.model = "tesseract";
  EXPECT_EQ(usage_error(arguments), "--model must be one of dotsocr, lightonocr, got 'tesseract'");

  arguments = minimal();
  arguments.ocr_mode = "fast";
  EXPECT_EQ(usage_error(arguments), "--ocr-mode must be one of auto, ocr, text, got 'fast'");

  arguments = minimal();
  arguments.dpi = "50";
  EXPECT_NE(usage_error(arguments).find("--dpi"), std::string::npos);

  arguments = minimal();
  arguments.formats = {"html"};
  EXPECT_NE(usage_error(arguments).find("'html'"), std::string::npos);

  for (const char* parallel : {"0", "65", "four"}) {
    arguments = minimal();
    arguments.parallel = parallel;
    EXPECT_NE(usage_error(arguments).find("--parallel"), std::string::npos) << parallel;
  }

  arguments = minimal();
  arguments.files = {"x/a.pdf", "y/a.pdf"};
  EXPECT_NE(usage_error(arguments).find("x/a.pdf and y/a.pdf"), std::string::npos);
}

}  // namespace
}  // namespace visor::client

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "client/output_files.hpp"
#include "support/test_dir.hpp"

namespace visor::client {
namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(OutputNamesTest, StemThenTheFormatsSuffix) {
  EXPECT_EQ(output_file_name("in/report.pdf", OutputFormat::markdown), "report.md");
  EXPECT_EQ(output_file_name("in/report.pdf", OutputFormat::plain_text), "report.txt");
  EXPECT_EQ(output_file_name("in/report.pdf", OutputFormat::result_json), "report.json");
  // Never report.pdf, which may be the input itself.
  EXPECT_EQ(output_file_name("report.pdf", OutputFormat::searchable_pdf), "report.ocr.pdf");
  EXPECT_EQ(output_file_name("scan.2024.tiff", OutputFormat::markdown), "scan.2024.md");
  EXPECT_EQ(output_file_name("README", OutputFormat::markdown), "README.md");
}

TEST(OutputFormatsTest, RepeatedAndCommaSeparatedInFirstNamedOrder) {
  auto formats = parse_output_formats({"pdf,md", "json", "md"});
  ASSERT_TRUE(formats.ok());
  EXPECT_EQ(*formats, (std::vector{OutputFormat::searchable_pdf, OutputFormat::markdown, OutputFormat::result_json}));
}

TEST(OutputFormatsTest, MarkdownWhenNoneNamed) {
  EXPECT_EQ(*parse_output_formats({}), std::vector{OutputFormat::markdown});
}

TEST(OutputFormatsTest, UnknownOrEmptyNameIsRefused) {
  const auto unknown = parse_output_formats({"md,docx"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("'docx'"), std::string::npos);
  EXPECT_FALSE(parse_output_formats({"md,"}).ok());
}

TEST(OutputNamesTest, InputsWithTheSameStemClash) {
  EXPECT_TRUE(check_distinct_outputs({"a/report.pdf", "b/summary.pdf", "report2.pdf"}).ok());
  const auto clash = check_distinct_outputs({"a/report.pdf", "x.pdf", "b/report.png"});
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.error().message.find("a/report.pdf and b/report.png"), std::string::npos);
}

TEST(AtomicWriteTest, ReplacesTheFileAndLeavesNothingElse) {
  const test::TestDir dir("client-write");
  const auto path = dir / "out.md";
  ASSERT_TRUE(write_file_atomically(path, "first").ok());
  ASSERT_TRUE(write_file_atomically(path, "second").ok());
  EXPECT_EQ(read_text(path), "second");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()), 1);
}

TEST(AtomicWriteTest, MissingDirectoryIsAnErrorNamingThePath) {
  const test::TestDir dir("client-write");
  const auto path = dir / "absent" / "out.md";
  const auto written = write_file_atomically(path, "x");
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.error().message.find(path.string()), std::string::npos);
}

}  // namespace
}  // namespace visor::client

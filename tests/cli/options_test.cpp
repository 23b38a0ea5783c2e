#include <gtest/gtest.h>

#include <cstdlib>

#include "cli/options.hpp"

namespace visor::cli {
namespace {

const std::vector<OptionSpec> kSpecs = {
    {"port", "8003", "port"},
    {"max-upload", "100MiB", "limit"},
    {"data", "", "dir"},
    {"help", "", "help", true},
};

Result<ParsedOptions> parse(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  return parse_options(kSpecs, static_cast<int>(argv.size()), argv.data(), 0);
}

TEST(OptionsTest, DefaultsApplyWithoutFlags) {
  ::unsetenv("VISOR_PORT");
  auto options = parse({});
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->get("port"), "8003");
  EXPECT_FALSE(options->has("data"));
}

TEST(OptionsTest, FlagsAcceptSpaceOrEqualsAndCollectPositionals) {
  auto options = parse({"--port", "9000", "--max-upload=5MiB", "file.pdf", "--help"});
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->get("port"), "9000");
  EXPECT_EQ(options->get("max-upload"), "5MiB");
  EXPECT_TRUE(options->has("help"));
  EXPECT_EQ(options->positional(), std::vector<std::string>{"file.pdf"});
}

TEST(OptionsTest, EnvironmentOverridesDefaultAndFlagOverridesEnvironment) {
  ::setenv("VISOR_PORT", "7000", 1);
  EXPECT_EQ(parse({})->get("port"), "7000");
  EXPECT_EQ(parse({"--port", "7001"})->get("port"), "7001");
  ::unsetenv("VISOR_PORT");
}

TEST(OptionsTest, UnknownFlagAndMissingValueAreErrors) {
  EXPECT_FALSE(parse({"--prot", "1"}).ok());
  EXPECT_FALSE(parse({"--port"}).ok());
}

TEST(OptionsTest, EnvironmentNamesAreUpperSnakeCase) {
  EXPECT_EQ(env_name("max-pages-per-job"), "VISOR_MAX_PAGES_PER_JOB");
}

TEST(OptionsTest, HelpListsDefaultAndEnvironmentVariable) {
  const std::string help = format_help("visor serve", kSpecs);
  EXPECT_NE(help.find("--max-upload VALUE"), std::string::npos);
  EXPECT_NE(help.find("(default: 100MiB) [VISOR_MAX_UPLOAD]"), std::string::npos);
}

}  // namespace
}  // namespace visor::cli

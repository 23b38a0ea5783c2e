// The parent side of the document tool: what the API gets for each way its
// child process can end. Scripts stand in for `visor document`, spawned for
// each request; the real child and its fork server are exercised by the
// end-to-end tests, the fork server itself by tests/util/process_test.cpp.

#include "pdf/document_tool.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace visor::pdf {
namespace {

using namespace std::chrono_literals;

class DocumentToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("visor-tool-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A tool whose child is a shell script with `body`; it is called as
  // `script document inspect|page --name=value...`.
  std::unique_ptr<DocumentTool> tool_running(const std::string& body, std::chrono::milliseconds timeout = 10s) {
    const auto script = dir_ / ("child" + std::to_string(++scripts_) + ".sh");
    std::ofstream(script) << "#!/bin/sh\n" << body << "\n";
    ::chmod(script.c_str(), 0755);
    DocumentToolOptions options;
    options.executable = script.string();
    options.fork_server = false;  // a script cannot serve forks
    options.timeout = timeout;
    options.memory_bytes = 1ull << 30;
    options.timeout_setting = "--document-timeout";
    return make_isolated_document_tool(options);
  }

  std::filesystem::path dir_;
  int scripts_ = 0;
};

TEST_F(DocumentToolTest, AnAnswerIsThePageCountFormatAndImageDpi) {
  auto tool = tool_running(R"(cat >/dev/null; printf '{"pages": 3, "format": "TIFF", "image_dpi": 300}')");
  auto facts = tool->inspect("II*\0...");
  ASSERT_TRUE(facts.ok()) << facts.error().message;
  EXPECT_EQ(facts->page_count, 3);
  EXPECT_EQ(facts->format, "TIFF");
  EXPECT_EQ(facts->image_dpi, 300);
}

TEST_F(DocumentToolTest, AnAnswerWithoutTheFormatIsAnInternalError) {
  auto tool = tool_running(R"(cat >/dev/null; printf '{"pages": 3}')");
  auto facts = tool->inspect("%PDF-1.7 ...");
  ASSERT_FALSE(facts.ok());
  EXPECT_EQ(facts.error().kind, Error::Kind::internal);
}

TEST_F(DocumentToolTest, TheChildGetsTheDocumentOnStdinAndTheRequestAsArguments) {
  // Echoes its arguments, then its input, as the "PNG".
  auto tool = tool_running(R"(echo "$@"; cat)");
  PageImageRequest request;
  request.page_index = 4;
  request.dpi = 150;
  request.line_width = 3;
  request.annotations.push_back({1, 2, 3, 4, "Title", 0xFF0000});
  auto png = tool->page_png("%PDF-bytes", request);
  ASSERT_TRUE(png.ok()) << png.error().message;
  const std::string annotations = R"([{"label":"Title","rgb":16711680,"x1":1,"x2":3,"y1":2,"y2":4}])";
  EXPECT_EQ(*png, "document page --page=4 --dpi=150 --line-width=3 --annotations-bytes=" +
                      std::to_string(annotations.size()) +
                      " --max-pixels=200000000 --max-pixels-setting= --memory-setting=\n" + annotations +
                      "%PDF-bytes");
}

TEST_F(DocumentToolTest, AnErrorAnswerKeepsItsKindAndWords) {
  auto tool = tool_running(
      R"(cat >/dev/null; printf '{"kind": "bad_input", "message": "The PDF is encrypted and needs a password"}'; exit 3)");
  auto facts = tool->inspect("%PDF");
  ASSERT_FALSE(facts.ok());
  EXPECT_EQ(facts.error().kind, Error::Kind::bad_input);
  EXPECT_EQ(facts.error().message, "The PDF is encrypted and needs a password");
}

TEST_F(DocumentToolTest, ACrashIsABadInputNamingTheSignal) {
  auto tool = tool_running("cat >/dev/null; kill -SEGV $$");
  auto facts = tool->inspect("%PDF");
  ASSERT_FALSE(facts.ok());
  EXPECT_EQ(facts.error().kind, Error::Kind::bad_input);
  EXPECT_EQ(facts.error().message, "The PDF could not be read: the parser crashed (signal 11, Segmentation fault)");
}

TEST_F(DocumentToolTest, AChildOverItsTimeIsKilledAndTheErrorNamesTheSetting) {
  auto tool = tool_running("exec sleep 30", 1s);
  const auto started = std::chrono::steady_clock::now();
  auto facts = tool->inspect("%PDF");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  ASSERT_FALSE(facts.ok());
  EXPECT_EQ(facts.error().kind, Error::Kind::bad_input);
  EXPECT_EQ(facts.error().message,
            "The PDF could not be read: reading it took longer than 1 second (--document-timeout)");
}

TEST_F(DocumentToolTest, AnyOtherEndIsAnInternalErrorWithTheChildsFirstWords) {
  auto tool = tool_running("echo 'visor: unknown command' >&2; exit 2");
  auto facts = tool->inspect("%PDF");
  ASSERT_FALSE(facts.ok());
  EXPECT_EQ(facts.error().kind, Error::Kind::internal);
  EXPECT_EQ(facts.error().message, "The document reader failed (exited with status 2): visor: unknown command");
  auto garbled = tool_running("printf 'not json'")->inspect("%PDF");
  ASSERT_FALSE(garbled.ok());
  EXPECT_EQ(garbled.error().kind, Error::Kind::internal);
}

TEST_F(DocumentToolTest, AMissingProgramIsUnavailable) {
  DocumentToolOptions options;
  options.executable = (dir_ / "missing").string();
  auto facts = make_isolated_document_tool(options)->inspect("%PDF");
  ASSERT_FALSE(facts.ok());
  EXPECT_EQ(facts.error().kind, Error::Kind::unavailable);
}

}  // namespace
}  // namespace visor::pdf

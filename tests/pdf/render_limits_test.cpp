// The limits a Context puts on rendering untrusted pages: pixels per page,
// a deadline, the process's memory and a memory budget of its own.

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <cstdlib>
#include <fstream>
#include <stop_token>
#include <thread>

#include "pdf/document.hpp"
#include "support/test_pdf.hpp"

namespace visor::pdf {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::shared_ptr<const std::string> bytes(std::string s) { return std::make_shared<const std::string>(std::move(s)); }

// A Letter page that fills the whole page `fills` times: slow to render at
// 200 DPI (about a millisecond per fill), quick to parse.
std::string slow_page_pdf(int fills) {
  std::string content;
  for (int i = 0; i < fills; ++i) content += "0 0 612 792 re f\n";
  return test::make_pdf({{content}});
}

TEST(RenderLimitsTest, APageOverThePixelLimitIsRefusedNamingItsSizeDpiPixelsAndTheSetting) {
  RenderLimits limits;
  limits.max_pixels = 1e6;
  limits.max_pixels_setting = "--max-page-pixels";
  Context context(limits);
  auto document = Document::open(context, bytes(test::make_pdf({{test::text_page("A")}})));
  ASSERT_TRUE(document.ok());
  auto refused = document->render(0, 200, 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, Error::Kind::too_large);
  EXPECT_EQ(refused.error().message,
            "Page 1 is 8.5 × 11 in; at 200 DPI that is 3.7 million pixels, over the limit of 1 million per page; "
            "raise --max-page-pixels to allow more");
  // 612 × 792 = 0.48 million pixels at 72 DPI: under the limit.
  EXPECT_TRUE(document->render(0, 72, 1).ok());
  EXPECT_FALSE(document->render_to_size(0, 1001, 1000, 3).ok());
  EXPECT_TRUE(document->render_to_size(0, 1000, 1000, 3).ok());
}

TEST(RenderLimitsTest, TheDefaultLimitRefusesA200InchPageAt600DpiBeforeAllocatingIt) {
  Context context;
  auto document = Document::open(context, bytes(test::make_pdf({{test::text_page("A"), 14400, 14400}})));
  ASSERT_TRUE(document.ok());
  auto refused = document->render(0, 600, 3);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message,
            "Page 1 is 200 × 200 in; at 600 DPI that is 14.4 billion pixels, over the limit of 200 million per page");
}

TEST(RenderLimitsTest, AMemoryBudgetMakesMuPdfAllocationsOverItAnOutOfMemoryError) {
  RenderLimits limits;
  limits.max_memory_bytes = 64 << 20;
  limits.memory_setting = "--some-memory";
  Context context(limits);
  auto document = Document::open(context, bytes(test::make_pdf({{test::text_page("A")}})));
  ASSERT_TRUE(document.ok());
  // 8.5 × 11 in at 600 DPI in RGB: a 101 MB pixmap.
  auto refused = document->render(0, 600, 3);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, Error::Kind::too_large);
  EXPECT_NE(refused.error().message.find("Out of memory"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("raise --some-memory"), std::string::npos) << refused.error().message;
  // What fits the budget still renders, again and again: memory comes back
  // (a 25 MB pixmap each time, 100 MB in all).
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(document->render(0, 300, 3).ok()) << "render " << i + 1;
}

TEST(RenderLimitsTest, RenderingStopsAtTheDeadline) {
  Context context;
  auto document = Document::open(context, bytes(slow_page_pdf(100'000)));
  ASSERT_TRUE(document.ok());
  const auto started = Clock::now();
  auto stopped = document->render(0, 200, 1, started + 200ms);
  const auto elapsed = Clock::now() - started;
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().kind, Error::Kind::timeout);
  EXPECT_GE(elapsed, 200ms);
  EXPECT_LT(elapsed, 5s) << "the render did not stop at its deadline";

  auto late = document->render_to_size(0, 1000, 1000, 3, Clock::now() - 1ms);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().kind, Error::Kind::timeout);
}

TEST(RenderLimitsTest, RenderingStopsWhenAnotherThreadAbandonsIt) {
  Context context;
  auto document = Document::open(context, bytes(slow_page_pdf(100'000)));
  ASSERT_TRUE(document.ok());
  std::stop_source abandon;
  std::thread canceller([&abandon] {
    std::this_thread::sleep_for(200ms);
    abandon.request_stop();
  });
  const auto started = Clock::now();
  auto stopped = document->render(0, 200, 1, kNoDeadline, abandon.get_token());
  const auto elapsed = Clock::now() - started;
  canceller.join();
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().kind, Error::Kind::conflict);
  EXPECT_LT(elapsed, 5s) << "the render did not stop when abandoned";

  auto already = document->render_to_size(0, 1000, 1000, 3, kNoDeadline, abandon.get_token());
  ASSERT_FALSE(already.ok());
  EXPECT_EQ(already.error().kind, Error::Kind::conflict);
}

TEST(RenderLimitsTest, APageThatRendersBeforeItsDeadlineIsComplete) {
  Context context;
  auto document = Document::open(context, bytes(slow_page_pdf(3)));
  ASSERT_TRUE(document.ok());
  auto image = document->render(0, 72, 1, Clock::now() + 1h);
  ASSERT_TRUE(image.ok()) << image.error().message;
  // Filled black: every pixel was drawn.
  for (std::uint8_t value : image->pixels) ASSERT_EQ(value, 0);
}

// This process's address space now, from /proc (VmSize, in kB).
std::uint64_t address_space_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmSize:", 0) == 0) return std::strtoull(line.c_str() + 7, nullptr, 10) * 1024;
  }
  return 0;
}

// Renders a 1200 DPI RGB page (400 MB) with the address space capped at
// 64 MiB above what the process uses; exits 0 when that fails with the
// out-of-memory error, 1 otherwise.
[[noreturn]] void render_without_memory() {
  RenderLimits limits;
  limits.memory_setting = "--worker-memory";
  Context context(limits);
  auto document = Document::open(context, bytes(test::make_pdf({{test::text_page("A")}})));
  const rlimit cap{address_space_bytes() + (64 << 20), RLIM_INFINITY};
  setrlimit(RLIMIT_AS, &cap);
  auto image = document->render(0, 1200, 3);
  const bool as_expected = !image.ok() && image.error().kind == Error::Kind::too_large &&
                           image.error().message.rfind("Out of memory (", 0) == 0 &&
                           image.error().message.ends_with("; raise --worker-memory to allow more");
  if (!as_expected) std::fprintf(stderr, "%s", image.ok() ? "rendered" : image.error().message.c_str());
  std::exit(as_expected ? 0 : 1);
}

TEST(RenderLimitsDeathTest, RunningOutOfMemoryIsAnErrorNamingTheMemorySetting) {
  // A death test runs it in a child process, whose limit dies with it.
  EXPECT_EXIT(render_without_memory(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace visor::pdf

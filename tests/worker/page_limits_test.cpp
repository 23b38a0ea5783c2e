// The limits on one page's local work: pixels, time (cooperative, and the
// watchdog that ends a worker process stuck past its deadline), memory.

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "jobs/job_store.hpp"
#include "jobs/store_factory.hpp"
#include "support/test_pdf.hpp"
#include "support/test_job.hpp"
#include "util/time.hpp"
#include "worker/page_processor.hpp"
#include "worker/worker_pool.hpp"

namespace visor::worker {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::shared_ptr<const std::string> pdf_bytes(std::vector<test::TestPage> pages) {
  return std::make_shared<const std::string>(test::make_pdf(pages));
}

// A Letter page that fills the whole page `fills` times: minutes to render
// at 200 DPI with 100,000 fills, yet quick to parse.
std::shared_ptr<const std::string> slow_pdf(int fills) {
  std::string content;
  for (int i = 0; i < fills; ++i) content += "0 0 612 792 re f\n";
  return pdf_bytes({{content}});
}

// The embedded engine's part in a test: it records what it saw, then
// behaves as told.
class TestEngine final : public ocr::Engine {
 public:
  enum class Behaviour { answer, wait_for_deadline, hang, fail_transiently };

  explicit TestEngine(Behaviour behaviour, const LocalDeadline* posted = nullptr)
      : behaviour_(behaviour), posted_(posted) {}

  std::string name() const override { return "test"; }
  bool renders_itself(ocr::Model) const override { return renders_itself_; }

  Result<json> recognize(const ocr::PageInput& page, ocr::Model) override {
    ++calls;
    saw_deadline = page.deadline;
    if (posted_ != nullptr) saw_posted = posted_->current();
    switch (behaviour_) {
      case Behaviour::answer:
        break;
      case Behaviour::wait_for_deadline:
        // As Tesseract does: stop at the deadline and say so.
        while (Clock::now() < page.deadline) std::this_thread::sleep_for(1ms);
        return Error::timeout("stopped at the deadline");
      case Behaviour::hang:
        // As a C library deep in one operation: ignores every deadline.
        for (;;) std::this_thread::sleep_for(1h);
      case Behaviour::fail_transiently:
        return Error::timeout("the inference server did not answer within 5 minutes");
    }
    if (renders_itself_) {
      auto image = page.renderer->render_to_size(1000, 1000, 3);
      if (!image) return image.take_error();
    }
    return json::array();
  }

  bool renders_itself_ = false;
  int calls = 0;
  Clock::time_point saw_deadline{};
  std::optional<Clock::time_point> saw_posted;

 private:
  Behaviour behaviour_;
  const LocalDeadline* posted_;
};

PageLimits limits_of(double max_pixels, std::chrono::milliseconds timeout) {
  PageLimits limits;
  limits.max_pixels = max_pixels;
  limits.timeout = timeout;
  return limits;
}

TEST(PageLimitsTest, APageOverThePixelLimitIsAPageErrorNamingTheFlag) {
  TestEngine engine(TestEngine::Behaviour::answer);
  PageProcessor processor(engine, limits_of(1e6, 5min));
  auto document = processor.open(pdf_bytes({{test::text_page("Big")}}));
  ASSERT_TRUE(document.ok());
  auto result = processor.process(*document, 0, 200, ocr::Model::dotsocr, ocr::OcrMode::ocr);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, Error::Kind::too_large);
  EXPECT_EQ(result.error().message,
            "Page 1 is 8.5 × 11 in; at 200 DPI that is 3.7 million pixels, over the limit of 1 million per page; "
            "raise --max-page-pixels to allow more");
  EXPECT_EQ(engine.calls, 0);
  EXPECT_TRUE(processor.process(*document, 0, 72, ocr::Model::dotsocr, ocr::OcrMode::ocr).ok());
}

// A 700-byte PDF whose page draws a JBIG2 image that asks for a
// 100,000 × 100,000 page: decoding it allocates 1.25 GB at once.
std::shared_ptr<const std::string> jbig2_bomb_pdf() {
  const auto be32 = [](std::uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
  };
  const std::string page_info = be32(100000) + be32(100000) + be32(0) + be32(0) + std::string(3, '\0');
  const std::string jbig2 = be32(0) + "\x30" + std::string(1, '\0') + "\x01" + be32(page_info.size()) + page_info +
                            be32(1) + "\x31" + std::string(1, '\0') + "\x01" + be32(0);
  const std::string content = "q 612 0 0 792 0 0 cm /Im0 Do Q";
  const std::vector<std::string> objects = {
      "<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im0 5 0 R >> >> "
      "/Contents 4 0 R >>",
      "<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content + "\nendstream",
      "<< /Type /XObject /Subtype /Image /Width 1000 /Height 1000 /ColorSpace /DeviceGray /BitsPerComponent 1 "
      "/Filter /JBIG2Decode /Length " + std::to_string(jbig2.size()) + " >>\nstream\n" + jbig2 + "\nendstream"};
  std::string pdf = "%PDF-1.4\n";
  std::string xref = "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (std::size_t i = 0; i < objects.size(); ++i) {
    char entry[21];
    std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", pdf.size());
    xref += entry;
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const std::size_t at = pdf.size();
  pdf += xref + "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(at) + "\n%%EOF\n";
  return std::make_shared<const std::string>(std::move(pdf));
}

TEST(PageLimitsTest, ADecompressionBombIsAPageErrorAtOnceNamingThePageBudget) {
  TestEngine engine(TestEngine::Behaviour::answer);
  PageProcessor processor(engine, limits_of(200e6, 5min));  // page_memory: auto, the default
  auto bomb = processor.open(jbig2_bomb_pdf());
  ASSERT_TRUE(bomb.ok()) << bomb.error().message;
  const auto started = Clock::now();
  auto result = processor.process(*bomb, 0, 200, ocr::Model::dotsocr, ocr::OcrMode::ocr);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, Error::Kind::too_large);
  EXPECT_EQ(result.error().message,
            "Page 1 needed more memory than its budget of 1 GiB (64 bytes a pixel of its 1700 x 2200 image at 200 "
            "DPI, at least 1 GiB) (--page-memory); a page this costly is usually a decompression bomb");
  EXPECT_LT(Clock::now() - started, 10s);
  // The next page has a budget of its own.
  auto plain = processor.open(pdf_bytes({{test::text_page("Fine")}}));
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(processor.process(*plain, 0, 200, ocr::Model::dotsocr, ocr::OcrMode::ocr).ok());
}

TEST(PageLimitsTest, ThePageBudgetGrowsWithThePagesPixels) {
  EXPECT_EQ(page_memory_budget(1700, 2200), kMinPageMemory);
  EXPECT_EQ(page_memory_budget(5100, 6600), std::uint64_t{5100} * 6600 * kPageMemoryPerPixel);
}

TEST(PageLimitsTest, TheEngineGetsTheDeadlineAndItIsPostedWhileItWorks) {
  LocalDeadline posted;
  TestEngine engine(TestEngine::Behaviour::answer, &posted);
  PageProcessor processor(engine, limits_of(200e6, 1h), &posted);
  auto document = processor.open(pdf_bytes({{test::text_page("A")}}));
  ASSERT_TRUE(document.ok());
  const auto before = Clock::now();
  ASSERT_TRUE(processor.process(*document, 0, 72, ocr::Model::dotsocr, ocr::OcrMode::ocr).ok());
  EXPECT_GE(engine.saw_deadline, before + 1h);
  EXPECT_LE(engine.saw_deadline, Clock::now() + 1h);
  ASSERT_TRUE(engine.saw_posted.has_value());
  EXPECT_EQ(*engine.saw_posted, engine.saw_deadline);
  EXPECT_FALSE(posted.current().has_value()) << "still posted after the page";
}

TEST(PageLimitsTest, AnEngineStoppedAtTheDeadlineIsAPageTimeoutThatIsNotRetried) {
  TestEngine engine(TestEngine::Behaviour::wait_for_deadline);
  PageProcessor processor(engine, limits_of(200e6, 300ms));
  auto document = processor.open(pdf_bytes({{test::text_page("A")}}));
  ASSERT_TRUE(document.ok());
  auto result = processor.process(*document, 0, 72, ocr::Model::dotsocr, ocr::OcrMode::ocr);
  ASSERT_FALSE(result.ok());
  // too_large, not timeout: the worker retries only unavailable and timeout.
  EXPECT_EQ(result.error().kind, Error::Kind::too_large);
  EXPECT_EQ(result.error().message, "Page 1 took longer than the per-page limit of 300 ms (--page-timeout)");
}

TEST(PageLimitsTest, ARenderPastTheDeadlineIsAPageTimeout) {
  TestEngine engine(TestEngine::Behaviour::answer);
  PageProcessor processor(engine, limits_of(200e6, 2s));
  auto document = processor.open(slow_pdf(100'000));
  ASSERT_TRUE(document.ok());
  const auto started = Clock::now();
  auto result = processor.process(*document, 0, 200, ocr::Model::dotsocr, ocr::OcrMode::ocr);
  EXPECT_LT(Clock::now() - started, 10s) << "the render did not stop";
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "Page 1 took longer than the per-page limit of 2 seconds (--page-timeout)");
  EXPECT_EQ(engine.calls, 0);
}

TEST(PageLimitsTest, ARemoteModelsOwnTimeoutStaysRetryable) {
  TestEngine engine(TestEngine::Behaviour::fail_transiently);
  engine.renders_itself_ = true;
  PageProcessor processor(engine, limits_of(200e6, 5min));
  auto document = processor.open(pdf_bytes({{test::text_page("A")}}));
  ASSERT_TRUE(document.ok());
  auto result = processor.process(*document, 0, 72, ocr::Model::dotsocr, ocr::OcrMode::ocr);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, Error::Kind::timeout);
}

TEST(PageLimitsTest, ARemoteModelsRenderPastTheDeadlineIsAPageTimeout) {
  TestEngine engine(TestEngine::Behaviour::answer);
  engine.renders_itself_ = true;
  PageProcessor processor(engine, limits_of(200e6, 1s));
  auto document = processor.open(slow_pdf(100'000));
  ASSERT_TRUE(document.ok());
  auto result = processor.process(*document, 0, 200, ocr::Model::dotsocr, ocr::OcrMode::ocr);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "Page 1 took longer than the per-page limit of 1 second (--page-timeout)");
}

// --- The watchdog ---------------------------------------------------------

class WatchdogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("visor-watchdog-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    auto store = jobs::open_job_store({jobs::StoreLocation::Kind::sqlite, (dir_ / "visor.db").string()}, {});
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    const jobs::NewJob job = test::new_job(1, util::now_ms(), pdf_bytes({{test::text_page("Stuck")}}));
    ASSERT_TRUE(store_->create_job(job).ok());
    job_id_ = job.id;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::unique_ptr<jobs::JobStore> store_;
  std::string job_id_;
};

// Runs a pool whose engine never returns; only the watchdog can end this.
// Opens its own connection: SQLite connections must not cross a fork.
[[noreturn]] void run_stuck_pool(const std::filesystem::path& db) {
  auto store = jobs::open_job_store({jobs::StoreLocation::Kind::sqlite, db.string()}, {});
  if (!store) std::exit(1);
  WorkerOptions options;
  options.threads = 1;
  options.node_id = "test:1";
  options.idle_poll = 10ms;
  options.page_limits.timeout = 200ms;
  options.overrun_grace = 200ms;
  WorkerPool pool(**store, [] { return std::make_unique<TestEngine>(TestEngine::Behaviour::hang); }, options);
  std::this_thread::sleep_for(30s);
  std::exit(0);  // the watchdog never fired
}

TEST_F(WatchdogTest, APageStuckPastItsDeadlineIsRecordedAndItsProcessEnds) {
  EXPECT_EXIT(run_stuck_pool(dir_ / "visor.db"), ::testing::ExitedWithCode(kOverrunExitStatus), "worker.page_overran");
  auto pages = store_->read_pages(job_id_);
  ASSERT_TRUE(pages.ok());
  ASSERT_EQ(pages->size(), 1u);
  EXPECT_EQ(json::parse((*pages)[0].result_json),
            json({{"status", "error"},
                  {"error", "Page 1 took longer than the per-page limit of 200 ms (--page-timeout)"}}));
  auto job = store_->get_job(job_id_);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->status, jobs::JobStatus::completed);
}

}  // namespace
}  // namespace visor::worker

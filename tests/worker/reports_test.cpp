#include <gtest/gtest.h>
#include <unistd.h>

#include <array>

#include "worker/reports.hpp"

namespace visor::worker {
namespace {

struct Recorded final : PoolObserver {
  void page_processed(const std::string& model, const std::string& engine, std::string_view outcome,
                      double seconds) override {
    pages.push_back(model + "|" + engine + "|" + std::string(outcome) + "|" + std::to_string(seconds));
  }
  void busy_workers(int count) override { busy.push_back(count); }
  std::vector<std::string> pages;
  std::vector<int> busy;
};

std::string reported(const std::function<void(LineReporter&)>& report) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  {
    LineReporter reporter(fds[1]);
    report(reporter);
  }
  ::close(fds[1]);
  std::string out;
  std::array<char, 256> buffer;
  for (ssize_t n; (n = ::read(fds[0], buffer.data(), buffer.size())) > 0;) out.append(buffer.data(), n);
  ::close(fds[0]);
  return out;
}

TEST(ReportsTest, LinesRoundTripThroughAPipe) {
  const std::string lines = reported([](LineReporter& r) {
    r.busy_workers(1);
    r.page_processed("dotsocr", "tesseract 5.3.0", "success", 1.5);
  });
  EXPECT_EQ(lines, "busy\t1\npage\tdotsocr\ttesseract 5.3.0\tsuccess\t1.500000\n");
  Recorded recorded;
  std::size_t start = 0;
  for (auto end = lines.find('\n'); end != std::string::npos; end = lines.find('\n', start)) {
    EXPECT_TRUE(replay_report(std::string_view(lines).substr(start, end - start), recorded));
    start = end + 1;
  }
  EXPECT_EQ(recorded.busy, std::vector<int>{1});
  EXPECT_EQ(recorded.pages, std::vector<std::string>{"dotsocr|tesseract 5.3.0|success|1.500000"});
}

TEST(ReportsTest, TabsInNamesCannotSplitALine) {
  const std::string lines = reported([](LineReporter& r) { r.page_processed("a\tb", "c\nd", "success", 0); });
  EXPECT_EQ(lines, "page\ta b\tc d\tsuccess\t0.000000\n");
}

TEST(ReportsTest, OtherLinesAreNotReports) {
  Recorded recorded;
  EXPECT_FALSE(replay_report("hello", recorded));
  EXPECT_FALSE(replay_report("busy\tmany", recorded));
  EXPECT_FALSE(replay_report("page\tonly\ttwo", recorded));
  EXPECT_TRUE(recorded.busy.empty() && recorded.pages.empty());
}

TEST(ReportsTest, BusyCountsAreSummedAcrossProcessesAndWithdrawnWhenOneEnds) {
  Recorded recorded;
  ProcessReports reports(recorded);
  reports.replay(10, "busy\t1");
  reports.replay(11, "busy\t2");
  reports.replay(10, "busy\t0");
  reports.replay(11, "page\tdotsocr\te\terror\t0.5");
  EXPECT_EQ(recorded.busy, (std::vector<int>{1, 3, 2}));
  EXPECT_EQ(recorded.pages.size(), 1u);
}

}  // namespace
}  // namespace visor::worker

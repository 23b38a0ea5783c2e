#include <gtest/gtest.h>

#include <sstream>

#include "client/progress.hpp"
#include "client/progress_display.hpp"

namespace visor::client {
namespace {

FileState state(Phase phase, int done = 0, int total = 0, std::string detail = {}) {
  return {"scan.pdf", phase, done, total, std::move(detail)};
}

TEST(LogLineTest, SaysThePhaseThePagesAndWhy) {
  EXPECT_EQ(log_line(state(Phase::uploading)), "scan.pdf: uploading");
  EXPECT_EQ(log_line(state(Phase::submitted, 0, 5, "fc-1")), "scan.pdf: submitted as job fc-1, 5 pages");
  EXPECT_EQ(log_line(state(Phase::submitted, 0, 1, "fc-1")), "scan.pdf: submitted as job fc-1, 1 page");
  EXPECT_EQ(log_line(state(Phase::running, 2, 5)), "scan.pdf: running, 2/5 pages");
  EXPECT_EQ(log_line(state(Phase::reconnecting, 2, 5, "connection reset")),
            "scan.pdf: reconnecting, 2/5 pages: connection reset");
  EXPECT_EQ(log_line(state(Phase::done, 5, 5, "wrote scan.md")), "scan.pdf: done: wrote scan.md");
  EXPECT_EQ(log_line(state(Phase::failed, 0, 0, "refused (HTTP 400)")), "scan.pdf: failed: refused (HTTP 400)");
}

TEST(ProgressRowTest, ShowsTheShareOfPagesDoneAsABar) {
  EXPECT_EQ(progress_row(state(Phase::running, 2, 5), 80),
            "scan.pdf                   [=======>            ]       2/5 running");
  EXPECT_EQ(progress_row(state(Phase::pending, 0, 5), 80),
            "scan.pdf                   [                    ]       0/5 pending");
  EXPECT_EQ(progress_row(state(Phase::done, 5, 5, "wrote scan.md"), 80),
            "scan.pdf                   [====================]       5/5 done: wrote scan.md");
  EXPECT_EQ(progress_row(state(Phase::uploading), 80),
            "scan.pdf                   [                    ]           uploading");
}

TEST(ProgressRowTest, NeverReachesTheLastColumn) {
  const auto row = progress_row(state(Phase::failed, 0, 0, std::string(200, 'x')), 100);
  EXPECT_EQ(row.size(), 99U);
  EXPECT_TRUE(row.ends_with("xxx..."));
}

TEST(ProgressRowTest, LongNamesAreCutBetweenCharacters) {
  FileState s = state(Phase::running, 1, 2);
  s.name = "r\xc3\xa9sum\xc3\xa9-" + std::string(60, 'e') + ".pdf";  // "résumé-eee…"
  const auto row = progress_row(s, 80);
  // The name column of an 80-column row is 26 characters wide.
  EXPECT_TRUE(row.starts_with("r\xc3\xa9sum\xc3\xa9-" + std::string(16, 'e') + "... [")) << row;
}

TEST(LogDisplayTest, PrintsALinePerChangeOnly) {
  std::ostringstream out;
  const auto display = make_log_display(out);
  display->show(0, state(Phase::running, 1, 3));
  display->show(0, state(Phase::running, 1, 3));  // a heartbeat: nothing new
  display->show(1, {"other.png", Phase::running, 1, 3, {}});
  display->show(0, state(Phase::running, 2, 3));
  EXPECT_EQ(out.str(),
            "scan.pdf: running, 1/3 pages\n"
            "other.png: running, 1/3 pages\n"
            "scan.pdf: running, 2/3 pages\n");
}

TEST(TerminalDisplayTest, RedrawsLiveRowsInPlaceAndLeavesFinishedOnesAbove) {
  std::ostringstream out;
  const auto display = make_terminal_display(out, 40);
  const FileState a{"a.pdf", Phase::running, 1, 2, {}};
  const FileState b{"b.pdf", Phase::pending, 0, 1, {}};
  display->show(0, a);
  display->show(1, b);
  display->show(1, b);  // unchanged: no redraw
  display->show(0, {"a.pdf", Phase::done, 2, 2, {}});
  const std::string row_a = progress_row(a, 40) + "\n";
  const std::string row_b = progress_row(b, 40) + "\n";
  const std::string done_a = progress_row({"a.pdf", Phase::done, 2, 2, {}}, 40) + "\n";
  EXPECT_EQ(out.str(), "\x1b[J" + row_a +                     // first row
                           "\r\x1b[1A\x1b[J" + row_a + row_b +  // up one, both rows
                           "\r\x1b[2A\x1b[J" + done_a + row_b);  // up two, a stays above b
}

}  // namespace
}  // namespace visor::client

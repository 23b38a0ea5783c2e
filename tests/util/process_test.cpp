#include "util/process.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "util/alarm.hpp"

namespace visor::util {
namespace {

using namespace std::chrono_literals;

// /bin/sh runs each script; `read` first makes it wait for stdin, which the
// runner writes only after the limits are set.
Result<ChildRun> shell(const std::string& script, std::vector<std::string_view> input = {},
                       ChildLimits limits = {}) {
  return run_bounded({"/bin/sh", "-c", script}, input, limits);
}

TEST(RunBoundedTest, FeedsEveryInputPartToStdinAndCollectsStdout) {
  const std::string big(300'000, 'x');  // more than a socket buffer holds
  auto run = shell("cat", {"head:", big, "", ":tail"});
  ASSERT_TRUE(run.ok()) << run.error().message;
  EXPECT_TRUE(run->succeeded()) << describe_exit(run->wait_status);
  EXPECT_EQ(run->output, "head:" + big + ":tail");
}

TEST(RunBoundedTest, ReportsExitStatusAndStderr) {
  auto run = shell("echo trouble >&2; exit 3");
  ASSERT_TRUE(run.ok());
  EXPECT_FALSE(run->succeeded());
  EXPECT_TRUE(run->exited_with(3));
  EXPECT_EQ(run->crash_signal(), 0);
  EXPECT_EQ(run->errors, "trouble\n");
}

TEST(RunBoundedTest, ReportsTheSignalOfACrash) {
  auto run = shell("read line; kill -SEGV $$", {"go\n"});
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->crash_signal(), SIGSEGV);
  EXPECT_FALSE(run->timed_out);
  EXPECT_EQ(describe_exit(run->wait_status), "killed by signal 11 (Segmentation fault)");
}

TEST(RunBoundedTest, KillsAChildThatOutlivesTheWallTime) {
  ChildLimits limits;
  limits.wall_time = 200ms;
  const auto started = std::chrono::steady_clock::now();
  auto run = shell("sleep 37 & sleep 37", {}, limits);
  ASSERT_TRUE(run.ok());
  EXPECT_TRUE(run->timed_out);
  EXPECT_FALSE(run->succeeded());
  EXPECT_EQ(run->crash_signal(), 0) << "our own kill is not a crash";
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  // The kill reached the whole group: no sleep is left holding the pipes.
  auto left = shell("pgrep -f 'sleep 3[7]' || true");
  EXPECT_EQ(left->output, "");
}

TEST(RunBoundedTest, KillsAChildThatClosesItsOutputButGoesOnRunning) {
  ChildLimits limits;
  limits.wall_time = 200ms;
  auto run = shell("exec >&- 2>&-; exec sleep 31", {}, limits);
  ASSERT_TRUE(run.ok());
  EXPECT_TRUE(run->timed_out);
}

TEST(RunBoundedTest, KillsAChildWhoseOutputGrowsBeyondTheLimit) {
  ChildLimits limits;
  limits.max_output_bytes = 1000;
  auto run = shell("yes", {}, limits);
  ASSERT_TRUE(run.ok());
  EXPECT_TRUE(run->output_too_large);
  EXPECT_EQ(run->output.size(), 1000u);
  EXPECT_FALSE(run->succeeded());
}

TEST(RunBoundedTest, SetsAddressSpaceAndCpuLimitsBeforeTheInputArrives) {
  ChildLimits limits;
  limits.address_space_bytes = 512ull << 20;
  limits.cpu_time = 7s;
  auto run = shell("read line; ulimit -v; ulimit -t; ulimit -c", {"go\n"}, limits);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->output, "524288\n7\n0\n");
}

TEST(RunBoundedTest, AChildOverItsCpuTimeIsKilledBySigxcpu) {
  ChildLimits limits;
  limits.cpu_time = 1s;
  limits.wall_time = 20s;
  auto run = shell("read line; while :; do :; done", {"go\n"}, limits);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->crash_signal(), SIGXCPU) << describe_exit(run->wait_status);
}

TEST(RunBoundedTest, AChildThatStopsReadingEarlyDoesNotHurtTheParent) {
  // Writing to a closed pipe would raise SIGPIPE and end this test binary.
  const std::string big(4 << 20, 'x');
  auto run = shell("exit 0", {big});
  ASSERT_TRUE(run.ok());
  EXPECT_TRUE(run->succeeded());
}

TEST(RunBoundedTest, AMissingProgramIsUnavailable) {
  auto run = run_bounded({"/nonexistent/program"}, {}, {});
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().kind, Error::Kind::unavailable);
  EXPECT_NE(run.error().message.find("/nonexistent/program"), std::string::npos);
}

TEST(SpawnProcessTest, TheChildInheritsNoDescriptorAboveStderr) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);  // not close-on-exec: only the spawn closes it
  auto run = shell("ls /proc/self/fd");
  ::close(fds[0]);
  ::close(fds[1]);
  ASSERT_TRUE(run.ok());
  // 0, 1, 2 and the descriptor ls opens to read the directory.
  EXPECT_EQ(run->output, "0\n1\n2\n3\n");
}

TEST(AlarmTest, RingsOnceAtTheDeadline) {
  std::atomic<int> rings{0};
  const auto started = Alarm::Clock::now();
  Alarm alarm(started + 50ms, [&] { ++rings; });
  while (rings.load() == 0) std::this_thread::sleep_for(1ms);
  EXPECT_GE(Alarm::Clock::now() - started, 50ms);
  EXPECT_TRUE(alarm.rang());
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(rings.load(), 1);
}

TEST(AlarmTest, NeverRingsWhenDestroyedBeforeTheDeadline) {
  std::atomic<int> rings{0};
  const auto started = Alarm::Clock::now();
  {
    Alarm alarm(started + 1h, [&] { ++rings; });
    EXPECT_FALSE(alarm.rang());
  }
  EXPECT_EQ(rings.load(), 0);
  EXPECT_LT(Alarm::Clock::now() - started, 5s);
  Alarm never(Alarm::Clock::time_point::max(), [&] { ++rings; });
  EXPECT_FALSE(never.rang());
}

}  // namespace
}  // namespace visor::util

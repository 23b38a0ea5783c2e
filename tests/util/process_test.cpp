#include "util/process.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "util/alarm.hpp"
#include "util/fork_server.hpp"

namespace visor::util {
namespace {

using namespace std::chrono_literals;

ForkServer& shared_fork_server() {
  static ForkServer server({VISOR_FORK_SERVER_HELPER});
  return server;
}

// Every RunBoundedTest runs once with each way of starting children: a
// spawn per child, and a fork server whose children exec the program.
class RunBoundedTest : public ::testing::TestWithParam<std::string> {
 protected:
  ChildLauncher& launcher() { return GetParam() == "spawn" ? spawn_launcher() : shared_fork_server(); }

  // /bin/sh runs each script; `read` first makes it wait for stdin, which
  // the runner writes only after the limits are set.
  Result<ChildRun> shell(const std::string& script, std::vector<std::string_view> input = {},
                         ChildLimits limits = {}) {
    return run_bounded(launcher(), {"/bin/sh", "-c", script}, input, limits);
  }
};

INSTANTIATE_TEST_SUITE_P(Launchers, RunBoundedTest, ::testing::Values("spawn", "fork_server"),
                         [](const ::testing::TestParamInfo<std::string>& param_info) { return param_info.param; });

Result<ChildRun> shell(const std::string& script) { return run_bounded({"/bin/sh", "-c", script}, {}, {}); }

// The processes whose command line matches `pattern` (pgrep -f) two
// seconds after they were told to end, or once none is left.
std::string processes_left_after_kill(const std::string& pattern) {
  const std::string list = "pgrep -f '" + pattern + "' || true";
  for (int i = 0; i < 100 && !shell(list)->output.empty(); ++i) std::this_thread::sleep_for(20ms);
  return shell(list)->output;
}

TEST_P(RunBoundedTest, FeedsEveryInputPartToStdinAndCollectsStdout) {
  const std::string big(300'000, 'x');  // more than a socket buffer holds
  auto run = shell("cat", {"head:", big, "", ":tail"});
  ASSERT_TRUE(run.ok()) << run.error().message;
  EXPECT_TRUE(run->succeeded()) << describe_exit(run->wait_status);
  EXPECT_EQ(run->output, "head:" + big + ":tail");
}

TEST_P(RunBoundedTest, ReportsExitStatusAndStderr) {
  auto run = shell("echo trouble >&2; exit 3");
  ASSERT_TRUE(run.ok());
  EXPECT_FALSE(run->succeeded());
  EXPECT_TRUE(run->exited_with(3));
  EXPECT_EQ(run->crash_signal(), 0);
  EXPECT_EQ(run->errors, "trouble\n");
}

TEST_P(RunBoundedTest, ReportsTheSignalOfACrash) {
  auto run = shell("read line; kill -SEGV $$", {"go\n"});
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->crash_signal(), SIGSEGV);
  EXPECT_FALSE(run->timed_out);
  EXPECT_EQ(describe_exit(run->wait_status), "killed by signal 11 (Segmentation fault)");
}

TEST_P(RunBoundedTest, KillsAChildThatOutlivesTheWallTime) {
  ChildLimits limits;
  limits.wall_time = 200ms;
  const auto started = std::chrono::steady_clock::now();
  // Each variant sleeps its own time: ctest runs them side by side.
  const std::string seconds = GetParam() == "spawn" ? "37" : "38";
  auto run = shell("sleep " + seconds + " & sleep " + seconds, {}, limits);
  ASSERT_TRUE(run.ok());
  EXPECT_TRUE(run->timed_out);
  EXPECT_FALSE(run->succeeded());
  EXPECT_EQ(run->crash_signal(), 0) << "our own kill is not a crash";
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  // The kill reached the whole group: no sleep is left holding the pipes.
  auto left = shell("pgrep -f 'sleep 3[" + seconds.substr(1) + "]' || true");
  EXPECT_EQ(left->output, "");
}

TEST_P(RunBoundedTest, KillsAChildThatClosesItsOutputButGoesOnRunning) {
  ChildLimits limits;
  limits.wall_time = 200ms;
  auto run = shell("exec >&- 2>&-; exec sleep 31", {}, limits);
  ASSERT_TRUE(run.ok());
  EXPECT_TRUE(run->timed_out);
}

TEST_P(RunBoundedTest, KillsAChildWhoseOutputGrowsBeyondTheLimit) {
  ChildLimits limits;
  limits.max_output_bytes = 1000;
  auto run = shell("yes", {}, limits);
  ASSERT_TRUE(run.ok());
  EXPECT_TRUE(run->output_too_large);
  EXPECT_EQ(run->output.size(), 1000u);
  EXPECT_FALSE(run->succeeded());
}

TEST_P(RunBoundedTest, SetsAddressSpaceAndCpuLimitsBeforeTheInputArrives) {
  ChildLimits limits;
  limits.address_space_bytes = 512ull << 20;
  limits.cpu_time = 7s;
  auto run = shell("read line; ulimit -v; ulimit -t; ulimit -c", {"go\n"}, limits);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->output, "524288\n7\n0\n");
}

TEST_P(RunBoundedTest, AChildOverItsCpuTimeIsKilledBySigxcpu) {
  ChildLimits limits;
  limits.cpu_time = 1s;
  limits.wall_time = 20s;
  auto run = shell("read line; while :; do :; done", {"go\n"}, limits);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->crash_signal(), SIGXCPU) << describe_exit(run->wait_status);
}

TEST_P(RunBoundedTest, AChildThatStopsReadingEarlyDoesNotHurtTheParent) {
  // Writing to a closed pipe would raise SIGPIPE and end this test binary.
  const std::string big(4 << 20, 'x');
  auto run = shell("exit 0", {big});
  ASSERT_TRUE(run.ok());
  EXPECT_TRUE(run->succeeded());
}

TEST(SpawnLauncherTest, AMissingProgramIsUnavailable) {
  auto run = run_bounded({"/nonexistent/program"}, {}, {});
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().kind, Error::Kind::unavailable);
  EXPECT_NE(run.error().message.find("/nonexistent/program"), std::string::npos);
}

TEST_P(RunBoundedTest, TheChildInheritsNoDescriptorAboveStderr) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);  // not close-on-exec: only the spawn closes it
  auto run = shell("ls /proc/self/fd");
  ::close(fds[0]);
  ::close(fds[1]);
  ASSERT_TRUE(run.ok());
  // 0, 1, 2 and the descriptor ls opens to read the directory.
  EXPECT_EQ(run->output, "0\n1\n2\n3\n");
}

TEST(ForkServerTest, EachRequestGetsAFreshProcess) {
  ForkServer server({VISOR_FORK_SERVER_HELPER});
  auto first = run_bounded(server, {"/bin/sh", "-c", "echo $$"}, {}, {});
  auto second = run_bounded(server, {"/bin/sh", "-c", "echo $$"}, {}, {});
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first->output, second->output);
  EXPECT_NE(first->output, std::to_string(server.helper_pid()) + "\n");
}

TEST(ForkServerTest, AHelperThatDiedIsReplacedWithinTheNextRequest) {
  ForkServer server({VISOR_FORK_SERVER_HELPER});
  ASSERT_TRUE(run_bounded(server, {"/bin/true"}, {}, {}).ok());
  const pid_t first_helper = server.helper_pid();
  ASSERT_GT(first_helper, 0);
  ::kill(first_helper, SIGKILL);  // not waiting for it: the request finds out
  auto run = run_bounded(server, {"/bin/sh", "-c", "echo again"}, {}, {});
  ASSERT_TRUE(run.ok()) << run.error().message;
  EXPECT_EQ(run->output, "again\n");
  EXPECT_NE(server.helper_pid(), first_helper);
}

TEST(ForkServerTest, AChildWhoseHelperDiesIsUnavailableAndDiesToo) {
  ForkServer server({VISOR_FORK_SERVER_HELPER});
  ASSERT_TRUE(run_bounded(server, {"/bin/true"}, {}, {}).ok());
  const pid_t helper = server.helper_pid();
  std::thread killer([helper] {
    std::this_thread::sleep_for(300ms);
    ::kill(helper, SIGKILL);
  });
  ChildLimits limits;
  limits.wall_time = 20s;
  const auto started = std::chrono::steady_clock::now();
  auto run = run_bounded(server, {"/bin/sh", "-c", "exec sleep 41"}, {}, limits);
  killer.join();
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().kind, Error::Kind::unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  // Its parent-death signal ended the orphan.
  EXPECT_EQ(processes_left_after_kill("sleep 4[1]"), "");
}

TEST(ForkServerTest, AStuckHelperFailsItsRequestsInsteadOfHangingThem) {
  ForkServer server({VISOR_FORK_SERVER_HELPER});
  ASSERT_TRUE(run_bounded(server, {"/bin/true"}, {}, {}).ok());
  const pid_t helper = server.helper_pid();
  std::thread stopper([helper] {
    std::this_thread::sleep_for(100ms);
    ::kill(helper, SIGSTOP);  // it will neither kill the child nor report
  });
  ChildLimits limits;
  limits.wall_time = 300ms;
  const auto started = std::chrono::steady_clock::now();
  auto run = run_bounded(server, {"/bin/sh", "-c", "exec sleep 43"}, {}, limits);
  stopper.join();
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().kind, Error::Kind::unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s);
  // The stuck helper was replaced, and its child died with it.
  auto next = run_bounded(server, {"/bin/sh", "-c", "echo fine"}, {}, {});
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next->output, "fine\n");
  EXPECT_NE(server.helper_pid(), helper);
  EXPECT_EQ(processes_left_after_kill("sleep 4[3]"), "");
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

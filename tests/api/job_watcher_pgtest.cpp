// The job watcher behind SSE streams on the shared store: a change made
// through another node is seen at once through the store's notification,
// and through the fallback poll when notifications are lost.

#include <gtest/gtest.h>

#include <thread>

#include "api/job_watcher.hpp"
#include "jobs/store_factory.hpp"
#include "support/forwarding_store.hpp"
#include "support/test_job.hpp"
#include "support/postgres_server.hpp"
#include "util/time.hpp"

namespace visor::api {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class JobWatcherOnPostgresTest : public ::testing::Test {
 protected:
  std::unique_ptr<jobs::JobStore> open() { return test::PostgresServer::open_store(uri_); }

  jobs::Job submit(jobs::JobStore& store) {
    const jobs::NewJob job = test::new_job(1, util::now_ms());
    EXPECT_TRUE(store.create_job(job).ok());
    return *store.get_job(job.id);
  }

  // How long until `watch` shows the job cancelled; a minute when never.
  static Clock::duration until_cancelled_is_seen(const JobWatch& watch) {
    const auto start = Clock::now();
    while (Clock::now() - start < 60s) {
      const auto latest = watch.latest();
      if (latest && latest->ok() && latest->value().status == jobs::JobStatus::cancelled) return Clock::now() - start;
      std::this_thread::sleep_for(10ms);
    }
    return 60s;
  }

  std::string uri_ = test::PostgresServer::shared().new_database();
};

TEST_F(JobWatcherOnPostgresTest, AChangeThroughAnotherNodeIsSeenAtOnce) {
  auto here = open();
  auto elsewhere = open();
  JobWatcher watcher(*here, 60s);  // polling alone would take a minute
  const jobs::Job job = submit(*elsewhere);
  const auto watch = watcher.watch(job.id, job);
  std::this_thread::sleep_for(300ms);  // the watcher is listening
  ASSERT_TRUE(elsewhere->cancel_job(job.id, "stop", util::now_ms()).ok());
  EXPECT_LT(until_cancelled_is_seen(*watch), 3s);
}

// The watcher asks the store to announce the progress of the jobs it
// watches, which it announces for no others.
TEST_F(JobWatcherOnPostgresTest, APageFinishedOnAnotherNodeIsSeenAtOnce) {
  auto here = open();
  auto elsewhere = open();
  JobWatcher watcher(*here, 60s);
  const jobs::Job job = submit(*elsewhere);
  const auto watch = watcher.watch(job.id, job);
  std::this_thread::sleep_for(300ms);
  auto task = elsewhere->lease_page({.worker_id = "w", .now_ms = util::now_ms()});
  ASSERT_TRUE(task.ok() && task->has_value());
  const auto finished_at = Clock::now();
  ASSERT_TRUE(elsewhere->complete_page(**task, "{}", "e", util::now_ms()).ok());
  while (Clock::now() - finished_at < 10s) {
    const auto latest = watch->latest();
    if (latest && latest->ok() && latest->value().pages_done == 1) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_LT(Clock::now() - finished_at, 3s);
}

TEST_F(JobWatcherOnPostgresTest, WhenNotificationsAreLostTheFallbackPollSeesTheChange) {
  auto target = open();
  test::DeafStore here(*target);
  auto elsewhere = open();
  JobWatcher watcher(here, 1s);
  const jobs::Job job = submit(*elsewhere);
  const auto watch = watcher.watch(job.id, job);
  ASSERT_TRUE(elsewhere->cancel_job(job.id, "stop", util::now_ms()).ok());
  const auto seen_after = until_cancelled_is_seen(*watch);
  EXPECT_LT(seen_after, 3s);
}

}  // namespace
}  // namespace visor::api

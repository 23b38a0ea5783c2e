#include <gtest/gtest.h>

#include "jobs/maintenance.hpp"
#include "jobs/store_factory.hpp"
#include "support/test_dir.hpp"
#include "support/test_job.hpp"

namespace visor::jobs {
namespace {

using namespace std::chrono_literals;

// Maintenance driven by hand (run_once with made-up times): its own thread
// ticks once an hour, so never during a test.
class MaintenanceTest : public ::testing::Test {
 protected:
  std::unique_ptr<JobStore> open() {
    auto store = open_job_store({StoreLocation::Kind::sqlite, (dir_ / "visor.db").string()},
                                StoreOptions{.result_ttl = 60s, .max_attempts = 3});
    EXPECT_TRUE(store.ok()) << (store ? "" : store.error().message);
    return std::move(store).value();
  }

  static MaintenanceOptions options(std::string node) {
    return {.node_id = std::move(node), .tick = 1h, .leadership_ttl = 10000ms, .retention_interval = 1000ms};
  }

  std::string submit(JobStore& store, std::int64_t now) {
    const NewJob job = test::new_job(1, now);
    EXPECT_TRUE(store.create_job(job).ok());
    return job.id;
  }

  test::TestDir dir_{"visor-maintenance"};
};

TEST_F(MaintenanceTest, OneNodeAtATimeLeadsAndAnotherTakesOverWhenItStops) {
  auto store_a = open();
  auto store_b = open();
  Maintenance a(*store_a, options("node-a"));
  Maintenance b(*store_b, options("node-b"));
  EXPECT_TRUE(a.run_once(1000));
  EXPECT_FALSE(b.run_once(1000));
  EXPECT_TRUE(a.run_once(2000));
  EXPECT_FALSE(b.run_once(11999));  // a renewed at 2000, until 12000
  EXPECT_TRUE(b.run_once(12000));   // a went quiet
  EXPECT_FALSE(a.run_once(12001));
}

TEST_F(MaintenanceTest, TheLeaderGivesBackThePagesOfAWorkerSilentForItsOwnTimeout) {
  auto store = open();
  const std::string id = submit(*store, 1000);
  ASSERT_TRUE(store->register_worker({"far:7", "far", 1, 1000, 3000ms}, 1000).ok());
  auto task = store->lease_page({.worker_id = "far:7/0", .now_ms = 1000, .lease_duration = 60000ms});
  ASSERT_TRUE(task.ok() && task->has_value());
  Maintenance maintenance(*store, options("node-a"));
  ASSERT_TRUE(maintenance.run_once(3999));  // silent for 2999 ms: alive
  EXPECT_FALSE(store->lease_page({.worker_id = "near:1/0", .now_ms = 3999})->has_value());
  ASSERT_TRUE(maintenance.run_once(4000));  // silent for its 3 s: dead
  auto again = store->lease_page({.worker_id = "near:1/0", .now_ms = 4000});
  ASSERT_TRUE(again.ok() && again->has_value()) << "the page waited for its 60 s lease";
  EXPECT_EQ((*again)->job_id, id);
  EXPECT_EQ((*again)->attempt, 2);
  EXPECT_EQ(store->complete_page(**task, "{}", "e", 4001).error().kind, Error::Kind::conflict);
}

TEST_F(MaintenanceTest, TheLeaderExpiresFinishedJobsOnSchedule) {
  auto store = open();
  const std::string id = submit(*store, 1000);
  auto task = store->lease_page({.worker_id = "w", .now_ms = 1000});
  ASSERT_TRUE(task.ok() && task->has_value());
  ASSERT_TRUE(store->complete_page(**task, "{}", "e", 2000).ok());
  Maintenance maintenance(*store, options("node-a"));
  ASSERT_TRUE(maintenance.run_once(2000 + 59999));  // retention runs: not expired yet
  EXPECT_EQ(store->get_job(id)->status, JobStatus::completed);
  ASSERT_TRUE(maintenance.run_once(2000 + 60500));  // too soon for the next round
  EXPECT_EQ(store->get_job(id)->status, JobStatus::completed);
  ASSERT_TRUE(maintenance.run_once(2000 + 60999));  // a retention interval later
  EXPECT_EQ(store->get_job(id)->status, JobStatus::expired);
  EXPECT_EQ(store->read_document(id).error().kind, Error::Kind::not_found);
}

TEST_F(MaintenanceTest, ANodeThatDoesNotLeadTouchesNothing) {
  auto store = open();
  const std::string id = submit(*store, 1000);
  auto task = store->lease_page({.worker_id = "w", .now_ms = 1000});
  ASSERT_TRUE(task.ok() && task->has_value());
  ASSERT_TRUE(store->complete_page(**task, "{}", "e", 2000).ok());
  ASSERT_TRUE(store->hold_leadership("maintenance", "elsewhere", 100000, 10000ms).ok());
  Maintenance maintenance(*store, options("node-a"));
  EXPECT_FALSE(maintenance.run_once(100000));
  EXPECT_EQ(store->get_job(id)->status, JobStatus::completed);
}

}  // namespace
}  // namespace visor::jobs

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "jobs/job_store.hpp"
#include "support/test_dir.hpp"

namespace visor::jobs {
namespace {

using namespace std::chrono_literals;

class SqliteJobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = open(StoreOptions{.result_ttl = 60s, .max_attempts = 3}); }

  std::unique_ptr<JobStore> open(StoreOptions options) {
    auto store = open_sqlite_job_store((dir_ / "visor.db").string(), options);
    EXPECT_TRUE(store.ok()) << (store ? "" : store.error().message);
    return std::move(store).value();
  }

  std::string submit(int pages, std::int64_t now = 1000) {
    NewJob job;
    job.id = new_job_id(now);
    job.filename = "a.pdf";
    job.model = "dotsocr";
    job.dpi = 150;
    job.total_pages = pages;
    job.submitted_at = now;
    job.document = std::make_shared<const std::string>("%PDF-1.4 bytes\0with nul", 22);
    EXPECT_TRUE(store_->create_job(job).ok());
    return job.id;
  }

  PageTask lease(std::int64_t now, int max_in_flight = 8, std::chrono::milliseconds duration = 1000ms) {
    auto task = store_->lease_page({.worker_id = "w", .now_ms = now, .lease_duration = duration,
                                    .max_pages_in_flight_per_job = max_in_flight});
    EXPECT_TRUE(task.ok());
    EXPECT_TRUE(task->has_value());
    return **task;
  }

  bool nothing_to_lease(std::int64_t now, int max_in_flight = 8) {
    auto task = store_->lease_page({.worker_id = "w", .now_ms = now, .max_pages_in_flight_per_job = max_in_flight});
    return task.ok() && !task->has_value();
  }

  test::TestDir dir_{"visor-store-test"};
  std::unique_ptr<JobStore> store_;  // after dir_: closed before it is removed
};

TEST_F(SqliteJobStoreTest, CreatedJobIsPendingWithItsDocument) {
  const std::string id = submit(3);
  auto job = store_->get_job(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->status, JobStatus::pending);
  EXPECT_EQ(job->total_pages, 3);
  EXPECT_EQ(job->pages_done, 0);
  auto document = store_->read_document(id);
  ASSERT_TRUE(document.ok());
  EXPECT_EQ((*document)->size(), 22u);
}

TEST_F(SqliteJobStoreTest, UnknownJobIsNotFound) {
  auto job = store_->get_job("fc-01JCFZ8X000000000000000000");
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.error().kind, Error::Kind::not_found);
}

TEST_F(SqliteJobStoreTest, LeasingAPageMarksTheJobRunning) {
  const std::string id = submit(2);
  PageTask task = lease(2000);
  EXPECT_EQ(task.job_id, id);
  EXPECT_EQ(task.page_index, 0);
  EXPECT_EQ(task.attempt, 1);
  EXPECT_EQ(task.dpi, 150);
  EXPECT_EQ(store_->get_job(id)->status, JobStatus::running);
  EXPECT_EQ(store_->get_job(id)->started_at, 2000);
}

TEST_F(SqliteJobStoreTest, CompletingEveryPageCompletesTheJobWithResultsInPageOrder) {
  const std::string id = submit(2);
  PageTask first = lease(2000);
  PageTask second = lease(2000);
  ASSERT_TRUE(store_->complete_page(second, R"({"status":"success","data":"b"})", "e", 3000).ok());
  EXPECT_EQ(store_->get_job(id)->status, JobStatus::running);
  ASSERT_TRUE(store_->complete_page(first, R"({"status":"success","data":"a"})", "e", 4000).ok());
  auto job = store_->get_job(id);
  EXPECT_EQ(job->status, JobStatus::completed);
  EXPECT_EQ(job->pages_done, 2);
  EXPECT_EQ(job->completed_at, 4000);
  EXPECT_EQ(job->expires_at, 4000 + 60000);
  auto pages = store_->read_pages(id);
  ASSERT_TRUE(pages.ok());
  ASSERT_EQ(pages->size(), 2u);
  EXPECT_EQ((*pages)[0].result_json, R"({"status":"success","data":"a"})");
  EXPECT_EQ((*pages)[1].result_json, R"({"status":"success","data":"b"})");
  EXPECT_TRUE(nothing_to_lease(5000));
}

TEST_F(SqliteJobStoreTest, ExpiredLeaseIsTakenAgainAndTheOldHolderIsRefused) {
  submit(1);
  PageTask first = lease(2000, 8, 1000ms);
  EXPECT_TRUE(nothing_to_lease(2500));
  PageTask second = lease(3001);
  EXPECT_EQ(second.page_index, first.page_index);
  EXPECT_EQ(second.attempt, 2);
  auto late = store_->complete_page(first, "{}", "e", 3100);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().kind, Error::Kind::conflict);
  EXPECT_TRUE(store_->complete_page(second, "{}", "e", 3200).ok());
}

TEST_F(SqliteJobStoreTest, RenewedLeaseIsNotTakenOver) {
  submit(1);
  PageTask task = lease(2000, 8, 1000ms);
  ASSERT_TRUE(store_->renew_lease(task, 2900, 1000ms).ok());
  EXPECT_TRUE(nothing_to_lease(3500));
}

TEST_F(SqliteJobStoreTest, PageWhoseLeaseEndsThreeTimesBecomesAPageError) {
  const std::string id = submit(1);
  lease(1000, 8, 100ms);
  lease(2000, 8, 100ms);
  lease(3000, 8, 100ms);
  EXPECT_TRUE(nothing_to_lease(4000));
  auto job = store_->get_job(id);
  EXPECT_EQ(job->status, JobStatus::completed);
  auto pages = store_->read_pages(id);
  EXPECT_NE((*pages)[0].result_json.find(R"("status":"error")"), std::string::npos);
  EXPECT_NE((*pages)[0].result_json.find("3 attempts"), std::string::npos);
}

TEST_F(SqliteJobStoreTest, FailedPageIsRetriedThenRecordedAsAPageError) {
  const std::string id = submit(1);
  for (int attempt = 1; attempt <= 3; ++attempt) {
    PageTask task = lease(1000 * attempt);
    EXPECT_EQ(task.attempt, attempt);
    ASSERT_TRUE(store_->fail_page(task, "render \"failed\"", 1000 * attempt + 1).ok());
  }
  EXPECT_EQ(store_->get_job(id)->status, JobStatus::completed);
  EXPECT_EQ(store_->read_pages(id)->at(0).result_json, R"({"status":"error","error":"render \"failed\""})");
}

TEST_F(SqliteJobStoreTest, PagesInFlightPerJobAreCapped) {
  submit(5);
  lease(1000, 2);
  lease(1000, 2);
  EXPECT_TRUE(nothing_to_lease(1000, 2));
}

TEST_F(SqliteJobStoreTest, JobWithFewestPagesInFlightGoesFirst) {
  const std::string big = submit(10, 1000);
  const std::string small = submit(1, 2000);
  EXPECT_EQ(lease(3000).job_id, big);
  EXPECT_EQ(lease(3000).job_id, small);
}

TEST_F(SqliteJobStoreTest, FailedJobStopsLeasingAndKeepsItsReason) {
  const std::string id = submit(3);
  lease(1000);
  ASSERT_TRUE(store_->fail_job(id, "The PDF is damaged", 2000).ok());
  auto job = store_->get_job(id);
  EXPECT_EQ(job->status, JobStatus::failed);
  EXPECT_EQ(job->error, "The PDF is damaged");
  EXPECT_TRUE(nothing_to_lease(3000));
}

TEST_F(SqliteJobStoreTest, RetentionExpiresFinishedJobsAndDeletesTheirData) {
  const std::string id = submit(1);
  PageTask task = lease(1000);
  ASSERT_TRUE(store_->complete_page(task, "{}", "e", 2000).ok());
  EXPECT_EQ(effective_status(*store_->get_job(id), 2000 + 59999), JobStatus::completed);
  EXPECT_EQ(effective_status(*store_->get_job(id), 2000 + 60000), JobStatus::expired);
  EXPECT_EQ(*store_->expire_jobs(2000 + 59999), 0);
  EXPECT_EQ(*store_->expire_jobs(2000 + 60000), 1);
  EXPECT_EQ(store_->get_job(id)->status, JobStatus::expired);
  EXPECT_EQ(store_->read_document(id).error().kind, Error::Kind::not_found);
  EXPECT_EQ(store_->read_pages(id).error().kind, Error::Kind::not_found);
}

TEST_F(SqliteJobStoreTest, StateSurvivesReopeningTheFile) {
  const std::string id = submit(2);
  PageTask task = lease(1000);
  ASSERT_TRUE(store_->complete_page(task, "{}", "e", 2000).ok());
  store_.reset();
  store_ = open(StoreOptions{});
  auto job = store_->get_job(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->pages_done, 1);
  EXPECT_EQ(lease(3000).page_index, 1);
}

TEST_F(SqliteJobStoreTest, ConcurrentWorkersNeverLeaseTheSamePage) {
  submit(40);
  std::vector<std::thread> workers;
  std::mutex mutex;
  std::vector<int> seen;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      for (;;) {
        auto task = store_->lease_page({.worker_id = "w", .now_ms = 1000, .lease_duration = 60000ms,
                                        .max_pages_in_flight_per_job = 100});
        ASSERT_TRUE(task.ok()) << task.error().message;
        if (!task->has_value()) return;
        const std::lock_guard lock(mutex);
        seen.push_back((*task)->page_index);
      }
    });
  }
  for (auto& t : workers) t.join();
  std::sort(seen.begin(), seen.end());
  ASSERT_EQ(seen.size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)], i);
}

std::vector<std::string> ids_of(const JobList& list) {
  std::vector<std::string> ids;
  for (const auto& job : list.jobs) ids.push_back(job.id);
  return ids;
}

TEST_F(SqliteJobStoreTest, ListIsNewestFirstAndPagesWithTheLastId) {
  const std::string oldest = submit(1, 1000);
  const std::string middle = submit(1, 2000);
  const std::string newest = submit(1, 3000);
  auto first = store_->list_jobs({.now_ms = 5000, .limit = 2});
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(ids_of(*first), (std::vector<std::string>{newest, middle}));
  EXPECT_TRUE(first->more);
  auto second = store_->list_jobs({.now_ms = 5000, .before_id = middle, .limit = 2});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(ids_of(*second), std::vector<std::string>{oldest});
  EXPECT_FALSE(second->more);
  EXPECT_FALSE(store_->list_jobs({.now_ms = 5000, .limit = 3})->more);
}

TEST_F(SqliteJobStoreTest, ListFiltersByEffectiveStatus) {
  const std::string done = submit(1, 1000);
  const std::string waiting = submit(1, 2000);
  PageTask task = lease(2500);
  ASSERT_EQ(task.job_id, done);
  ASSERT_TRUE(store_->complete_page(task, "{}", "e", 3000).ok());
  auto with = [&](JobStatus status, std::int64_t now) {
    auto list = store_->list_jobs({.status = status, .now_ms = now});
    EXPECT_TRUE(list.ok());
    return ids_of(*list);
  };
  EXPECT_EQ(with(JobStatus::completed, 4000), std::vector<std::string>{done});
  EXPECT_EQ(with(JobStatus::pending, 4000), std::vector<std::string>{waiting});
  EXPECT_TRUE(with(JobStatus::failed, 4000).empty());
  // Past its expiry the job lists as expired before and after the sweep.
  EXPECT_TRUE(with(JobStatus::completed, 3000 + 60000).empty());
  EXPECT_EQ(with(JobStatus::expired, 3000 + 60000), std::vector<std::string>{done});
  ASSERT_EQ(*store_->expire_jobs(3000 + 60000), 1);
  EXPECT_EQ(with(JobStatus::expired, 3000 + 60000), std::vector<std::string>{done});
}

TEST_F(SqliteJobStoreTest, StatsCountJobsAndQueuedPages) {
  const std::string first = submit(3, 1000);
  submit(2, 2000);
  PageTask task = lease(2500);
  ASSERT_EQ(task.job_id, first);
  auto stats = store_->stats();
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->jobs_by_status[static_cast<std::size_t>(JobStatus::running)], 1);
  EXPECT_EQ(stats->jobs_by_status[static_cast<std::size_t>(JobStatus::pending)], 1);
  EXPECT_EQ(stats->jobs_by_status[static_cast<std::size_t>(JobStatus::completed)], 0);
  EXPECT_EQ(stats->queued_pages, 4);
  EXPECT_EQ(stats->oldest_queued_submitted_at, 1000);
  EXPECT_TRUE(store_->ping().ok());
}

TEST_F(SqliteJobStoreTest, StatsOfAnEmptyStoreAreZero) {
  auto stats = store_->stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->queued_pages, 0);
  EXPECT_EQ(stats->oldest_queued_submitted_at, 0);
}

TEST_F(SqliteJobStoreTest, LeasesOfADeadWorkerAreReleasedAndItsPageFailsOnTheLastAttempt) {
  const std::string id = submit(2);
  auto lease_as = [&](const std::string& worker, std::int64_t now) {
    auto task = store_->lease_page({.worker_id = worker, .now_ms = now, .lease_duration = 60000ms});
    EXPECT_TRUE(task.ok() && task->has_value());
    return **task;
  };
  const PageTask first = lease_as("host:41/0", 1000);
  lease_as("host:42/0", 1000);
  EXPECT_EQ(*store_->release_worker_leases("host:41/", "crashed (SIGSEGV)", 1100), 1);
  const PageTask again = lease_as("host:43/0", 1200);  // at once, not after the 60 s lease
  EXPECT_EQ(again.page_index, first.page_index);
  EXPECT_EQ(again.attempt, 2);
  EXPECT_EQ(*store_->release_worker_leases("host:43/", "crashed (SIGSEGV)", 1300), 1);
  lease_as("host:44/0", 1400);
  EXPECT_EQ(*store_->release_worker_leases("host:44/", "crashed (SIGSEGV)", 1500), 1);
  auto pages = store_->read_pages(id);
  EXPECT_EQ((*pages)[static_cast<std::size_t>(first.page_index)].result_json,
            R"j({"status":"error","error":"crashed (SIGSEGV)"})j");
  EXPECT_EQ(*store_->release_worker_leases("host:42/", "x", 1600), 1);
  EXPECT_EQ(*store_->release_worker_leases("host:42/", "x", 1700), 0);
}

TEST_F(SqliteJobStoreTest, ReturnedLeasesAreQueuedAgainWithoutCountingTheAttempt) {
  submit(1);
  auto task = store_->lease_page({.worker_id = "host:51/0", .now_ms = 1000, .lease_duration = 60000ms});
  ASSERT_TRUE(task.ok() && task->has_value());
  auto holders = store_->lease_holders();
  ASSERT_TRUE(holders.ok());
  EXPECT_EQ(*holders, std::vector<std::string>{"host:51/0"});
  EXPECT_EQ(*store_->return_worker_leases("host:52/"), 0);
  EXPECT_EQ(*store_->return_worker_leases("host:51/"), 1);
  auto again = store_->lease_page({.worker_id = "host:53/0", .now_ms = 1100, .lease_duration = 60000ms});
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->attempt, 1);
  // The first holder's late result is refused.
  EXPECT_EQ(store_->complete_page(**task, "{}", "e", 1200).error().kind, Error::Kind::conflict);
}

TEST(JobIdTest, IsFcPrefixedUlidAndValidated) {
  const std::string id = new_job_id(1730889000000);
  EXPECT_EQ(id.size(), 29u);
  EXPECT_TRUE(id.starts_with("fc-"));
  EXPECT_TRUE(is_valid_job_id(id));
  EXPECT_FALSE(is_valid_job_id("fc-"));
  EXPECT_FALSE(is_valid_job_id("fc-../../etc/passwd"));
  EXPECT_FALSE(is_valid_job_id(id.substr(3)));
  EXPECT_NE(new_job_id(1730889000000), id);
}

}  // namespace
}  // namespace visor::jobs

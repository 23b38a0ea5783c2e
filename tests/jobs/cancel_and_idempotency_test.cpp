#include <gtest/gtest.h>

#include <filesystem>

#include "jobs/job_store.hpp"
#include "support/test_dir.hpp"

namespace visor::jobs {
namespace {

using namespace std::chrono_literals;

class StoreOwnershipTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(StoreOptions{.result_ttl = 60s, .max_attempts = 3, .idempotency_window = 10s}); }

  void reopen(StoreOptions options) {
    store_.reset();
    auto store = open_sqlite_job_store((dir_ / "visor.db").string(), options);
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
  }

  NewJob job(std::string owner, std::int64_t now, std::string key = "", std::string fingerprint = "",
             std::size_t document_bytes = 16) {
    NewJob job;
    job.id = new_job_id(now);
    job.owner = std::move(owner);
    job.filename = "a.pdf";
    job.model = "dotsocr";
    job.total_pages = 2;
    job.submitted_at = now;
    job.document = std::make_shared<const std::string>(document_bytes, 'x');
    job.idempotency_key = std::move(key);
    job.fingerprint = std::move(fingerprint);
    return job;
  }

  test::TestDir dir_{"visor-ownership-test"};
  std::unique_ptr<JobStore> store_;  // after dir_: closed before it is removed
};

TEST_F(StoreOwnershipTest, CancellingDropsUnfinishedPagesAndRefusesTheLeaseHolder) {
  const NewJob created = job("", 1000);
  ASSERT_TRUE(store_->create_job(created).ok());
  auto task = store_->lease_page({.worker_id = "w", .now_ms = 1001});
  ASSERT_TRUE(task.ok() && task->has_value());

  ASSERT_TRUE(store_->cancel_job(created.id, "stop", 1002).ok());
  auto cancelled = store_->get_job(created.id);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->status, JobStatus::cancelled);
  EXPECT_EQ(cancelled->error, "stop");
  EXPECT_TRUE(cancelled->finished());
  EXPECT_EQ(cancelled->expires_at, 1002 + 60000);
  // The worker's result is refused; nothing else is leased for the job.
  EXPECT_EQ(store_->complete_page(**task, "{}", "e", 1003).error().kind, Error::Kind::conflict);
  auto next = store_->lease_page({.worker_id = "w", .now_ms = 1004});
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());
  // Again: a no-op.
  EXPECT_TRUE(store_->cancel_job(created.id, "again", 1005).ok());
  EXPECT_EQ(store_->get_job(created.id)->error, "stop");
}

TEST_F(StoreOwnershipTest, OnlyPendingOrRunningJobsCanBeCancelled) {
  const NewJob created = job("", 1000);
  ASSERT_TRUE(store_->create_job(created).ok());
  ASSERT_TRUE(store_->fail_job(created.id, "broken", 1001).ok());
  const Status refused = store_->cancel_job(created.id, "stop", 1002);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, Error::Kind::conflict);
  EXPECT_NE(refused.error().message.find("failed"), std::string::npos) << refused.error().message;
  EXPECT_EQ(store_->cancel_job("fc-01JCFZ8X000000000000000000", "stop", 1).error().kind, Error::Kind::not_found);
}

TEST_F(StoreOwnershipTest, CancelledJobsExpireLikeFinishedOnes) {
  const NewJob created = job("", 1000);
  ASSERT_TRUE(store_->create_job(created).ok());
  ASSERT_TRUE(store_->cancel_job(created.id, "stop", 1000).ok());
  EXPECT_EQ(effective_status(*store_->get_job(created.id), 1000 + 60000), JobStatus::expired);
  auto expired = store_->expire_jobs(1000 + 60000);
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(*expired, 1);
  EXPECT_EQ(store_->read_document(created.id).error().kind, Error::Kind::not_found);
}

TEST_F(StoreOwnershipTest, ListingForAnOwnerShowsOnlyTheirJobs) {
  ASSERT_TRUE(store_->create_job(job("key-a", 1000)).ok());
  ASSERT_TRUE(store_->create_job(job("key-b", 1001)).ok());
  ASSERT_TRUE(store_->create_job(job("key-a", 1002)).ok());
  ListQuery query;
  query.now_ms = 2000;
  query.owner = "key-a";
  query.limit = 10;
  auto mine = store_->list_jobs(query);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->jobs.size(), 2u);
  for (const auto& listed : mine->jobs) EXPECT_EQ(listed.owner, "key-a");
  query.owner.reset();
  auto everyone = store_->list_jobs(query);
  ASSERT_TRUE(everyone.ok());
  EXPECT_EQ(everyone->jobs.size(), 3u);
}

TEST_F(StoreOwnershipTest, AnIdempotencyKeyNamesItsJobWithinTheWindowPerOwner) {
  const NewJob first = job("key-a", 1000, "k1", "fp1");
  ASSERT_TRUE(store_->create_job(first).ok());
  auto found = store_->find_idempotent_job("key-a", "k1", "fp1", 2000);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->value_or(""), first.id);
  // Another owner's key space is separate.
  auto other_owner = store_->find_idempotent_job("key-b", "k1", "fp1", 2000);
  ASSERT_TRUE(other_owner.ok());
  EXPECT_FALSE(other_owner->has_value());
  // Another body under the same key is refused.
  auto reused = store_->find_idempotent_job("key-a", "k1", "fp2", 2000);
  ASSERT_FALSE(reused.ok());
  EXPECT_EQ(reused.error().kind, Error::Kind::invalid_request);
  // A second job with a live key loses the race.
  EXPECT_EQ(store_->create_job(job("key-a", 1500, "k1", "fp1")).error().kind, Error::Kind::conflict);
  // After the window the key is free again.
  auto later = store_->find_idempotent_job("key-a", "k1", "fp1", 1000 + 10000);
  ASSERT_TRUE(later.ok());
  EXPECT_FALSE(later->has_value());
  EXPECT_TRUE(store_->create_job(job("key-a", 1000 + 10000, "k1", "fp3")).ok());
}

TEST_F(StoreOwnershipTest, TheSweeperForgetsKeysOlderThanTheWindow) {
  ASSERT_TRUE(store_->create_job(job("", 1000, "k1", "fp1")).ok());
  ASSERT_TRUE(store_->expire_jobs(1000 + 10000).ok());
  // Had the row stayed, this insert would conflict.
  EXPECT_TRUE(store_->create_job(job("", 1000 + 10001, "k1", "fp2")).ok());
}

TEST_F(StoreOwnershipTest, ASizeLimitRefusesDocumentsBeyondItsShareWithoutWritingAJob) {
  reopen(StoreOptions{.result_ttl = 60s, .max_bytes = 512 * 1024});
  int accepted = 0;
  Status refused;
  for (int i = 0; i < 20 && refused.ok(); ++i) {
    refused = store_->create_job(job("", 1000 + i, "", "", 100 * 1024));
    if (refused.ok()) ++accepted;
  }
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, Error::Kind::unavailable);
  EXPECT_NE(refused.error().message.find("--max-store-size"), std::string::npos) << refused.error().message;
  EXPECT_GE(accepted, 2);
  EXPECT_LE(accepted, 4);
  ListQuery query;
  query.now_ms = 5000;
  query.limit = 100;
  auto listed = store_->list_jobs(query);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(static_cast<int>(listed->jobs.size()), accepted);
  // Results of accepted jobs still fit.
  auto task = store_->lease_page({.worker_id = "w", .now_ms = 5000});
  ASSERT_TRUE(task.ok() && task->has_value());
  EXPECT_TRUE(store_->complete_page(**task, std::string(20 * 1024, 'r'), "e", 5001).ok());
}

}  // namespace
}  // namespace visor::jobs

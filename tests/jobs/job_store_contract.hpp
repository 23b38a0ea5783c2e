#pragma once
// The JobStore contract, as typed tests run against every store: each
// binary that includes this instantiates JobStoreContractTest for its
// store's harness (sqlite_store_test.cpp, postgres_store_pgtest.cpp). A
// harness opens stores on storage of its own for the test: the same
// storage on every open(), so a second store object stands for another
// process or node.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "jobs/job_store.hpp"
#include "jobs/page_result.hpp"
#include "support/test_job.hpp"

namespace visor::jobs {

using namespace std::chrono_literals;

template <class Harness>
class JobStoreContractTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = open(StoreOptions{.result_ttl = 60s, .max_attempts = 3, .idempotency_window = 10s}); }

  std::unique_ptr<JobStore> open(StoreOptions options) {
    auto store = harness_.open(options);
    EXPECT_TRUE(store.ok()) << (store ? "" : store.error().message);
    return std::move(store).value();
  }

  NewJob new_job(int pages, std::int64_t now, std::string owner = "", std::string key = "",
                 std::string fingerprint = "") {
    NewJob job = test::new_job(pages, now, std::make_shared<const std::string>("%PDF-1.4 bytes\0with nul", 22));
    job.owner = std::move(owner);
    job.dpi = 150;
    job.idempotency_key = std::move(key);
    job.fingerprint = std::move(fingerprint);
    return job;
  }

  std::string submit(int pages, std::int64_t now = 1000, std::string owner = "") {
    const NewJob job = new_job(pages, now, std::move(owner));
    const Status created = store_->create_job(job);
    EXPECT_TRUE(created.ok()) << (created ? "" : created.error().message);
    return job.id;
  }

  PageTask lease(std::int64_t now, int max_in_flight = 8, std::chrono::milliseconds duration = 1000ms,
                 const std::string& worker = "w") {
    auto task = store_->lease_page(
        {.worker_id = worker, .now_ms = now, .lease_duration = duration, .max_pages_in_flight_per_job = max_in_flight});
    EXPECT_TRUE(task.ok()) << (task ? "" : task.error().message);
    EXPECT_TRUE(task.ok() && task->has_value());
    return task.ok() && task->has_value() ? **task : PageTask{};
  }

  bool nothing_to_lease(std::int64_t now, int max_in_flight = 8) {
    auto task = store_->lease_page({.worker_id = "w", .now_ms = now, .max_pages_in_flight_per_job = max_in_flight});
    return task.ok() && !task->has_value();
  }

  static ListQuery list_query(std::int64_t now, int limit = 20) {
    ListQuery query;
    query.now_ms = now;
    query.limit = limit;
    return query;
  }

  static std::vector<std::string> ids_of(const JobList& list) {
    std::vector<std::string> ids;
    for (const auto& job : list.jobs) ids.push_back(job.id);
    return ids;
  }

  Harness harness_;
  std::unique_ptr<JobStore> store_;  // after harness_: closed before its storage goes
};

TYPED_TEST_SUITE_P(JobStoreContractTest);

TYPED_TEST_P(JobStoreContractTest, CreatedJobIsPendingWithItsDocument) {
  const std::string id = this->submit(3);
  auto job = this->store_->get_job(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->status, JobStatus::pending);
  EXPECT_EQ(job->total_pages, 3);
  EXPECT_EQ(job->pages_done, 0);
  auto document = this->store_->read_document(id);
  ASSERT_TRUE(document.ok()) << document.error().message;
  EXPECT_EQ(**document, std::string("%PDF-1.4 bytes\0with nul", 22));
}

TYPED_TEST_P(JobStoreContractTest, UnknownJobIsNotFound) {
  auto job = this->store_->get_job("fc-01JCFZ8X000000000000000000");
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.error().kind, Error::Kind::not_found);
  EXPECT_EQ(this->store_->read_document("fc-01JCFZ8X000000000000000000").error().kind, Error::Kind::not_found);
  EXPECT_EQ(this->store_->read_pages("fc-01JCFZ8X000000000000000000").error().kind, Error::Kind::not_found);
}

TYPED_TEST_P(JobStoreContractTest, LeasingAPageMarksTheJobRunning) {
  const std::string id = this->submit(2);
  PageTask task = this->lease(2000);
  EXPECT_EQ(task.job_id, id);
  EXPECT_EQ(task.page_index, 0);
  EXPECT_EQ(task.attempt, 1);
  EXPECT_EQ(task.dpi, 150);
  EXPECT_EQ(task.model, "dotsocr");
  EXPECT_EQ(this->store_->get_job(id)->status, JobStatus::running);
  EXPECT_EQ(this->store_->get_job(id)->started_at, 2000);
}

TYPED_TEST_P(JobStoreContractTest, CompletingEveryPageCompletesTheJobWithResultsInPageOrder) {
  const std::string id = this->submit(2);
  PageTask first = this->lease(2000);
  PageTask second = this->lease(2000);
  ASSERT_TRUE(this->store_->complete_page(second, R"({"status":"success","data":"b"})", "e", 3000).ok());
  EXPECT_EQ(this->store_->get_job(id)->status, JobStatus::running);
  EXPECT_EQ(this->store_->get_job(id)->pages_done, 1);
  ASSERT_TRUE(this->store_->complete_page(first, R"({"status":"success","data":"a"})", "e", 4000).ok());
  auto job = this->store_->get_job(id);
  EXPECT_EQ(job->status, JobStatus::completed);
  EXPECT_EQ(job->pages_done, 2);
  EXPECT_EQ(job->completed_at, 4000);
  EXPECT_EQ(job->expires_at, 4000 + 60000);
  auto pages = this->store_->read_pages(id);
  ASSERT_TRUE(pages.ok());
  ASSERT_EQ(pages->size(), 2u);
  EXPECT_TRUE((*pages)[0].finished);
  EXPECT_EQ((*pages)[0].result_json, R"({"status":"success","data":"a"})");
  EXPECT_EQ((*pages)[1].result_json, R"({"status":"success","data":"b"})");
  EXPECT_EQ((*pages)[1].engine, "e");
  EXPECT_TRUE(this->nothing_to_lease(5000));
}

TYPED_TEST_P(JobStoreContractTest, ASelectionOfPagesQueuesOnlyThoseAndKeepsTheirDocumentIndexes) {
  NewJob new_job = this->new_job(2, 1000);
  new_job.page_indexes = {2, 3};
  new_job.pages = "3-4";
  new_job.document_pages = 6;
  ASSERT_TRUE(this->store_->create_job(new_job).ok());
  auto job = this->store_->get_job(new_job.id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->total_pages, 2);
  EXPECT_EQ(job->pages, "3-4");
  EXPECT_EQ(job->document_pages, 6);
  PageTask first = this->lease(2000);
  PageTask second = this->lease(2000);
  EXPECT_EQ(first.page_index + second.page_index, 5);
  EXPECT_TRUE(this->nothing_to_lease(2000));
  ASSERT_TRUE(this->store_->complete_page(first, R"({"status":"success","data":"a"})", "e", 3000).ok());
  ASSERT_TRUE(this->store_->complete_page(second, R"({"status":"success","data":"b"})", "e", 3000).ok());
  EXPECT_EQ(this->store_->get_job(new_job.id)->status, JobStatus::completed);
  auto pages = this->store_->read_pages(new_job.id);
  ASSERT_TRUE(pages.ok());
  ASSERT_EQ(pages->size(), 2u);
  EXPECT_EQ((*pages)[0].page_index, 2);
  EXPECT_EQ((*pages)[1].page_index, 3);
}

TYPED_TEST_P(JobStoreContractTest, AJobOfEveryPageKeepsNoSelection) {
  const std::string id = this->submit(3);
  auto job = this->store_->get_job(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->pages, "");
  EXPECT_EQ(job->document_page_count(), 3);
}

TYPED_TEST_P(JobStoreContractTest, ExpiredLeaseIsTakenAgainAndTheOldHolderIsRefused) {
  this->submit(1);
  PageTask first = this->lease(2000, 8, 1000ms);
  EXPECT_TRUE(this->nothing_to_lease(2500));
  PageTask second = this->lease(3001);
  EXPECT_EQ(second.page_index, first.page_index);
  EXPECT_EQ(second.attempt, 2);
  auto late = this->store_->complete_page(first, "{}", "e", 3100);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().kind, Error::Kind::conflict);
  EXPECT_TRUE(this->store_->complete_page(second, "{}", "e", 3200).ok());
}

// Fencing: whatever a worker whose lease was taken over does with its old
// lease token is refused, and the new holder's result stands.
TYPED_TEST_P(JobStoreContractTest, AStaleLeaseHolderCanNeitherRenewNorFailNorOverwrite) {
  const std::string id = this->submit(1);
  const PageTask stale = this->lease(2000, 8, 1000ms);
  const PageTask current = this->lease(3001, 8, 60000ms);
  ASSERT_NE(stale.lease_token, current.lease_token);
  EXPECT_EQ(this->store_->renew_lease(stale, 3002, 60000ms).error().kind, Error::Kind::conflict);
  EXPECT_EQ(this->store_->fail_page(stale, "late failure", 3003).error().kind, Error::Kind::conflict);
  ASSERT_TRUE(this->store_->complete_page(current, R"({"status":"success","data":"new"})", "e", 3004).ok());
  EXPECT_EQ(this->store_->complete_page(stale, R"({"status":"success","data":"old"})", "e", 3005).error().kind,
            Error::Kind::conflict);
  EXPECT_EQ(this->store_->read_pages(id)->at(0).result_json, R"({"status":"success","data":"new"})");
  EXPECT_EQ(this->store_->get_job(id)->pages_done, 1);
}

TYPED_TEST_P(JobStoreContractTest, RenewedLeaseIsNotTakenOver) {
  this->submit(1);
  PageTask task = this->lease(2000, 8, 1000ms);
  ASSERT_TRUE(this->store_->renew_lease(task, 2900, 1000ms).ok());
  EXPECT_TRUE(this->nothing_to_lease(3500));
}

TYPED_TEST_P(JobStoreContractTest, PageWhoseLeaseEndsThreeTimesBecomesAPageError) {
  const std::string id = this->submit(1);
  this->lease(1000, 8, 100ms);
  this->lease(2000, 8, 100ms);
  this->lease(3000, 8, 100ms);
  EXPECT_TRUE(this->nothing_to_lease(4000));
  auto job = this->store_->get_job(id);
  EXPECT_EQ(job->status, JobStatus::completed);
  auto pages = this->store_->read_pages(id);
  EXPECT_EQ((*pages)[0].result_json,
            page_error_text("Page processing did not finish after 3 attempts (the worker crashed or ran out of time)"));
}

TYPED_TEST_P(JobStoreContractTest, FailedPageIsRetriedThenRecordedAsAPageError) {
  const std::string id = this->submit(1);
  for (int attempt = 1; attempt <= 3; ++attempt) {
    PageTask task = this->lease(1000 * attempt);
    EXPECT_EQ(task.attempt, attempt);
    ASSERT_TRUE(this->store_->fail_page(task, "render \"failed\"", 1000 * attempt + 1).ok());
  }
  EXPECT_EQ(this->store_->get_job(id)->status, JobStatus::completed);
  EXPECT_EQ(this->store_->read_pages(id)->at(0).result_json, R"({"status":"error","error":"render \"failed\""})");
}

TYPED_TEST_P(JobStoreContractTest, PagesInFlightPerJobAreCapped) {
  this->submit(5);
  this->lease(1000, 2);
  this->lease(1000, 2);
  EXPECT_TRUE(this->nothing_to_lease(1000, 2));
}

TYPED_TEST_P(JobStoreContractTest, JobWithFewestPagesInFlightGoesFirst) {
  const std::string big = this->submit(10, 1000);
  const std::string small = this->submit(1, 2000);
  EXPECT_EQ(this->lease(3000).job_id, big);
  EXPECT_EQ(this->lease(3000).job_id, small);
  EXPECT_EQ(this->lease(3000).job_id, big);
}

TYPED_TEST_P(JobStoreContractTest, FailedJobStopsLeasingAndKeepsItsReason) {
  const std::string id = this->submit(3);
  const PageTask task = this->lease(1000);
  ASSERT_TRUE(this->store_->fail_job(id, "The PDF is damaged", 2000).ok());
  auto job = this->store_->get_job(id);
  EXPECT_EQ(job->status, JobStatus::failed);
  EXPECT_EQ(job->error, "The PDF is damaged");
  EXPECT_EQ(job->completed_at, 2000);
  EXPECT_TRUE(this->nothing_to_lease(3000));
  EXPECT_EQ(this->store_->complete_page(task, "{}", "e", 3001).error().kind, Error::Kind::conflict);
  // A job already finished stays as it is.
  ASSERT_TRUE(this->store_->fail_job(id, "again", 4000).ok());
  EXPECT_EQ(this->store_->get_job(id)->error, "The PDF is damaged");
}

TYPED_TEST_P(JobStoreContractTest, RetentionExpiresFinishedJobsAndDeletesTheirData) {
  const std::string id = this->submit(1);
  PageTask task = this->lease(1000);
  ASSERT_TRUE(this->store_->complete_page(task, "{}", "e", 2000).ok());
  EXPECT_EQ(effective_status(*this->store_->get_job(id), 2000 + 59999), JobStatus::completed);
  EXPECT_EQ(effective_status(*this->store_->get_job(id), 2000 + 60000), JobStatus::expired);
  EXPECT_EQ(*this->store_->expire_jobs(2000 + 59999), 0);
  EXPECT_EQ(*this->store_->expire_jobs(2000 + 60000), 1);
  EXPECT_EQ(this->store_->get_job(id)->status, JobStatus::expired);
  EXPECT_EQ(this->store_->read_document(id).error().kind, Error::Kind::not_found);
  EXPECT_EQ(this->store_->read_pages(id).error().kind, Error::Kind::not_found);
}

TYPED_TEST_P(JobStoreContractTest, StateIsSharedWithAnotherStoreOnTheSameStorage) {
  const std::string id = this->submit(2);
  PageTask task = this->lease(1000);
  ASSERT_TRUE(this->store_->complete_page(task, "{}", "e", 2000).ok());
  auto other = this->open(StoreOptions{});
  auto job = other->get_job(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->pages_done, 1);
  auto next = other->lease_page({.worker_id = "other", .now_ms = 3000});
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->page_index, 1);
}

TYPED_TEST_P(JobStoreContractTest, ConcurrentWorkerThreadsNeverLeaseTheSamePage) {
  for (int job = 0; job < 4; ++job) this->submit(10, 1000 + job);
  std::vector<std::thread> workers;
  std::mutex mutex;
  std::vector<std::string> seen;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      auto store = this->open(StoreOptions{});
      for (int idle = 0; idle < 50;) {
        auto task = store->lease_page({.worker_id = "w" + std::to_string(w), .now_ms = 1000,
                                       .lease_duration = 60000ms, .max_pages_in_flight_per_job = 100});
        ASSERT_TRUE(task.ok()) << task.error().message;
        if (!task->has_value()) {
          ++idle;
          continue;
        }
        const std::lock_guard lock(mutex);
        seen.push_back((*task)->job_id + "/" + std::to_string((*task)->page_index));
      }
    });
  }
  for (auto& t : workers) t.join();
  std::set<std::string> distinct(seen.begin(), seen.end());
  EXPECT_EQ(distinct.size(), seen.size()) << "a page was leased twice";
  EXPECT_EQ(seen.size(), 40u);
}

// Several processes, each with its own connections, claim and complete
// pages of the same jobs at once: every page is claimed exactly once and
// every job completes.
TYPED_TEST_P(JobStoreContractTest, ConcurrentWorkerProcessesNeverLeaseTheSamePage) {
  std::vector<std::string> ids;
  for (int job = 0; job < 6; ++job) ids.push_back(this->submit(10, 1000 + job));
  constexpr int kProcesses = 4;
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(pipe_fds[0]);
      auto store = this->harness_.open(StoreOptions{});
      int exit_code = store ? 0 : 3;
      for (int idle = 0; store && idle < 20;) {
        auto task = (*store)->lease_page({.worker_id = "p" + std::to_string(p), .now_ms = 1000,
                                          .lease_duration = 60000ms, .max_pages_in_flight_per_job = 100});
        if (!task) {
          exit_code = 4;
          break;
        }
        if (!task->has_value()) {
          ++idle;
          ::usleep(2000);
          continue;
        }
        const std::string line = (*task)->job_id + "/" + std::to_string((*task)->page_index) + "\n";
        if (::write(pipe_fds[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) exit_code = 5;
        if (!(*store)->complete_page(**task, R"({"status":"success","data":[]})", "e", 1001)) exit_code = 6;
      }
      ::_exit(exit_code);  // no destructors: they belong to the parent
    }
    children.push_back(pid);
  }
  ::close(pipe_fds[1]);
  std::string claimed;
  char buffer[4096];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) claimed.append(buffer, static_cast<std::size_t>(n));
  ::close(pipe_fds[0]);
  for (const pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a claiming process failed: " << status;
  }
  std::multiset<std::string> pages;
  for (std::size_t start = 0, end; (end = claimed.find('\n', start)) != std::string::npos; start = end + 1) {
    pages.insert(claimed.substr(start, end - start));
  }
  EXPECT_EQ(pages.size(), 60u);
  for (const auto& page : pages) EXPECT_EQ(pages.count(page), 1u) << page << " was claimed twice";
  for (const auto& id : ids) EXPECT_EQ(this->store_->get_job(id)->status, JobStatus::completed) << id;
}

TYPED_TEST_P(JobStoreContractTest, ListIsNewestFirstAndPagesWithTheLastId) {
  const std::string oldest = this->submit(1, 1000);
  const std::string middle = this->submit(1, 2000);
  const std::string newest = this->submit(1, 3000);
  auto first = this->store_->list_jobs(this->list_query(5000, 2));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(this->ids_of(*first), (std::vector<std::string>{newest, middle}));
  EXPECT_TRUE(first->more);
  ListQuery next = this->list_query(5000, 2);
  next.before_id = middle;
  auto second = this->store_->list_jobs(next);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(this->ids_of(*second), std::vector<std::string>{oldest});
  EXPECT_FALSE(second->more);
  EXPECT_FALSE(this->store_->list_jobs(this->list_query(5000, 3))->more);
}

TYPED_TEST_P(JobStoreContractTest, ListFiltersByEffectiveStatus) {
  const std::string done = this->submit(1, 1000);
  const std::string waiting = this->submit(1, 2000);
  PageTask task = this->lease(2500);
  ASSERT_EQ(task.job_id, done);
  ASSERT_TRUE(this->store_->complete_page(task, "{}", "e", 3000).ok());
  auto with = [&](JobStatus status, std::int64_t now) {
    ListQuery query = this->list_query(now);
    query.status = status;
    auto list = this->store_->list_jobs(query);
    EXPECT_TRUE(list.ok()) << (list ? "" : list.error().message);
    return list ? this->ids_of(*list) : std::vector<std::string>{};
  };
  EXPECT_EQ(with(JobStatus::completed, 4000), std::vector<std::string>{done});
  EXPECT_EQ(with(JobStatus::pending, 4000), std::vector<std::string>{waiting});
  EXPECT_TRUE(with(JobStatus::failed, 4000).empty());
  // Past its expiry the job lists as expired before and after the sweep.
  EXPECT_TRUE(with(JobStatus::completed, 3000 + 60000).empty());
  EXPECT_EQ(with(JobStatus::expired, 3000 + 60000), std::vector<std::string>{done});
  ASSERT_EQ(*this->store_->expire_jobs(3000 + 60000), 1);
  EXPECT_EQ(with(JobStatus::expired, 3000 + 60000), std::vector<std::string>{done});
}

TYPED_TEST_P(JobStoreContractTest, ListingForAnOwnerShowsOnlyTheirJobs) {
  this->submit(2, 1000, "key-a");
  this->submit(2, 1001, "key-b");
  this->submit(2, 1002, "key-a");
  ListQuery query = this->list_query(2000, 10);
  query.owner = "key-a";
  auto mine = this->store_->list_jobs(query);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->jobs.size(), 2u);
  for (const auto& listed : mine->jobs) EXPECT_EQ(listed.owner, "key-a");
  query.owner.reset();
  auto everyone = this->store_->list_jobs(query);
  ASSERT_TRUE(everyone.ok());
  EXPECT_EQ(everyone->jobs.size(), 3u);
}

TYPED_TEST_P(JobStoreContractTest, StatsCountJobsQueuedAndLeasedPagesAndLiveWorkers) {
  const std::string first = this->submit(3, 1000);
  this->submit(2, 2000);
  PageTask task = this->lease(2500, 8, 1000ms);
  ASSERT_EQ(task.job_id, first);
  ASSERT_TRUE(this->store_->register_worker({"host:1", "host", 4, 2000, 10000ms}, 2400).ok());
  auto stats = this->store_->stats(2600);
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->jobs_by_status[static_cast<std::size_t>(JobStatus::running)], 1);
  EXPECT_EQ(stats->jobs_by_status[static_cast<std::size_t>(JobStatus::pending)], 1);
  EXPECT_EQ(stats->jobs_by_status[static_cast<std::size_t>(JobStatus::completed)], 0);
  EXPECT_EQ(stats->queued_pages, 4);
  EXPECT_EQ(stats->oldest_queued_submitted_at, 1000);
  EXPECT_EQ(stats->leased_pages, 1);
  EXPECT_EQ(stats->live_worker_threads, 4);
  // Once the lease has lapsed and the heartbeat is old, neither counts.
  auto later = this->store_->stats(2400 + 10000);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->leased_pages, 0);
  EXPECT_EQ(later->live_worker_threads, 0);
  EXPECT_TRUE(this->store_->ping().ok());
}

TYPED_TEST_P(JobStoreContractTest, StatsOfAnEmptyStoreAreZero) {
  auto stats = this->store_->stats(1000);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->queued_pages, 0);
  EXPECT_EQ(stats->oldest_queued_submitted_at, 0);
  EXPECT_EQ(stats->leased_pages, 0);
}

TYPED_TEST_P(JobStoreContractTest, LeasesOfADeadWorkerAreReleasedAndItsPageFailsOnTheLastAttempt) {
  const std::string id = this->submit(2);
  auto lease_as = [&](const std::string& worker, std::int64_t now) {
    return this->lease(now, 8, 60000ms, worker);
  };
  const PageTask first = lease_as("host:41/0", 1000);
  lease_as("host:42/0", 1000);
  EXPECT_EQ(*this->store_->release_worker_leases("host:41/", "crashed (SIGSEGV)", 1100), 1);
  const PageTask again = lease_as("host:43/0", 1200);  // at once, not after the 60 s lease
  EXPECT_EQ(again.page_index, first.page_index);
  EXPECT_EQ(again.attempt, 2);
  EXPECT_EQ(*this->store_->release_worker_leases("host:43/", "crashed (SIGSEGV)", 1300), 1);
  lease_as("host:44/0", 1400);
  EXPECT_EQ(*this->store_->release_worker_leases("host:44/", "crashed (SIGSEGV)", 1500), 1);
  auto pages = this->store_->read_pages(id);
  EXPECT_EQ((*pages)[static_cast<std::size_t>(first.page_index)].result_json,
            R"j({"status":"error","error":"crashed (SIGSEGV)"})j");
  EXPECT_EQ(*this->store_->release_worker_leases("host:42/", "x", 1600), 1);
  EXPECT_EQ(*this->store_->release_worker_leases("host:42/", "x", 1700), 0);
}

TYPED_TEST_P(JobStoreContractTest, ReturnedLeasesAreQueuedAgainWithoutCountingTheAttempt) {
  this->submit(1);
  const PageTask task = this->lease(1000, 8, 60000ms, "host:51/0");
  auto holders = this->store_->lease_holders();
  ASSERT_TRUE(holders.ok());
  EXPECT_EQ(*holders, std::vector<std::string>{"host:51/0"});
  EXPECT_EQ(*this->store_->return_worker_leases("host:52/"), 0);
  EXPECT_EQ(*this->store_->return_worker_leases("host:51/"), 1);
  const PageTask again = this->lease(1100, 8, 60000ms, "host:53/0");
  EXPECT_EQ(again.attempt, 1);
  // The first holder's late result is refused.
  EXPECT_EQ(this->store_->complete_page(task, "{}", "e", 1200).error().kind, Error::Kind::conflict);
}

TYPED_TEST_P(JobStoreContractTest, CancellingDropsUnfinishedPagesAndRefusesTheLeaseHolder) {
  const std::string id = this->submit(2);
  const PageTask task = this->lease(1001);
  ASSERT_TRUE(this->store_->cancel_job(id, "stop", 1002).ok());
  auto cancelled = this->store_->get_job(id);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->status, JobStatus::cancelled);
  EXPECT_EQ(cancelled->error, "stop");
  EXPECT_TRUE(cancelled->finished());
  EXPECT_EQ(cancelled->expires_at, 1002 + 60000);
  // The worker's result and renewal are refused; nothing else is leased for the job.
  EXPECT_EQ(this->store_->complete_page(task, "{}", "e", 1003).error().kind, Error::Kind::conflict);
  EXPECT_EQ(this->store_->renew_lease(task, 1003, 1000ms).error().kind, Error::Kind::conflict);
  EXPECT_TRUE(this->nothing_to_lease(1004));
  // Again: a no-op.
  EXPECT_TRUE(this->store_->cancel_job(id, "again", 1005).ok());
  EXPECT_EQ(this->store_->get_job(id)->error, "stop");
}

TYPED_TEST_P(JobStoreContractTest, OnlyPendingOrRunningJobsCanBeCancelled) {
  const std::string id = this->submit(2);
  ASSERT_TRUE(this->store_->fail_job(id, "broken", 1001).ok());
  const Status refused = this->store_->cancel_job(id, "stop", 1002);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, Error::Kind::conflict);
  EXPECT_NE(refused.error().message.find("failed"), std::string::npos) << refused.error().message;
  EXPECT_EQ(this->store_->cancel_job("fc-01JCFZ8X000000000000000000", "stop", 1).error().kind,
            Error::Kind::not_found);
}

TYPED_TEST_P(JobStoreContractTest, CancelledJobsExpireLikeFinishedOnes) {
  const std::string id = this->submit(2);
  ASSERT_TRUE(this->store_->cancel_job(id, "stop", 1000).ok());
  EXPECT_EQ(effective_status(*this->store_->get_job(id), 1000 + 60000), JobStatus::expired);
  auto expired = this->store_->expire_jobs(1000 + 60000);
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(*expired, 1);
  EXPECT_EQ(this->store_->read_document(id).error().kind, Error::Kind::not_found);
}

TYPED_TEST_P(JobStoreContractTest, AnIdempotencyKeyNamesItsJobWithinTheWindowPerOwner) {
  const NewJob first = this->new_job(2, 1000, "key-a", "k1", "fp1");
  ASSERT_TRUE(this->store_->create_job(first).ok());
  auto found = this->store_->find_idempotent_job("key-a", "k1", "fp1", 2000);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->value_or(""), first.id);
  // Another owner's key space is separate.
  auto other_owner = this->store_->find_idempotent_job("key-b", "k1", "fp1", 2000);
  ASSERT_TRUE(other_owner.ok());
  EXPECT_FALSE(other_owner->has_value());
  // Another body under the same key is refused.
  auto reused = this->store_->find_idempotent_job("key-a", "k1", "fp2", 2000);
  ASSERT_FALSE(reused.ok());
  EXPECT_EQ(reused.error().kind, Error::Kind::invalid_request);
  // A second job with a live key loses the race, and nothing of it is stored.
  const NewJob loser = this->new_job(2, 1500, "key-a", "k1", "fp1");
  EXPECT_EQ(this->store_->create_job(loser).error().kind, Error::Kind::conflict);
  EXPECT_EQ(this->store_->get_job(loser.id).error().kind, Error::Kind::not_found);
  // After the window the key is free again.
  auto later = this->store_->find_idempotent_job("key-a", "k1", "fp1", 1000 + 10000);
  ASSERT_TRUE(later.ok());
  EXPECT_FALSE(later->has_value());
  EXPECT_TRUE(this->store_->create_job(this->new_job(2, 1000 + 10000, "key-a", "k1", "fp3")).ok());
}

TYPED_TEST_P(JobStoreContractTest, TheSweeperForgetsKeysOlderThanTheWindow) {
  ASSERT_TRUE(this->store_->create_job(this->new_job(2, 1000, "", "k1", "fp1")).ok());
  ASSERT_TRUE(this->store_->expire_jobs(1000 + 10000).ok());
  // Had the row stayed, this insert would conflict.
  EXPECT_TRUE(this->store_->create_job(this->new_job(2, 1000 + 10001, "", "k1", "fp2")).ok());
}

// Each worker is judged by its own heartbeat timeout, whoever judges.
TYPED_TEST_P(JobStoreContractTest, WorkersBeatUntilTheyFallSilentForTheirOwnTimeoutAndAreForgotten) {
  ASSERT_TRUE(this->store_->register_worker({"host:7", "host", 2, 1000, 3000ms}, 1000).ok());
  ASSERT_TRUE(this->store_->register_worker({"host:8", "host", 1, 1000, 3000ms}, 1000).ok());
  ASSERT_TRUE(this->store_->register_worker({"host:9", "host", 1, 1000, 60000ms}, 1000).ok());
  ASSERT_TRUE(this->store_->heartbeat("host:7", 2000).ok());
  auto silent = this->store_->remove_silent_workers(4500);
  ASSERT_TRUE(silent.ok()) << silent.error().message;
  ASSERT_EQ(silent->size(), 1u);
  EXPECT_EQ((*silent)[0].id, "host:8");
  EXPECT_EQ((*silent)[0].heartbeat_timeout, 3000ms);
  EXPECT_EQ(this->store_->stats(4500)->live_worker_threads, 3);  // host:7 and host:9
  // A forgotten worker learns it from its next heartbeat.
  EXPECT_EQ(this->store_->heartbeat("host:8", 4501).error().kind, Error::Kind::not_found);
  ASSERT_TRUE(this->store_->deregister_worker("host:7").ok());
  EXPECT_EQ(this->store_->remove_silent_workers(60000)->size(), 0u);
  EXPECT_EQ(this->store_->remove_silent_workers(61000)->size(), 1u);
}

TYPED_TEST_P(JobStoreContractTest, OneHolderLeadsUntilItsLeadershipLapses) {
  EXPECT_TRUE(*this->store_->hold_leadership("maintenance", "a", 1000, 10000ms));
  auto other = this->open(StoreOptions{});
  EXPECT_FALSE(*other->hold_leadership("maintenance", "b", 2000, 10000ms));
  EXPECT_TRUE(*this->store_->hold_leadership("maintenance", "a", 5000, 10000ms));  // renewed to 15000
  EXPECT_FALSE(*other->hold_leadership("maintenance", "b", 14999, 10000ms));
  EXPECT_TRUE(*other->hold_leadership("maintenance", "b", 15000, 10000ms));
  EXPECT_FALSE(*this->store_->hold_leadership("maintenance", "a", 15001, 10000ms));
  // Another name is another leadership.
  EXPECT_TRUE(*this->store_->hold_leadership("other", "a", 15001, 10000ms));
}

TYPED_TEST_P(JobStoreContractTest, ATokenBucketIsSharedByEveryStoreObject) {
  const util::TokenBucketRule rule(*util::parse_rate("1/s"), 2);
  auto other = this->open(StoreOptions{});
  EXPECT_FALSE(this->store_->take_token("k", rule, 10000)->has_value());
  EXPECT_FALSE(other->take_token("k", rule, 10000)->has_value());
  auto refused = this->store_->take_token("k", rule, 10000);
  ASSERT_TRUE(refused.ok());
  ASSERT_TRUE(refused->has_value());
  EXPECT_EQ(**refused, 1000ms);
  EXPECT_TRUE(other->take_token("k", rule, 10999)->has_value());
  EXPECT_FALSE(other->take_token("k", rule, 11000)->has_value());
  // Another key has its own bucket; full buckets are forgotten.
  EXPECT_FALSE(this->store_->take_token("j", rule, 10000)->has_value());
  ASSERT_TRUE(this->store_->forget_idle_state(100000).ok());
  EXPECT_FALSE(this->store_->take_token("k", rule, 100000)->has_value());
}

TYPED_TEST_P(JobStoreContractTest, StreamSlotsAreCappedPerOwnerAndInTotalAcrossStoreObjects) {
  auto other = this->open(StoreOptions{});
  auto request = [](std::string id, std::string node, std::optional<std::string> owner, std::int64_t now) {
    return StreamSlotRequest{.slot_id = std::move(id), .node_id = std::move(node), .owner = std::move(owner),
                             .per_owner_limit = 2, .total_limit = 3, .now_ms = now, .ttl = 10000ms};
  };
  EXPECT_EQ(*this->store_->open_stream_slot(request("s1", "a", "key-1", 1000)), SlotAdmission::admitted);
  EXPECT_EQ(*other->open_stream_slot(request("s2", "b", "key-1", 1000)), SlotAdmission::admitted);
  EXPECT_EQ(*other->open_stream_slot(request("s3", "b", "key-1", 1000)), SlotAdmission::owner_full);
  EXPECT_EQ(*other->open_stream_slot(request("s4", "b", std::nullopt, 1000)), SlotAdmission::admitted);
  EXPECT_EQ(*this->store_->open_stream_slot(request("s5", "a", "key-2", 1000)), SlotAdmission::total_full);
  ASSERT_TRUE(this->store_->close_stream_slot("s1").ok());
  EXPECT_EQ(*this->store_->open_stream_slot(request("s6", "a", "key-1", 1000)), SlotAdmission::admitted);
  // Node a keeps its slots alive; node b's lapse and stop counting.
  ASSERT_TRUE(this->store_->renew_stream_slots("a", 9000, 10000ms).ok());
  EXPECT_EQ(*this->store_->open_stream_slot(request("s7", "a", "key-1", 12000)), SlotAdmission::admitted);
  EXPECT_EQ(*this->store_->open_stream_slot(request("s8", "a", "key-1", 12000)), SlotAdmission::owner_full);
}

TYPED_TEST_P(JobStoreContractTest, TheSchemaIsAtItsLatestVersion) {
  auto version = this->store_->schema_version();
  ASSERT_TRUE(version.ok()) << version.error().message;
  EXPECT_GT(*version, 0);
}

// --- Webhook outbox --------------------------------------------------------

TYPED_TEST_P(JobStoreContractTest, AJobWithAWebhookGetsOneDeliveryWhenItCompletesAndNoneWithout) {
  NewJob hooked = this->new_job(2, 1000, "key-a");
  hooked.webhook.url = "https://example.com/hook";
  ASSERT_TRUE(this->store_->create_job(hooked).ok());
  const std::string plain = this->submit(1, 1001);
  for (int i = 0; i < 3; ++i) {
    PageTask task = this->lease(2000);
    ASSERT_TRUE(this->store_->complete_page(task, "{}", "e", 3000 + i).ok());
    // Nothing before the hooked job's last page.
    const bool completed = this->store_->get_job(hooked.id)->status == JobStatus::completed;
    EXPECT_EQ(this->store_->list_webhook_deliveries(hooked.id)->size(), completed ? 1u : 0u) << i;
  }
  EXPECT_TRUE(this->store_->list_webhook_deliveries(plain)->empty());
  auto deliveries = this->store_->list_webhook_deliveries(hooked.id);
  ASSERT_TRUE(deliveries.ok());
  ASSERT_EQ(deliveries->size(), 1u);
  const WebhookDelivery& d = deliveries->front();
  EXPECT_EQ(d.event, "job.completed");
  EXPECT_EQ(d.owner, "key-a");
  EXPECT_EQ(d.url, "https://example.com/hook");
  EXPECT_EQ(d.page_index, -1);
  EXPECT_EQ(d.state, DeliveryState::pending);
  EXPECT_TRUE(d.id.starts_with("msg_")) << d.id;
  EXPECT_GE(d.created_at, 3000);
}

TYPED_TEST_P(JobStoreContractTest, PageEventsComeOnlyWhenAskedAndFailedOrCancelledJobsSayHowTheyEnded) {
  NewJob paged = this->new_job(2, 1000);
  paged.webhook = {"http://example.com/p", true};
  ASSERT_TRUE(this->store_->create_job(paged).ok());
  PageTask first = this->lease(2000);
  ASSERT_TRUE(this->store_->complete_page(first, "{}", "e", 3000).ok());
  ASSERT_TRUE(this->store_->cancel_job(paged.id, "stop", 4000).ok());
  ASSERT_TRUE(this->store_->cancel_job(paged.id, "stop", 4001).ok());  // no second event
  NewJob failing = this->new_job(1, 1001);
  failing.webhook.url = "http://example.com/f";
  ASSERT_TRUE(this->store_->create_job(failing).ok());
  ASSERT_TRUE(this->store_->fail_job(failing.id, "damaged", 5000).ok());
  ASSERT_TRUE(this->store_->fail_job(failing.id, "again", 5001).ok());
  std::vector<std::string> events;
  for (const auto& d : *this->store_->list_webhook_deliveries(paged.id)) {
    events.push_back(d.event + "@" + std::to_string(d.page_index));
  }
  EXPECT_EQ(events, (std::vector<std::string>{"page.completed@0", "job.cancelled@-1"}));
  auto failed = this->store_->list_webhook_deliveries(failing.id);
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ(failed->front().event, "job.failed");
}

TYPED_TEST_P(JobStoreContractTest, ADeliveryIsClaimedByOneHolderUntilItsLeaseLapsesAndAttemptsAreFenced) {
  NewJob job = this->new_job(1, 1000);
  job.webhook.url = "http://example.com/h";
  ASSERT_TRUE(this->store_->create_job(job).ok());
  ASSERT_TRUE(this->store_->complete_page(this->lease(2000), "{}", "e", 3000).ok());
  auto other = this->open(StoreOptions{.result_ttl = 60s});
  auto claimed = this->store_->claim_webhook_delivery(3000, 5s);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  EXPECT_FALSE(other->claim_webhook_delivery(7999, 5s)->has_value());
  auto taken_over = other->claim_webhook_delivery(8001, 5s);
  ASSERT_TRUE(taken_over.ok() && taken_over->has_value());
  EXPECT_EQ((*taken_over)->id, (*claimed)->id);
  const DeliveryAttempt retry{.payload = "{\"a\":1}", .attempted_at = 8002, .state = DeliveryState::pending,
                              .error = "HTTP 503", .retry_at = 20000};
  EXPECT_EQ(this->store_->record_webhook_attempt(**claimed, retry).error().kind, Error::Kind::conflict);
  ASSERT_TRUE(other->record_webhook_attempt(**taken_over, retry).ok());
  // Not due before its retry time, then claimed again with its payload kept.
  EXPECT_FALSE(this->store_->claim_webhook_delivery(19999, 5s)->has_value());
  auto again = this->store_->claim_webhook_delivery(20000, 5s);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->payload, "{\"a\":1}");
  EXPECT_EQ((*again)->attempts, 1);
  EXPECT_EQ((*again)->last_error, "HTTP 503");
  const DeliveryAttempt success{.payload = "{\"a\":1}", .attempted_at = 20001, .state = DeliveryState::delivered,
                                .error = {}, .retry_at = 0};
  ASSERT_TRUE(this->store_->record_webhook_attempt(**again, success).ok());
  EXPECT_FALSE(this->store_->claim_webhook_delivery(99999, 5s)->has_value());
  const WebhookDelivery done = this->store_->list_webhook_deliveries(job.id)->front();
  EXPECT_EQ(done.state, DeliveryState::delivered);
  EXPECT_EQ(done.attempts, 2);
  EXPECT_EQ(done.delivered_at, 20001);
  EXPECT_EQ(done.last_error, "");
}

TYPED_TEST_P(JobStoreContractTest, PendingDeliveriesOutliveTheirJobsExpiryAndSettledOnesAreForgotten) {
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    NewJob job = this->new_job(1, 1000 + i);
    job.webhook.url = "http://example.com/h";
    ASSERT_TRUE(this->store_->create_job(job).ok());
    ids.push_back(job.id);
    ASSERT_TRUE(this->store_->complete_page(this->lease(2000), "{}", "e", 3000).ok());
  }
  auto settled = this->store_->claim_webhook_delivery(3000, 5s);
  ASSERT_TRUE(settled.ok() && settled->has_value());
  ASSERT_TRUE(this->store_->record_webhook_attempt(
      **settled, {.payload = "{}", .attempted_at = 3001, .state = DeliveryState::failed, .error = "HTTP 410",
                     .retry_at = 0}).ok());
  EXPECT_EQ(*this->store_->expire_jobs(3000 + 60000), 2);
  const std::string& settled_job = (*settled)->job_id;
  const std::string& pending_job = settled_job == ids[0] ? ids[1] : ids[0];
  EXPECT_TRUE(this->store_->list_webhook_deliveries(settled_job)->empty());
  EXPECT_EQ(this->store_->list_webhook_deliveries(pending_job)->size(), 1u);
  EXPECT_TRUE(this->store_->claim_webhook_delivery(3000 + 60001, 5s)->has_value());
}

// --- Fair share between tenants ---------------------------------------------

TYPED_TEST_P(JobStoreContractTest, TenantsShareTheWorkersInTurnWhateverTheyQueued) {
  std::vector<std::string> flood;
  for (int i = 0; i < 3; ++i) {
    NewJob job = this->new_job(4, 1000 + i);
    job.tenant = "key-a";
    ASSERT_TRUE(this->store_->create_job(job).ok());
    flood.push_back(job.id);
  }
  NewJob small = this->new_job(2, 2000);
  small.tenant = "key-b";
  ASSERT_TRUE(this->store_->create_job(small).ok());
  std::vector<std::string> tenants;
  for (int i = 0; i < 6; ++i) {
    const PageTask task = this->lease(3000);
    tenants.push_back(task.job_id == small.id ? "b" : "a");
  }
  // b's two pages go at b's turns, though a queued twelve first.
  EXPECT_EQ(tenants, (std::vector<std::string>{"a", "b", "a", "b", "a", "a"}));
}

TYPED_TEST_P(JobStoreContractTest, WithOneWorkerTenantsTakeTurnsPageByPage) {
  NewJob flood = this->new_job(4, 1000);
  flood.tenant = "key-a";
  NewJob small = this->new_job(2, 1001);
  small.tenant = "key-b";
  ASSERT_TRUE(this->store_->create_job(flood).ok());
  ASSERT_TRUE(this->store_->create_job(small).ok());
  std::vector<std::string> tenants;
  for (int i = 0; i < 6; ++i) {
    // Nothing is in flight when the one worker asks: who was served last decides.
    const PageTask task = this->lease(2000 + 10 * i);
    tenants.push_back(task.job_id == small.id ? "b" : "a");
    ASSERT_TRUE(this->store_->complete_page(task, "{}", "e", 2005 + 10 * i).ok());
  }
  EXPECT_EQ(tenants, (std::vector<std::string>{"a", "b", "a", "b", "a", "a"}));
}

TYPED_TEST_P(JobStoreContractTest, PriorityOrdersATenantsOwnJobsButNeverAnothers) {
  NewJob low = this->new_job(1, 1000);
  low.tenant = "key-a";
  low.priority = JobPriority::low;
  NewJob other = this->new_job(1, 1001);
  other.tenant = "key-b";
  other.priority = JobPriority::low;
  NewJob normal = this->new_job(1, 1002);
  normal.tenant = "key-a";
  NewJob high = this->new_job(1, 1003);
  high.tenant = "key-a";
  high.priority = JobPriority::high;
  for (const NewJob* job : {&low, &other, &normal, &high}) ASSERT_TRUE(this->store_->create_job(*job).ok());
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) order.push_back(this->lease(2000).job_id);
  // Neither was served yet (a first by its high job, by id), then b's turn, low as it is; then a's by priority.
  EXPECT_EQ(order, (std::vector<std::string>{high.id, other.id, normal.id, low.id}));
  EXPECT_EQ(this->store_->get_job(high.id)->priority, JobPriority::high);
  EXPECT_EQ(this->store_->get_job(high.id)->tenant, "key-a");
}

TYPED_TEST_P(JobStoreContractTest, ATenantsUnfinishedPagesAreCappedAtSubmit) {
  const auto job_of = [&](const std::string& tenant, int pages, std::int64_t now) {
    NewJob job = this->new_job(pages, now);
    job.tenant = tenant;
    job.max_queued_pages_per_tenant = 5;
    return job;
  };
  const NewJob first = job_of("key-a", 3, 1000);
  ASSERT_TRUE(this->store_->create_job(first).ok());
  const Status refused = this->store_->create_job(job_of("key-a", 3, 1001));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, Error::Kind::too_many);
  EXPECT_GT(refused.error().retry_after_s, 0);
  EXPECT_NE(refused.error().message.find("--max-queued-pages-per-key"), std::string::npos);
  EXPECT_TRUE(this->store_->create_job(job_of("key-b", 5, 1002)).ok());  // another tenant's own share
  EXPECT_TRUE(this->store_->create_job(job_of("key-a", 2, 1003)).ok());  // exactly at the limit
  // Finished pages leave the count.
  ASSERT_TRUE(this->store_->complete_page(this->lease(2000), "{}", "e", 2001).ok());
  ASSERT_TRUE(this->store_->cancel_job(first.id, "stop", 2002).ok());
  EXPECT_TRUE(this->store_->create_job(job_of("key-a", 3, 1004)).ok());
}

REGISTER_TYPED_TEST_SUITE_P(JobStoreContractTest, CreatedJobIsPendingWithItsDocument, UnknownJobIsNotFound,
                            LeasingAPageMarksTheJobRunning, CompletingEveryPageCompletesTheJobWithResultsInPageOrder,
                            ASelectionOfPagesQueuesOnlyThoseAndKeepsTheirDocumentIndexes,
                            AJobOfEveryPageKeepsNoSelection,
                            ExpiredLeaseIsTakenAgainAndTheOldHolderIsRefused,
                            AStaleLeaseHolderCanNeitherRenewNorFailNorOverwrite, RenewedLeaseIsNotTakenOver,
                            PageWhoseLeaseEndsThreeTimesBecomesAPageError, FailedPageIsRetriedThenRecordedAsAPageError,
                            PagesInFlightPerJobAreCapped, JobWithFewestPagesInFlightGoesFirst,
                            FailedJobStopsLeasingAndKeepsItsReason, RetentionExpiresFinishedJobsAndDeletesTheirData,
                            StateIsSharedWithAnotherStoreOnTheSameStorage, ConcurrentWorkerThreadsNeverLeaseTheSamePage,
                            ConcurrentWorkerProcessesNeverLeaseTheSamePage, ListIsNewestFirstAndPagesWithTheLastId,
                            ListFiltersByEffectiveStatus, ListingForAnOwnerShowsOnlyTheirJobs,
                            StatsCountJobsQueuedAndLeasedPagesAndLiveWorkers, StatsOfAnEmptyStoreAreZero,
                            LeasesOfADeadWorkerAreReleasedAndItsPageFailsOnTheLastAttempt,
                            ReturnedLeasesAreQueuedAgainWithoutCountingTheAttempt,
                            CancellingDropsUnfinishedPagesAndRefusesTheLeaseHolder,
                            OnlyPendingOrRunningJobsCanBeCancelled, CancelledJobsExpireLikeFinishedOnes,
                            AnIdempotencyKeyNamesItsJobWithinTheWindowPerOwner,
                            TheSweeperForgetsKeysOlderThanTheWindow,
                            WorkersBeatUntilTheyFallSilentForTheirOwnTimeoutAndAreForgotten,
                            OneHolderLeadsUntilItsLeadershipLapses, ATokenBucketIsSharedByEveryStoreObject,
                            StreamSlotsAreCappedPerOwnerAndInTotalAcrossStoreObjects, TheSchemaIsAtItsLatestVersion,
                            AJobWithAWebhookGetsOneDeliveryWhenItCompletesAndNoneWithout,
                            PageEventsComeOnlyWhenAskedAndFailedOrCancelledJobsSayHowTheyEnded,
                            ADeliveryIsClaimedByOneHolderUntilItsLeaseLapsesAndAttemptsAreFenced,
                            PendingDeliveriesOutliveTheirJobsExpiryAndSettledOnesAreForgotten,
                            TenantsShareTheWorkersInTurnWhateverTheyQueued, WithOneWorkerTenantsTakeTurnsPageByPage,
                            PriorityOrdersATenantsOwnJobsButNeverAnothers,
                            ATenantsUnfinishedPagesAreCappedAtSubmit);

}  // namespace visor::jobs

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "jobs/postgres.hpp"
#include "jobs/store_factory.hpp"
#include "job_store_contract.hpp"
#include "support/postgres_server.hpp"
#include "support/test_job.hpp"

namespace visor::jobs {
namespace {

// Each test's store is a database of its own on this process's throwaway
// server; every open() is another connection pool on it, as another node
// would have.
class PostgresHarness {
 public:
  Result<std::unique_ptr<JobStore>> open(StoreOptions options) {
    return open_job_store({StoreLocation::Kind::postgres, uri_}, options);
  }
  const std::string& uri() const { return uri_; }

 private:
  std::string uri_ = test::PostgresServer::shared().new_database();
};

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, JobStoreContractTest, PostgresHarness);

// Records notifications as they arrive.
class RecordingListener final : public StoreListener {
 public:
  void work_queued() override { note("work"); }
  void job_changed(std::string_view job_id, bool stopped) override {
    note(std::string(job_id) + (stopped ? " stopped" : ""));
  }
  void missed_changes() override { note("missed"); }

  // Waits until `event` was heard; false after `timeout`.
  bool heard(const std::string& event, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return std::find(events_.begin(), events_.end(), event) != events_.end(); });
  }
  void forget() {
    const std::lock_guard lock(mutex_);
    events_.clear();
  }

 private:
  void note(std::string event) {
    {
      const std::lock_guard lock(mutex_);
      events_.push_back(std::move(event));
    }
    changed_.notify_all();
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> events_;
};

class PostgresStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<JobStore> open(StoreOptions options = {}) {
    auto store = harness_.open(options);
    EXPECT_TRUE(store.ok()) << (store ? "" : store.error().message);
    return std::move(store).value();
  }

  static NewJob job(std::int64_t now, int pages = 2) {
    return test::new_job(pages, now, std::make_shared<const std::string>(std::string("%PDF\0\xff\x01 binary", 14)));
  }

  PostgresHarness harness_;
};

TEST_F(PostgresStoreTest, DocumentsKeepEveryByte) {
  auto store = open();
  NewJob created = job(1000);
  std::string bytes;
  for (int i = 0; i < 3 * 256 * 1024; ++i) bytes += static_cast<char>(i * 7 % 256);
  created.document = std::make_shared<const std::string>(bytes);
  ASSERT_TRUE(store->create_job(created).ok());
  EXPECT_EQ(**store->read_document(created.id), bytes);
}

TEST_F(PostgresStoreTest, OtherNodesHearOfNewWorkProgressAndStoppedJobs) {
  auto api = open();
  auto worker = open();
  EXPECT_TRUE(worker->notifies());
  RecordingListener listener;
  const Subscription subscription = worker->subscribe(listener);
  ASSERT_TRUE(listener.heard("missed"));  // listening from now on
  const NewJob created = job(1000, 3);
  ASSERT_TRUE(api->create_job(created).ok());
  EXPECT_TRUE(listener.heard("work"));
  auto lease = [&] {
    auto task = api->lease_page({.worker_id = "w", .now_ms = 1000});
    EXPECT_TRUE(task.ok() && task->has_value());
    return **task;
  };
  // Progress is announced only while somebody watches the job.
  ASSERT_TRUE(api->complete_page(lease(), "{}", "e", 1001).ok());
  EXPECT_FALSE(listener.heard(created.id, std::chrono::milliseconds(500)));
  ASSERT_TRUE(worker->watch_progress({created.id}, 5000).ok());
  ASSERT_TRUE(api->complete_page(lease(), "{}", "e", 1002).ok());
  EXPECT_TRUE(listener.heard(created.id));
  // That a job stopped is announced whoever watches.
  ASSERT_TRUE(api->cancel_job(created.id, "stop", 6000).ok());
  EXPECT_TRUE(listener.heard(created.id + " stopped"));
}

TEST_F(PostgresStoreTest, ARequeuedPageIsAnnouncedAsWork) {
  auto store = open();
  RecordingListener listener;
  const Subscription subscription = store->subscribe(listener);
  ASSERT_TRUE(listener.heard("missed"));
  ASSERT_TRUE(store->create_job(job(1000)).ok());
  auto task = store->lease_page({.worker_id = "w", .now_ms = 1000});
  ASSERT_TRUE(task.ok() && task->has_value());
  ASSERT_TRUE(listener.heard("work"));
  listener.forget();
  ASSERT_TRUE(store->fail_page(**task, "engine away", 1001).ok());
  EXPECT_TRUE(listener.heard("work"));
}

// A restart closes every connection: the pool's idle connections are found
// lost and replaced, the listener reconnects and says it may have missed
// changes, and nothing written before is lost.
TEST_F(PostgresStoreTest, AServerRestartCostsNothingButTheRequestsWhileItIsDown) {
  auto store = open();
  RecordingListener listener;
  const Subscription subscription = store->subscribe(listener);
  ASSERT_TRUE(listener.heard("missed"));
  const NewJob created = job(1000);
  ASSERT_TRUE(store->create_job(created).ok());
  listener.forget();

  test::PostgresServer::shared().stop();
  const Status down = store->ping();
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().kind, Error::Kind::unavailable);
  EXPECT_GT(down.error().retry_after_s, 0);
  EXPECT_EQ(store->create_job(job(2000)).error().kind, Error::Kind::unavailable);
  test::PostgresServer::shared().start();

  EXPECT_TRUE(store->ping().ok());
  EXPECT_EQ(store->get_job(created.id)->status, JobStatus::pending);
  EXPECT_TRUE(listener.heard("missed", std::chrono::seconds(20)));
  listener.forget();
  ASSERT_TRUE(open()->create_job(job(3000)).ok());
  EXPECT_TRUE(listener.heard("work"));
}

// After a restart every idle connection of the pool is lost without knowing
// it; the first request that finds one lost replaces them all, so no
// request after the server is back fails.
TEST_F(PostgresStoreTest, NoRequestFailsOnceTheServerIsBackThoughEveryIdleConnectionWasLost) {
  auto store = open();
  std::vector<std::thread> users;
  for (int i = 0; i < 6; ++i) {
    users.emplace_back([&] {
      for (int n = 0; n < 20; ++n) EXPECT_TRUE(store->stats(1000).ok());
    });
  }
  for (auto& user : users) user.join();  // the pool holds several idle connections now
  test::PostgresServer::shared().restart();
  for (int i = 0; i < 6; ++i) {
    const Status ping = store->ping();
    EXPECT_TRUE(ping.ok()) << "request " << i << ": " << ping.error().message;
  }
}

TEST_F(PostgresStoreTest, NodesStartingAtOnceMigrateOneAfterTheOther) {
  // A fresh database, migrated by several stores at once.
  const std::string uri = test::PostgresServer::shared().new_database();
  std::atomic<int> failures{0};
  std::vector<std::thread> nodes;
  for (int i = 0; i < 4; ++i) {
    nodes.emplace_back([&] {
      auto store = open_job_store({StoreLocation::Kind::postgres, uri}, StoreOptions{});
      if (!store) {
        ADD_FAILURE() << store.error().message;
        ++failures;
      }
    });
  }
  for (auto& node : nodes) node.join();
  EXPECT_EQ(failures.load(), 0);
  auto store = open_job_store({StoreLocation::Kind::postgres, uri}, StoreOptions{});
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(*(*store)->schema_version(), latest_schema_version(StoreLocation::Kind::postgres));
}

TEST_F(PostgresStoreTest, AnUnreachableServerIsUnavailableNamingItWithoutItsPassword) {
  auto store = open_job_store({StoreLocation::Kind::postgres, "postgresql://visor:s3cret@127.0.0.1:1/visor"},
                              StoreOptions{});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, Error::Kind::unavailable);
  EXPECT_EQ(store.error().message.find("s3cret"), std::string::npos) << store.error().message;
  EXPECT_NE(store.error().message.find("127.0.0.1:1"), std::string::npos) << store.error().message;
}

TEST_F(PostgresStoreTest, CheckingWithoutMigratingReportsAnEmptyDatabaseAsVersionZero) {
  const std::string uri = test::PostgresServer::shared().new_database();
  auto store = open_job_store({StoreLocation::Kind::postgres, uri}, StoreOptions{}, {.migrate = false});
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_EQ(*(*store)->schema_version(), 0);
}

}  // namespace
}  // namespace visor::jobs

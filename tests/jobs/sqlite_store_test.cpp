#include <gtest/gtest.h>

#include <sqlite3.h>

#include "jobs/store_factory.hpp"
#include "jobs/sqlite_schema.hpp"
#include "job_store_contract.hpp"
#include "support/test_dir.hpp"
#include "support/test_job.hpp"

namespace visor::jobs {
namespace {

// Each test's store is a file of its own; every open() is another
// connection pool on it, as another process would have.
class SqliteHarness {
 public:
  Result<std::unique_ptr<JobStore>> open(StoreOptions options) {
    return open_job_store({StoreLocation::Kind::sqlite, (dir_ / "visor.db").string()}, options);
  }
  std::string path() const { return (dir_ / "visor.db").string(); }

 private:
  test::TestDir dir_{"visor-sqlite-store"};
};

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, JobStoreContractTest, SqliteHarness);

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<JobStore> open(StoreOptions options = {}) {
    auto store = harness_.open(options);
    EXPECT_TRUE(store.ok()) << (store ? "" : store.error().message);
    return std::move(store).value();
  }

  static NewJob job(std::int64_t now, std::size_t document_bytes = 16) {
    return test::new_job(2, now, std::make_shared<const std::string>(document_bytes, 'x'));
  }

  SqliteHarness harness_;
};

TEST_F(SqliteStoreTest, StateSurvivesClosingAndReopeningTheFile) {
  auto store = open();
  const NewJob created = job(1000);
  ASSERT_TRUE(store->create_job(created).ok());
  auto task = store->lease_page({.worker_id = "w", .now_ms = 1000});
  ASSERT_TRUE(task.ok() && task->has_value());
  ASSERT_TRUE(store->complete_page(**task, "{}", "e", 2000).ok());
  store.reset();
  store = open();
  EXPECT_EQ(store->get_job(created.id)->pages_done, 1);
  auto next = store->lease_page({.worker_id = "w", .now_ms = 3000});
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->page_index, 1);
}

TEST_F(SqliteStoreTest, AStoreWrittenBeforeVersionedMigrationsIsUpgradedInPlace) {
  // The schema of version 2, as stores had it before migration 3 existed.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(harness_.path().c_str(), &db), SQLITE_OK);
    const std::string v2 = std::string(sqlite_migrations()[0].sql) +
                           "INSERT INTO jobs (id, filename, model, dpi, total_pages, status, submitted_at) "
                           "VALUES ('fc-01JCFZ8X000000000000000000', 'old.pdf', 'dotsocr', 200, 1, 'pending', 5);"
                           "PRAGMA user_version=2;";
    ASSERT_EQ(sqlite3_exec(db, v2.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = open();
  EXPECT_EQ(store->get_job("fc-01JCFZ8X000000000000000000")->filename, "old.pdf");
  EXPECT_EQ(*store->schema_version(), latest_schema_version(StoreLocation::Kind::sqlite));
  EXPECT_TRUE(store->register_worker({"h:1", "h", 1, 0, std::chrono::seconds(10)}, 0).ok());
}

TEST_F(SqliteStoreTest, AStoreNewerThanThisVisorIsRefused) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(harness_.path().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=99;", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = harness_.open(StoreOptions{});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, Error::Kind::unavailable);
  EXPECT_NE(store.error().message.find("version 99"), std::string::npos) << store.error().message;
}

TEST_F(SqliteStoreTest, ASizeLimitRefusesDocumentsBeyondItsShareWithoutWritingAJob) {
  auto store = open(StoreOptions{.result_ttl = std::chrono::seconds(60), .max_bytes = 512 * 1024});
  int accepted = 0;
  Status refused;
  for (int i = 0; i < 20 && refused.ok(); ++i) {
    refused = store->create_job(job(1000 + i, 100 * 1024));
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
  auto listed = store->list_jobs(query);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(static_cast<int>(listed->jobs.size()), accepted);
  // Results of accepted jobs still fit.
  auto task = store->lease_page({.worker_id = "w", .now_ms = 5000});
  ASSERT_TRUE(task.ok() && task->has_value());
  EXPECT_TRUE(store->complete_page(**task, std::string(20 * 1024, 'r'), "e", 5001).ok());
}

TEST_F(SqliteStoreTest, SendsNoNotifications) { EXPECT_FALSE(open()->notifies()); }

}  // namespace
}  // namespace visor::jobs

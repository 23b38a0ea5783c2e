#include <gtest/gtest.h>

#include "jobs/job.hpp"
#include "jobs/migrations.hpp"
#include "jobs/page_result.hpp"
#include "jobs/store_factory.hpp"
#include "jobs/store_policy.hpp"

namespace visor::jobs {
namespace {

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

TEST(PageResultTest, PagesAreSuccessWithDataOrErrorWithAMessageStatusFirst) {
  EXPECT_EQ(page_success(nlohmann::json::array(), "ocr").dump(), R"({"status":"success","data":[],"source":"ocr"})");
  EXPECT_EQ(page_error("unreadable").dump(), R"({"status":"error","error":"unreadable"})");
  EXPECT_EQ(page_error_text("a \"quoted\"\nline"), R"({"status":"error","error":"a \"quoted\"\nline"})");
  EXPECT_TRUE(is_page_success(page_success(nlohmann::json::array(), "text-layer")));
  EXPECT_FALSE(is_page_success(page_error("x")));
  EXPECT_FALSE(is_page_success(PageJson("text")));
}

TEST(StorePolicyTest, StatusListsAreSpelledFromTheStatusNames) {
  EXPECT_EQ(sql_status_list(kFinishedStatuses), "('completed', 'failed', 'cancelled')");
  EXPECT_EQ(status_sql().active, "('pending', 'running')");
  EXPECT_EQ(effective_status_condition(JobStatus::running, 5), "status = 'running'");
  EXPECT_EQ(effective_status_condition(JobStatus::failed, 5), "(status = 'failed' AND expires_at > 5)");
  EXPECT_EQ(effective_status_condition(JobStatus::expired, 5),
            "(status = 'expired' OR (status IN ('completed', 'failed', 'cancelled') AND expires_at <= 5))");
}

TEST(StorePolicyTest, APageUsesUpItsAttemptsOnTheLastOne) {
  const StorePolicy policy(StoreOptions{.max_attempts = 3});
  EXPECT_FALSE(policy.attempts_used_up(2));
  EXPECT_TRUE(policy.attempts_used_up(3));
  EXPECT_EQ(StorePolicy::lapsed_attempts_error(3),
            "Page processing did not finish after 3 attempts (the worker crashed or ran out of time)");
}

TEST(StorePolicyTest, DocumentsMayFillFourFifthsOfASizeLimitedStore) {
  const StorePolicy unlimited(StoreOptions{});
  EXPECT_TRUE(unlimited.check_room_for(1LL << 40, 1 << 20).ok());
  const StorePolicy limited(StoreOptions{.max_bytes = 1000 * 1024});
  EXPECT_TRUE(limited.check_room_for(700 * 1024, 100 * 1024).ok());
  const Status full = limited.check_room_for(750 * 1024, 100 * 1024);
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().kind, Error::Kind::unavailable);
  EXPECT_NE(full.error().message.find("--max-store-size"), std::string::npos);
}

TEST(StorePolicyTest, StreamSlotsAreRefusedOverTheTotalFirstThenOverTheOwnersShare) {
  StreamSlotRequest request{.slot_id = "s", .node_id = "n", .owner = "k", .per_owner_limit = 2, .total_limit = 3};
  EXPECT_EQ(StorePolicy::slot_admission(request, 2, 1), SlotAdmission::admitted);
  EXPECT_EQ(StorePolicy::slot_admission(request, 2, 2), SlotAdmission::owner_full);
  EXPECT_EQ(StorePolicy::slot_admission(request, 3, 0), SlotAdmission::total_full);
  request.owner.reset();
  EXPECT_EQ(StorePolicy::slot_admission(request, 2, 2), SlotAdmission::admitted);
  request.total_limit = 0;
  EXPECT_EQ(StorePolicy::slot_admission(request, 100000, 0), SlotAdmission::admitted);
}

TEST(MigrationsTest, OnlyTheMigrationsAfterTheCurrentVersionRunAndNewerStoresAreRefused) {
  const Migration all[] = {{1, "a"}, {2, "b"}, {3, "c"}};
  auto pending = pending_migrations(all, 1);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].version, 2);
  EXPECT_TRUE(pending_migrations(all, 3)->empty());
  EXPECT_EQ(pending_migrations(all, 0)->size(), 3u);
  const auto newer = pending_migrations(all, 4);
  ASSERT_FALSE(newer.ok());
  EXPECT_NE(newer.error().message.find("version 4"), std::string::npos);
}

TEST(StoreLocationTest, NamesASqliteFileOrAPostgresUriAndHidesPasswords) {
  auto sqlite = parse_store_location("sqlite:./data/visor.db");
  ASSERT_TRUE(sqlite.ok());
  EXPECT_EQ(sqlite->kind, StoreLocation::Kind::sqlite);
  EXPECT_EQ(sqlite->target, "./data/visor.db");
  EXPECT_EQ(describe_store(*sqlite), "sqlite:./data/visor.db");
  for (const char* uri : {"postgresql://visor:s3cret@db:5432/visor", "postgres://visor:s3cret@db/visor"}) {
    auto pg = parse_store_location(uri);
    ASSERT_TRUE(pg.ok()) << uri;
    EXPECT_EQ(pg->kind, StoreLocation::Kind::postgres);
    EXPECT_EQ(pg->target, uri);
    EXPECT_EQ(describe_store(*pg).find("s3cret"), std::string::npos) << describe_store(*pg);
    EXPECT_NE(describe_store(*pg).find("visor:***@db"), std::string::npos) << describe_store(*pg);
  }
  auto query_password = parse_store_location("postgresql://db/visor?user=v&password=s3cret&sslmode=require");
  ASSERT_TRUE(query_password.ok());
  EXPECT_EQ(describe_store(*query_password), "postgresql://db/visor?user=v&password=***&sslmode=require");
  for (const char* bad : {"", "sqlite:", "mysql://db/visor", "./data/visor.db", "postgresql:db"}) {
    auto refused = parse_store_location(bad);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_NE(refused.error().message.find("sqlite:PATH"), std::string::npos);
  }
}

}  // namespace
}  // namespace visor::jobs

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "jobs/store_factory.hpp"
#include "support/test_dir.hpp"
#include "support/test_job.hpp"
#include "worker/orphaned_leases.hpp"

namespace visor::worker {
namespace {

using namespace std::chrono_literals;

class OrphanedLeasesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = jobs::open_job_store({jobs::StoreLocation::Kind::sqlite, (dir_ / "visor.db").string()}, {});
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
    const jobs::NewJob job = test::new_job(4, 1000);
    ASSERT_TRUE(store_->create_job(job).ok());
  }

  void lease_as(const std::string& worker) {
    auto task = store_->lease_page({.worker_id = worker, .now_ms = 2000, .lease_duration = 60000ms});
    ASSERT_TRUE(task.ok() && task->has_value());
  }

  test::TestDir dir_{"visor-orphans"};
  std::unique_ptr<jobs::JobStore> store_;  // after dir_: closed before it is removed
};

TEST_F(OrphanedLeasesTest, ReturnsOnlyLeasesOfThisHostsProcessesThatAreGone) {
  lease_as("alpha:100/0");  // gone
  lease_as("alpha:100/1");  // gone, same process
  lease_as("alpha:200/0");  // alive
  lease_as("beta:100/0");   // another host: not ours to judge
  auto returned = return_orphaned_leases(*store_, "alpha", [](pid_t pid) { return pid == 200; });
  ASSERT_TRUE(returned.ok());
  EXPECT_EQ(*returned, 2);
  auto holders = store_->lease_holders();
  ASSERT_TRUE(holders.ok());
  EXPECT_EQ(*holders, (std::vector<std::string>{"alpha:200/0", "beta:100/0"}));
}

TEST_F(OrphanedLeasesTest, IgnoresWorkerIdsItCannotRead) {
  lease_as("alpha");
  lease_as("alpha:x/0");
  lease_as("alphabet:100/0");
  auto returned = return_orphaned_leases(*store_, "alpha", [](pid_t) { return false; });
  ASSERT_TRUE(returned.ok());
  EXPECT_EQ(*returned, 0);
}

TEST(ProcessExistsTest, KnowsThisProcessAndNotAnImpossiblePid) {
  EXPECT_TRUE(process_exists(::getpid()));
  EXPECT_FALSE(process_exists(0x3fffffff));
}

TEST(ProcessExistsTest, AZombieIsGone) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  // Not reaped yet: the child stays a zombie until waitpid.
  for (int i = 0; i < 200 && process_exists(child); ++i) ::usleep(10000);
  EXPECT_FALSE(process_exists(child));
  int status = 0;
  ::waitpid(child, &status, 0);
}

}  // namespace
}  // namespace visor::worker

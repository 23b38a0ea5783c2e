// The worker pool on the shared store: woken by the store's notifications,
// still finding work when they are lost, and stopping a page at once when
// another node cancels its job.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "jobs/store_factory.hpp"
#include "support/forwarding_store.hpp"
#include "support/test_job.hpp"
#include "support/postgres_server.hpp"
#include "support/test_pdf.hpp"
#include "util/time.hpp"
#include "worker/worker_pool.hpp"

namespace visor::worker {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Answers at once, or holds each page until it is abandoned.
class TestEngine final : public ocr::Engine {
 public:
  explicit TestEngine(bool hold) : hold_(hold) {}
  std::string name() const override { return "test"; }
  Result<nlohmann::json> recognize(const ocr::PageInput& page, ocr::Model) override {
    ++started;
    while (hold_ && !page.abandon.stop_requested()) std::this_thread::sleep_for(5ms);
    if (page.abandon.stop_requested()) {
      abandoned_at = Clock::now();
      return Error::conflict("abandoned");
    }
    return nlohmann::json::array();
  }
  static inline std::atomic<int> started{0};
  static inline std::atomic<Clock::time_point> abandoned_at{};

 private:
  bool hold_;
};

class WorkerPoolOnPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override { TestEngine::started = 0; }

  std::unique_ptr<jobs::JobStore> open() { return test::PostgresServer::open_store(uri_); }

  std::string submit(jobs::JobStore& store) {
    jobs::NewJob job = test::new_job(1, util::now_ms(), std::make_shared<const std::string>(test::make_pdf({{test::text_page("Hello")}})));
    job.dpi = 72;
    EXPECT_TRUE(store.create_job(job).ok());
    return job.id;
  }

  static WorkerOptions options(std::chrono::milliseconds idle_poll, std::chrono::milliseconds lease = 30s) {
    WorkerOptions options;
    options.threads = 1;
    options.node_id = "test:" + std::to_string(::getpid());
    options.idle_poll = idle_poll;
    options.lease_duration = lease;
    return options;
  }

  static bool completes_within(jobs::JobStore& store, const std::string& job_id, std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      auto job = store.get_job(job_id);
      if (job && job->status == jobs::JobStatus::completed) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  std::string uri_ = test::PostgresServer::shared().new_database();
};

TEST_F(WorkerPoolOnPostgresTest, AnIdleWorkerTakesWorkAnotherNodeQueuedAsSoonAsItIsAnnounced) {
  auto worker_store = open();
  auto api_store = open();
  // Polling alone would take a minute: only the notification can be quick.
  WorkerPool pool(*worker_store, [] { return std::make_unique<TestEngine>(false); }, options(60s));
  std::this_thread::sleep_for(500ms);  // the pool has looked once and is idle
  const std::string id = submit(*api_store);
  EXPECT_TRUE(completes_within(*api_store, id, 5s));
}

TEST_F(WorkerPoolOnPostgresTest, WhenNotificationsAreLostTheSlowPollStillFindsTheWork) {
  auto target = open();
  test::DeafStore deaf(*target);
  auto api_store = open();
  WorkerPool pool(deaf, [] { return std::make_unique<TestEngine>(false); }, options(1s));
  std::this_thread::sleep_for(500ms);
  const std::string id = submit(*api_store);
  EXPECT_TRUE(completes_within(*api_store, id, 5s));
}

TEST_F(WorkerPoolOnPostgresTest, ACancellationOnAnotherNodeStopsTheRunningPageAtOnce) {
  auto worker_store = open();
  auto api_store = open();
  // Renewals come every 20 s: stopping sooner needs the notification.
  WorkerPool pool(*worker_store, [] { return std::make_unique<TestEngine>(true); }, options(1s, 60s));
  const std::string id = submit(*api_store);
  const auto deadline = Clock::now() + 10s;
  while (TestEngine::started == 0 && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(TestEngine::started, 1);
  const auto cancelled_at = Clock::now();
  ASSERT_TRUE(api_store->cancel_job(id, "stop", util::now_ms()).ok());
  while (TestEngine::abandoned_at.load() < cancelled_at && Clock::now() < deadline + 10s) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_GE(TestEngine::abandoned_at.load(), cancelled_at);
  EXPECT_LT(TestEngine::abandoned_at.load() - cancelled_at, 5s);
}

TEST_F(WorkerPoolOnPostgresTest, APoolRegistersItsProcessAndTakesItsRecordAwayWhenItStops) {
  auto store = open();
  {
    WorkerPool pool(*store, [] { return std::make_unique<TestEngine>(false); }, options(1s));
    auto stats = store->stats(util::now_ms());
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->live_worker_threads, 1);
  }
  EXPECT_EQ(store->stats(util::now_ms())->live_worker_threads, 0);
}

}  // namespace
}  // namespace visor::worker

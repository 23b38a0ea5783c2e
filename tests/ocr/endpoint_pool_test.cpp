#include <gtest/gtest.h>

#include <stop_token>
#include <thread>

#include "ocr/remote/endpoint_pool.hpp"

namespace visor::ocr::remote {
namespace {

using namespace std::chrono_literals;

EndpointPool two_endpoints(int max_in_flight = 2) {
  return EndpointPool({{"http://a:8000", "m", "", max_in_flight, 1s}, {"http://b:8000/v1/", "m", "", max_in_flight, 1s}});
}

TEST(EndpointPoolTest, BuildsOpenAiUrls) {
  EXPECT_EQ(EndpointPool::chat_url({"http://a:8000", "m"}), "http://a:8000/v1/chat/completions");
  EXPECT_EQ(EndpointPool::chat_url({"http://b:8000/v1/", "m"}), "http://b:8000/v1/chat/completions");
  EXPECT_EQ(EndpointPool::models_url({"https://api.example/v1", "m"}), "https://api.example/v1/models");
}

TEST(EndpointPoolTest, SpreadsRequestsToTheLeastLoadedEndpoint) {
  EndpointPool pool = two_endpoints();
  const auto first = pool.acquire(0ms);
  const auto second = pool.acquire(0ms);
  ASSERT_TRUE(first && second);
  EXPECT_NE(*first, *second);
}

TEST(EndpointPoolTest, RespectsTheConcurrencyLimit) {
  EndpointPool pool = two_endpoints(1);
  const auto a = pool.acquire(0ms);
  const auto b = pool.acquire(0ms);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(pool.acquire(20ms).has_value());
  pool.release(*a, Outcome::success);
  EXPECT_EQ(pool.acquire(0ms), a);
}

TEST(EndpointPoolTest, WaitsForCapacityToFreeUp) {
  EndpointPool pool({{"http://a", "m", "", 1, 1s}});
  const auto held = pool.acquire(0ms);
  std::thread releaser([&] {
    std::this_thread::sleep_for(30ms);
    pool.release(*held, Outcome::success);
  });
  EXPECT_TRUE(pool.acquire(2s).has_value());
  releaser.join();
}

TEST(EndpointPoolTest, StopsWaitingForCapacityWhenStopped) {
  EndpointPool pool({{"http://a", "m", "", 1, 1s}});
  const auto held = pool.acquire(0ms);
  ASSERT_TRUE(held);
  std::stop_source stop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(30ms);
    stop.request_stop();
  });
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(pool.acquire(60s, stop.get_token()).has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s) << "waited as if never stopped";
  stopper.join();
  pool.release(*held, Outcome::success);
  EXPECT_TRUE(pool.acquire(0ms).has_value());
}

TEST(EndpointPoolTest, UnreachableEndpointIsTakenOutAtOnceAndOthersServe) {
  EndpointPool pool = two_endpoints();
  const auto a = pool.acquire(0ms);
  pool.release(*a, Outcome::unreachable, "connection refused");
  for (int i = 0; i < 3; ++i) {
    const auto next = pool.acquire(0ms);
    ASSERT_TRUE(next);
    EXPECT_NE(*next, *a);
    pool.release(*next, Outcome::success);
  }
  EXPECT_TRUE(pool.any_healthy());
  EXPECT_FALSE(pool.status()[static_cast<std::size_t>(*a)].healthy);
  EXPECT_EQ(pool.status()[static_cast<std::size_t>(*a)].last_error, "connection refused");
}

TEST(EndpointPoolTest, ThreeFailuresInARowTakeAnEndpointOut) {
  EndpointPool pool({{"http://a", "m", "", 4, 1s}});
  for (int i = 0; i < 2; ++i) pool.release(*pool.acquire(0ms), Outcome::failure, "HTTP 500");
  EXPECT_TRUE(pool.any_healthy());
  pool.release(*pool.acquire(0ms), Outcome::failure, "HTTP 500");
  EXPECT_FALSE(pool.any_healthy());
  EXPECT_FALSE(pool.acquire(0ms).has_value());
}

TEST(EndpointPoolTest, AbandonedRequestsFreeCapacityWithoutCountingAgainstTheEndpoint) {
  EndpointPool pool({{"http://a", "m", "", 1, 1s}});
  pool.release(*pool.acquire(0ms), Outcome::failure, "HTTP 500");
  pool.release(*pool.acquire(0ms), Outcome::failure, "HTTP 500");
  for (int i = 0; i < 3; ++i) pool.release(*pool.acquire(0ms), Outcome::abandoned);
  EXPECT_TRUE(pool.any_healthy());
  EXPECT_EQ(pool.due_for_probe(), std::vector<int>{});  // checked by the failures, not by the abandons
  pool.release(*pool.acquire(0ms), Outcome::failure, "HTTP 500");  // the third failure in a row
  EXPECT_FALSE(pool.any_healthy());
}

TEST(EndpointPoolTest, AnAbandonedRequestDoesNotCountAsAHealthCheck) {
  EndpointPool pool({{"http://a", "m", "", 1, 1s}});
  pool.release(*pool.acquire(0ms), Outcome::abandoned);
  EXPECT_EQ(pool.due_for_probe(), std::vector<int>{0});
}

TEST(EndpointPoolTest, ProbesBringAnEndpointBack) {
  EndpointPool pool({{"http://a", "m", "", 4, 1s}});
  EXPECT_EQ(pool.due_for_probe(), std::vector<int>{0});  // never checked
  pool.record_probe(0, false, "refused");
  EXPECT_FALSE(pool.any_healthy());
  EXPECT_TRUE(pool.due_for_probe().empty());  // cooling down
  pool.record_probe(0, true);
  EXPECT_TRUE(pool.any_healthy());
  EXPECT_TRUE(pool.acquire(0ms).has_value());
}

}  // namespace
}  // namespace visor::ocr::remote

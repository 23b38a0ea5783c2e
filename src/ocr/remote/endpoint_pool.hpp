#pragma once
// The inference endpoints serving one model, shared by every worker thread.
// Requests go to the healthy endpoint with the fewest requests in flight;
// each endpoint takes at most its concurrency limit at once. An endpoint
// that cannot be reached, or fails three requests in a row, is taken out
// and probed again after a cool-down that doubles up to a minute.
//
// Thread safety: every method may be called from any thread.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace visor::ocr::remote {

struct EndpointConfig {
  std::string url;      // base URL: "http://gpu1:8000" or ".../v1"
  std::string model;    // the served model name
  std::string api_key;  // sent as a bearer token when not empty
  int max_in_flight = 32;
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
};

struct EndpointStatus {
  std::string url;
  std::string model;
  bool healthy = false;
  int in_flight = 0;
  std::string last_error;
};

// How a request to an endpoint ended, for its health.
enum class Outcome {
  success,
  unreachable,  // connection refused, reset or dropped: out at once
  failure,      // 5xx, 429, timeout: out after three in a row
  abandoned,    // stopped by Visor (the page's job was cancelled): says nothing of the endpoint
};

class EndpointPool {
 public:
  explicit EndpointPool(std::vector<EndpointConfig> endpoints);

  // An endpoint for one request: usable, with spare capacity, fewest in
  // flight. Waits up to `wait` for capacity, less once `stop` is requested;
  // nullopt when no endpoint is usable or none frees up in time.
  // REQUIRES: release() for each index got.
  std::optional<int> acquire(std::chrono::milliseconds wait, std::stop_token stop = {});
  void release(int index, Outcome outcome, std::string_view error = {});

  const EndpointConfig& config(int index) const { return endpoints_[static_cast<std::size_t>(index)]; }
  int size() const { return static_cast<int>(endpoints_.size()); }

  // True when some endpoint is in service (not taken out).
  bool any_healthy() const;
  std::string last_error() const;
  std::vector<EndpointStatus> status() const;

  // Endpoints out of service whose cool-down has ended, or never checked.
  std::vector<int> due_for_probe() const;
  void record_probe(int index, bool reachable, std::string_view error = {});

  // "http://host:8000/v1/chat/completions" and ".../v1/models".
  static std::string chat_url(const EndpointConfig& endpoint);
  static std::string models_url(const EndpointConfig& endpoint);

 private:
  using Clock = std::chrono::steady_clock;
  struct State {
    int in_flight = 0;
    int consecutive_failures = 0;
    bool checked = false;
    bool out = false;
    int cool_downs = 0;
    Clock::time_point retry_at{};
    std::string last_error;
  };

  struct Choice {
    std::optional<int> index;  // the endpoint to take, if one has capacity
    bool any_usable = false;
  };
  Choice choose(Clock::time_point now) const;  // REQUIRES: mutex_ held
  bool usable(const State& state, Clock::time_point now) const;
  void take_out(State& state, std::string_view error, Clock::time_point now);
  void record(State& state, Outcome outcome, std::string_view error);  // REQUIRES: mutex_ held

  std::vector<EndpointConfig> endpoints_;
  mutable std::mutex mutex_;
  std::condition_variable_any freed_;
  std::vector<State> states_;
  unsigned next_ = 0;  // rotates ties between equally loaded endpoints
};

}  // namespace visor::ocr::remote

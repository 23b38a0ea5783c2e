#include "ocr/remote/endpoint_pool.hpp"

#include <algorithm>

namespace visor::ocr::remote {
namespace {

constexpr int kFailuresToTakeOut = 3;
constexpr auto kFirstCoolDown = std::chrono::seconds(2);
constexpr auto kLongestCoolDown = std::chrono::seconds(60);

std::string api_base(const EndpointConfig& endpoint) {
  std::string base = endpoint.url;
  while (base.ends_with("/")) base.pop_back();
  if (!base.ends_with("/v1")) base += "/v1";
  return base;
}

}  // namespace

EndpointPool::EndpointPool(std::vector<EndpointConfig> endpoints)
    : endpoints_(std::move(endpoints)), states_(endpoints_.size()) {}

std::string EndpointPool::chat_url(const EndpointConfig& endpoint) { return api_base(endpoint) + "/chat/completions"; }
std::string EndpointPool::models_url(const EndpointConfig& endpoint) { return api_base(endpoint) + "/models"; }

bool EndpointPool::usable(const State& state, Clock::time_point now) const {
  return !state.out || now >= state.retry_at;
}

void EndpointPool::take_out(State& state, std::string_view error, Clock::time_point now) {
  const auto cool_down = std::min<Clock::duration>(kFirstCoolDown * (1 << std::min(state.cool_downs, 5)), kLongestCoolDown);
  state.out = true;
  state.retry_at = now + cool_down;
  ++state.cool_downs;
  state.last_error = error;
}

EndpointPool::Choice EndpointPool::choose(Clock::time_point now) const {
  Choice choice;
  for (std::size_t k = 0; k < states_.size(); ++k) {
    const std::size_t i = (next_ + k) % states_.size();
    const State& state = states_[i];
    if (!usable(state, now)) continue;
    choice.any_usable = true;
    if (state.in_flight >= endpoints_[i].max_in_flight) continue;
    if (!choice.index || state.in_flight < states_[static_cast<std::size_t>(*choice.index)].in_flight) {
      choice.index = static_cast<int>(i);
    }
  }
  return choice;
}

std::optional<int> EndpointPool::acquire(std::chrono::milliseconds wait, std::stop_token stop) {
  std::unique_lock lock(mutex_);
  Choice choice;
  freed_.wait_until(lock, stop, Clock::now() + wait, [&] {
    choice = choose(Clock::now());
    return choice.index || !choice.any_usable;
  });
  if (!choice.index) return std::nullopt;
  ++states_[static_cast<std::size_t>(*choice.index)].in_flight;
  ++next_;
  return choice.index;
}

void EndpointPool::release(int index, Outcome outcome, std::string_view error) {
  {
    const std::lock_guard lock(mutex_);
    State& state = states_[static_cast<std::size_t>(index)];
    --state.in_flight;
    if (outcome != Outcome::abandoned) record(state, outcome, error);
  }
  freed_.notify_all();
}

// The endpoint's health after one request that tells something of it.
void EndpointPool::record(State& state, Outcome outcome, std::string_view error) {
  state.checked = true;
  if (outcome == Outcome::success) {
    state.consecutive_failures = 0;
    state.out = false;
    state.cool_downs = 0;
  } else {
    state.last_error = error;
    ++state.consecutive_failures;
    if (outcome == Outcome::unreachable || state.consecutive_failures >= kFailuresToTakeOut) {
      take_out(state, error, Clock::now());
    }
  }
}

bool EndpointPool::any_healthy() const {
  const std::lock_guard lock(mutex_);
  return std::any_of(states_.begin(), states_.end(), [](const State& s) { return !s.out; });
}

std::string EndpointPool::last_error() const {
  const std::lock_guard lock(mutex_);
  for (const State& state : states_) {
    if (!state.last_error.empty()) return state.last_error;
  }
  return {};
}

std::vector<EndpointStatus> EndpointPool::status() const {
  const std::lock_guard lock(mutex_);
  std::vector<EndpointStatus> out;
  for (std::size_t i = 0; i < states_.size(); ++i) {
    out.push_back({endpoints_[i].url, endpoints_[i].model, !states_[i].out, states_[i].in_flight,
                   states_[i].last_error});
  }
  return out;
}

std::vector<int> EndpointPool::due_for_probe() const {
  const std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  std::vector<int> due;
  for (std::size_t i = 0; i < states_.size(); ++i) {
    if (!states_[i].checked || (states_[i].out && now >= states_[i].retry_at)) due.push_back(static_cast<int>(i));
  }
  return due;
}

void EndpointPool::record_probe(int index, bool reachable, std::string_view error) {
  {
    const std::lock_guard lock(mutex_);
    State& state = states_[static_cast<std::size_t>(index)];
    state.checked = true;
    if (reachable) {
      state.out = false;
      state.consecutive_failures = 0;
      state.cool_downs = 0;
    } else {
      take_out(state, error, Clock::now());
    }
  }
  freed_.notify_all();
}

}  // namespace visor::ocr::remote

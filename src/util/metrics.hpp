#pragma once
// A small metrics registry: counters, gauges and histograms with labels,
// written out in the Prometheus text exposition format (version 0.0.4).
//
// Families are registered once, with fixed label names; a family's `with()`
// returns the child for one tuple of label values, created on first use.
// Children live as long as the registry, so callers may keep the reference.
//
// Thread safety: every method may be called from any thread. Updating a
// child is lock-free; creating a child and rendering take the family's lock.
// Registering a family with an invalid or duplicate name is a programming
// error and throws std::invalid_argument.

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace visor::util::metrics {

class Counter {
 public:
  // REQUIRES: amount >= 0 (counters only go up).
  void add(double amount = 1.0) { value_.fetch_add(amount, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double amount) { value_.fetch_add(amount, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // REQUIRES: `upper_bounds` strictly increasing; +Inf is implied.
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<std::uint64_t> cumulative_counts;  // one per bound, then +Inf
    double sum = 0.0;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket, not cumulative; last is +Inf
  std::atomic<double> sum_{0.0};
};

// Label values of one child, in the order of the family's label names.
using LabelValues = std::vector<std::string>;

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  // Appends the HELP, TYPE and sample lines of this family.
  virtual void render(std::string& out) const = 0;

 protected:
  void check_arity(const LabelValues& values) const;
  // `name{a="x",b="y"}` with `extra` (e.g. le="0.5") appended to the labels.
  std::string series(std::string_view suffix, const LabelValues& values, std::string_view extra = {}) const;
  void render_header(std::string& out, std::string_view type) const;

  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
};

template <class Metric>
class Family final : public FamilyBase {
 public:
  using Factory = std::function<std::unique_ptr<Metric>()>;
  Family(std::string name, std::string help, std::vector<std::string> label_names, Factory make)
      : FamilyBase(std::move(name), std::move(help), std::move(label_names)), make_(std::move(make)) {}

  // The child for `values`; throws std::invalid_argument when the number of
  // values differs from the number of label names.
  Metric& with(LabelValues values) {
    check_arity(values);
    const std::lock_guard lock(mutex_);
    auto& slot = children_[std::move(values)];
    if (!slot) slot = make_();
    return *slot;
  }
  Metric& with(std::initializer_list<std::string_view> values) {
    return with(LabelValues(values.begin(), values.end()));
  }

  void render(std::string& out) const override;

 private:
  Factory make_;
  mutable std::mutex mutex_;
  std::map<LabelValues, std::unique_ptr<Metric>> children_;
};

template <>
void Family<Counter>::render(std::string& out) const;
template <>
void Family<Gauge>::render(std::string& out) const;
template <>
void Family<Histogram>::render(std::string& out) const;

class Registry {
 public:
  Family<Counter>& counter(std::string name, std::string help, std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  Family<Histogram>& histogram(std::string name, std::string help, std::vector<double> upper_bounds,
                               std::vector<std::string> label_names = {});

  // Runs before every render, e.g. to set gauges from a store query. A
  // collector must not register families or add collectors.
  void add_collector(std::function<void()> collect);

  // Every family in registration order, in the text exposition format.
  std::string render() const;

 private:
  template <class Metric>
  Family<Metric>& add(std::unique_ptr<Family<Metric>> family);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
  std::vector<std::function<void()>> collectors_;
};

// The Content-Type of render()'s output.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// A sample value as the format writes it: shortest round-trip decimal,
// "+Inf", "-Inf" or "NaN".
std::string format_value(double value);

}  // namespace visor::util::metrics

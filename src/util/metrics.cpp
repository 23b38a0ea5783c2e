#include "util/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace visor::util::metrics {
namespace {

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

// Metric names may also contain ':' (reserved for recording rules, so we
// do not accept it); label names starting with "__" are reserved.
void check_name(std::string_view name, std::string_view what) {
  const bool valid = !name.empty() && is_name_start(name.front()) && std::all_of(name.begin(), name.end(), is_name_char);
  if (!valid || (what == "label" && (name.starts_with("__") || name == "le"))) {
    throw std::invalid_argument("invalid metric " + std::string(what) + " name '" + std::string(name) + "'");
  }
}

// Label values escape backslash, double quote and line feed; HELP text
// escapes backslash and line feed only.
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void append_sample(std::string& out, const std::string& series, double value) {
  out += series;
  out += ' ';
  out += format_value(value);
  out += '\n';
}

}  // namespace

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, ec == std::errc() ? end : buffer);
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds_.size() + 1)) {
  if (!std::is_sorted(upper_bounds_.begin(), upper_bounds_.end()) ||
      std::adjacent_find(upper_bounds_.begin(), upper_bounds_.end()) != upper_bounds_.end()) {
    throw std::invalid_argument("histogram bounds must be strictly increasing");
  }
}

void Histogram::observe(double value) {
  // Buckets are "less than or equal to the bound".
  const auto bucket = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin();
  counts_[static_cast<std::size_t>(bucket)].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snap;
  snap.upper_bounds = upper_bounds_;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    snap.cumulative_counts.push_back(running);
  }
  snap.sum = sum_.load(std::memory_order_relaxed);
  return snap;
}

FamilyBase::FamilyBase(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {
  check_name(name_, "family");
  for (const auto& label : label_names_) check_name(label, "label");
}

void FamilyBase::check_arity(const LabelValues& values) const {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument("metric " + name_ + " takes " + std::to_string(label_names_.size()) +
                                " label values, got " + std::to_string(values.size()));
  }
}

std::string FamilyBase::series(std::string_view suffix, const LabelValues& values, std::string_view extra) const {
  std::string out = name_;
  out += suffix;
  if (values.empty() && extra.empty()) return out;
  out += '{';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += label_names_[i];
    out += "=\"";
    append_escaped(out, values[i], true);
    out += '"';
  }
  if (!extra.empty()) {
    if (!values.empty()) out += ',';
    out += extra;
  }
  out += '}';
  return out;
}

void FamilyBase::render_header(std::string& out, std::string_view type) const {
  out += "# HELP " + name_ + ' ';
  append_escaped(out, help_, false);
  out += "\n# TYPE " + name_ + ' ';
  out += type;
  out += '\n';
}

template <>
void Family<Counter>::render(std::string& out) const {
  render_header(out, "counter");
  const std::lock_guard lock(mutex_);
  for (const auto& [values, counter] : children_) append_sample(out, series("", values), counter->value());
}

template <>
void Family<Gauge>::render(std::string& out) const {
  render_header(out, "gauge");
  const std::lock_guard lock(mutex_);
  for (const auto& [values, gauge] : children_) append_sample(out, series("", values), gauge->value());
}

template <>
void Family<Histogram>::render(std::string& out) const {
  render_header(out, "histogram");
  const std::lock_guard lock(mutex_);
  for (const auto& [values, histogram] : children_) {
    const auto snap = histogram->snapshot();
    for (std::size_t i = 0; i <= snap.upper_bounds.size(); ++i) {
      const std::string bound = i < snap.upper_bounds.size() ? format_value(snap.upper_bounds[i]) : "+Inf";
      append_sample(out, series("_bucket", values, "le=\"" + bound + "\""),
                    static_cast<double>(snap.cumulative_counts[i]));
    }
    append_sample(out, series("_sum", values), snap.sum);
    append_sample(out, series("_count", values), static_cast<double>(snap.cumulative_counts.back()));
  }
}

template <class Metric>
Family<Metric>& Registry::add(std::unique_ptr<Family<Metric>> family) {
  const std::lock_guard lock(mutex_);
  for (const auto& existing : families_) {
    if (existing->name() == family->name()) throw std::invalid_argument("metric " + family->name() + " registered twice");
  }
  auto& added = *family;
  families_.push_back(std::move(family));
  return added;
}

Family<Counter>& Registry::counter(std::string name, std::string help, std::vector<std::string> label_names) {
  const bool unlabelled = label_names.empty();
  auto& family = add(std::make_unique<Family<Counter>>(std::move(name), std::move(help), std::move(label_names),
                                                       [] { return std::make_unique<Counter>(); }));
  // A family without labels has one series, reported as 0 before first use.
  if (unlabelled) family.with(LabelValues{});
  return family;
}

Family<Gauge>& Registry::gauge(std::string name, std::string help, std::vector<std::string> label_names) {
  const bool unlabelled = label_names.empty();
  auto& family = add(std::make_unique<Family<Gauge>>(std::move(name), std::move(help), std::move(label_names),
                                                     [] { return std::make_unique<Gauge>(); }));
  if (unlabelled) family.with(LabelValues{});
  return family;
}

Family<Histogram>& Registry::histogram(std::string name, std::string help, std::vector<double> upper_bounds,
                                       std::vector<std::string> label_names) {
  const bool unlabelled = label_names.empty();
  auto make = [bounds = std::move(upper_bounds)] { return std::make_unique<Histogram>(bounds); };
  (void)make();  // rejects bad bounds at registration, not at first use
  auto& family = add(std::make_unique<Family<Histogram>>(std::move(name), std::move(help), std::move(label_names),
                                                         std::move(make)));
  if (unlabelled) family.with(LabelValues{});
  return family;
}

void Registry::add_collector(std::function<void()> collect) {
  const std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collect));
}

std::string Registry::render() const {
  std::vector<std::function<void()>> collectors;
  {
    const std::lock_guard lock(mutex_);
    collectors = collectors_;
  }
  for (const auto& collect : collectors) collect();
  std::string out;
  const std::lock_guard lock(mutex_);
  for (const auto& family : families_) family->render(out);
  return out;
}

}  // namespace visor::util::metrics

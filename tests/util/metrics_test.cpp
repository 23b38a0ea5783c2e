#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "util/metrics.hpp"

namespace visor::util::metrics {
namespace {

// A strict reader of the text exposition format (0.0.4), enough to check
// what a Prometheus scraper checks: every sample belongs to a family
// declared by HELP and TYPE before it, names and labels are well formed,
// label values are escaped, values parse, a family's samples are contiguous,
// histograms have cumulative buckets ending in +Inf equal to _count.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Exposition {
  std::map<std::string, std::string> types;
  std::map<std::string, std::string> helps;
  std::vector<Sample> samples;
};

std::map<std::string, std::string> parse_labels(const std::string& text) {
  std::map<std::string, std::string> labels;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto eq = text.find("=\"", pos);
    if (eq == std::string::npos) throw std::runtime_error("label without =\": " + text);
    const std::string name = text.substr(pos, eq - pos);
    if (!std::regex_match(name, std::regex("[a-zA-Z_][a-zA-Z0-9_]*"))) throw std::runtime_error("label " + name);
    std::string value;
    pos = eq + 2;
    for (;; ++pos) {
      if (pos >= text.size()) throw std::runtime_error("unterminated label value: " + text);
      const char c = text[pos];
      if (c == '"') break;
      if (c == '\n') throw std::runtime_error("raw line feed in a label value");
      if (c != '\\') {
        value += c;
        continue;
      }
      const char next = text.at(++pos);
      if (next == 'n') value += '\n';
      else if (next == '\\' || next == '"') value += next;
      else throw std::runtime_error("bad escape in a label value");
    }
    if (!labels.emplace(name, value).second) throw std::runtime_error("duplicate label " + name);
    ++pos;
    if (pos < text.size()) {
      if (text[pos] != ',') throw std::runtime_error("expected , between labels: " + text);
      ++pos;
    }
  }
  return labels;
}

double parse_value(const std::string& text) {
  if (text == "+Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  if (text == "NaN") return NAN;
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::logic_error&) {
    throw std::runtime_error("bad value " + text);
  }
  if (used != text.size()) throw std::runtime_error("bad value " + text);
  return value;
}

// The family a sample name belongs to: histogram samples carry a suffix.
std::string family_of(const std::string& sample, const std::map<std::string, std::string>& types) {
  if (types.count(sample)) return sample;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s = suffix;
    if (sample.size() > s.size() && sample.ends_with(s)) {
      const std::string base = sample.substr(0, sample.size() - s.size());
      if (types.count(base) && types.at(base) == "histogram") return base;
    }
  }
  throw std::runtime_error("sample " + sample + " has no TYPE line before it");
}

Exposition parse_exposition(const std::string& text) {
  static const std::regex meta(R"(# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*))");
  static const std::regex sample(R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+))");
  if (!text.empty() && text.back() != '\n') throw std::runtime_error("the text must end with a line feed");
  Exposition out;
  std::set<std::string> finished;  // families whose samples are over
  std::string current;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_match(line, m, meta)) {
      auto& slot = m[1] == "HELP" ? out.helps : out.types;
      if (!slot.emplace(m[2], m[3]).second) throw std::runtime_error("second " + std::string(m[1]) + " for " + std::string(m[2]));
      if (m[1] == "TYPE" && !std::set<std::string>{"counter", "gauge", "histogram", "summary", "untyped"}.count(m[3])) {
        throw std::runtime_error("unknown type " + std::string(m[3]));
      }
      continue;
    }
    if (!std::regex_match(line, m, sample)) throw std::runtime_error("not a sample line: " + line);
    const std::string family = family_of(m[1], out.types);
    if (family != current) {
      if (finished.count(family)) throw std::runtime_error("samples of " + family + " are not contiguous");
      if (!current.empty()) finished.insert(current);
      current = family;
    }
    out.samples.push_back({m[1], parse_labels(m[3]), parse_value(m[4])});
  }
  return out;
}

std::vector<Sample> samples_named(const Exposition& e, const std::string& name) {
  std::vector<Sample> out;
  for (const auto& s : e.samples) {
    if (s.name == name) out.push_back(s);
  }
  return out;
}

TEST(MetricsTest, CountersAndGaugesRenderWithHelpTypeAndLabels) {
  Registry registry;
  auto& pages = registry.counter("visor_pages_processed_total", "Pages processed.", {"model", "outcome"});
  auto& open = registry.gauge("visor_sse_streams_open", "Open SSE streams.");
  pages.with({"dotsocr", "success"}).add();
  pages.with({"dotsocr", "success"}).add(2);
  pages.with({"lightonocr", "error"}).add();
  open.with({}).set(3);

  const Exposition e = parse_exposition(registry.render());
  EXPECT_EQ(e.types.at("visor_pages_processed_total"), "counter");
  EXPECT_EQ(e.types.at("visor_sse_streams_open"), "gauge");
  EXPECT_EQ(e.helps.at("visor_sse_streams_open"), "Open SSE streams.");
  const auto counted = samples_named(e, "visor_pages_processed_total");
  ASSERT_EQ(counted.size(), 2u);
  EXPECT_EQ(counted[0].labels.at("model"), "dotsocr");
  EXPECT_EQ(counted[0].value, 3);
  EXPECT_EQ(counted[1].labels.at("outcome"), "error");
  EXPECT_EQ(samples_named(e, "visor_sse_streams_open").at(0).value, 3);
}

TEST(MetricsTest, UnlabelledFamiliesReportZeroBeforeFirstUse) {
  Registry registry;
  registry.counter("visor_things_total", "Things.");
  const Exposition e = parse_exposition(registry.render());
  ASSERT_EQ(e.samples.size(), 1u);
  EXPECT_TRUE(e.samples[0].labels.empty());
  EXPECT_EQ(e.samples[0].value, 0);
}

TEST(MetricsTest, HistogramBucketsAreCumulativeAndEndAtInfEqualToCount) {
  Registry registry;
  auto& latency = registry.histogram("visor_page_duration_seconds", "Page time.", {0.5, 1, 5}, {"model"});
  for (double v : {0.1, 0.5, 0.7, 3.0, 60.0}) latency.with({"dotsocr"}).observe(v);

  const Exposition e = parse_exposition(registry.render());
  EXPECT_EQ(e.types.at("visor_page_duration_seconds"), "histogram");
  const auto buckets = samples_named(e, "visor_page_duration_seconds_bucket");
  ASSERT_EQ(buckets.size(), 4u);
  const std::vector<std::string> bounds{"0.5", "1", "5", "+Inf"};
  const std::vector<double> counts{2, 3, 4, 5};  // 0.5 falls in le="0.5"
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    EXPECT_EQ(buckets[i].labels.at("le"), bounds[i]);
    EXPECT_EQ(buckets[i].labels.at("model"), "dotsocr");
    EXPECT_EQ(buckets[i].value, counts[i]);
  }
  EXPECT_EQ(samples_named(e, "visor_page_duration_seconds_count").at(0).value, 5);
  EXPECT_DOUBLE_EQ(samples_named(e, "visor_page_duration_seconds_sum").at(0).value, 64.3);
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  Registry registry;
  auto& requests = registry.counter("visor_http_requests_total", "Requests \\ by\nroute.", {"route"});
  const std::string nasty = "a\"b\\c\nd";
  requests.with({nasty}).add();
  const std::string text = registry.render();
  EXPECT_NE(text.find("# HELP visor_http_requests_total Requests \\\\ by\\nroute.\n"), std::string::npos) << text;
  const Exposition e = parse_exposition(text);
  EXPECT_EQ(e.samples.at(0).labels.at("route"), nasty);
}

TEST(MetricsTest, CollectorsRunBeforeEachRender) {
  Registry registry;
  auto& depth = registry.gauge("visor_queue_depth", "Queued pages.");
  int calls = 0;
  registry.add_collector([&] { depth.with({}).set(++calls * 10); });
  (void)registry.render();
  const Exposition e = parse_exposition(registry.render());
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(e.samples.at(0).value, 20);
}

TEST(MetricsTest, RejectsBadNamesDuplicatesAndWrongLabelCounts) {
  Registry registry;
  EXPECT_THROW(registry.counter("9lives", "x"), std::invalid_argument);
  EXPECT_THROW(registry.counter("has space", "x"), std::invalid_argument);
  EXPECT_THROW(registry.counter("ok_total", "x", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h_seconds", "x", {1, 1}), std::invalid_argument);
  auto& family = registry.counter("visor_ok_total", "x", {"a"});
  EXPECT_THROW(registry.gauge("visor_ok_total", "x"), std::invalid_argument);
  EXPECT_THROW(family.with({"1", "2"}), std::invalid_argument);
}

TEST(MetricsTest, ValuesUseShortestRoundTripFormAndSpecialNames) {
  EXPECT_EQ(format_value(3), "3");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(INFINITY), "+Inf");
  EXPECT_EQ(format_value(-INFINITY), "-Inf");
  EXPECT_EQ(format_value(NAN), "NaN");
}

TEST(MetricsTest, ConcurrentUpdatesAreNotLost) {
  Registry registry;
  auto& family = registry.counter("visor_hits_total", "Hits.", {"worker"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&family] {
      for (int i = 0; i < 10000; ++i) family.with({"shared"}).add();
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(family.with({"shared"}).value(), 40000);
}

TEST(MetricsParserTest, RejectsMalformedExpositions) {
  EXPECT_THROW(parse_exposition("visor_x 1\n"), std::runtime_error);  // no TYPE
  EXPECT_THROW(parse_exposition("# TYPE a counter\na{l=\"x} 1\n"), std::runtime_error);
  EXPECT_THROW(parse_exposition("# TYPE a counter\na 1"), std::runtime_error);  // no final line feed
  EXPECT_THROW(parse_exposition("# TYPE a counter\n# TYPE b counter\na 1\nb 1\na 2\n"), std::runtime_error);
  EXPECT_THROW(parse_exposition("# TYPE a counter\na one\n"), std::runtime_error);
}

}  // namespace
}  // namespace visor::util::metrics

// Metrics kept in the engine (defMetric, ctx.recordMetric and the built-in ones): definitions and
// their series, one per combination of label values. A registry checks every recording (an unknown
// metric, a missing or unknown label, a counter going down are MetricErrors with a stable code) and
// renders its values as JSON or as the Prometheus text format 0.0.4.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "protocol/json.hpp"

namespace lmthing::observe {

using json = lmthing::Json;

enum class MetricType { Counter, Histogram, Gauge };
// How recordings combine: counters add, gauges keep the last (or add, or keep the max/min),
// histograms count into buckets.
enum class Aggregation { Sum, Last, Max, Min, Histogram };

const char* to_string(MetricType type) noexcept;
const char* to_string(Aggregation aggregation) noexcept;

struct MetricSpec {
  std::string name;
  MetricType type = MetricType::Counter;
  std::vector<std::string> labels;
  std::vector<double> buckets;  // histograms: upper bounds, strictly increasing (+Inf is implied)
  Aggregation aggregation = Aggregation::Sum;
  std::string description;
  std::string unit;

  bool operator==(const MetricSpec& other) const;
  json to_json() const;
  // to_json() as text, made on the first call and shared with the copies made after it: every
  // run's registry copies the engine's built-in specs, and dumping each one per run was ≈ 5 % of
  // a short run. A spec must not change once its text was made.
  const std::shared_ptr<const std::string>& json_text() const;

  mutable std::shared_ptr<const std::string> json_text_cache;
};

// The Prometheus client default buckets (seconds).
const std::vector<double>& default_buckets();

// A metric that cannot be defined or recorded. `code`: METRIC_UNKNOWN, METRIC_LABELS, METRIC_VALUE,
// METRIC_CONFLICT, METRIC_INVALID (a bad definition).
class MetricError : public std::invalid_argument {
 public:
  MetricError(std::string code, const std::string& message) : std::invalid_argument(message), code(std::move(code)) {}
  std::string code;
};

// Parses a definition's config {type, labels, buckets, aggregation, description, unit} (already
// checked for unknown keys). Throws MetricError (METRIC_INVALID) naming the field.
MetricSpec parse_metric_spec(const std::string& name, const json& config);

class MetricRegistry {
 public:
  // Adds `spec`; defining the same spec again is a no-op, a different one under a known name throws
  // MetricError(METRIC_CONFLICT). Returns the registry's copy.
  const MetricSpec& define(const MetricSpec& spec);
  const MetricSpec* find(const std::string& name) const;
  // Throws MetricError(METRIC_UNKNOWN) naming the nearest defined metric.
  const MetricSpec& get(const std::string& name) const;

  // The values of `labels` ({name: value}) in the order of `spec.labels`; numbers and booleans count
  // as their text. Throws MetricError(METRIC_LABELS) for an unknown or missing label or a bad value.
  static std::vector<std::string> label_values(const MetricSpec& spec, const json& labels);
  // Throws MetricError(METRIC_VALUE): a value that is not finite, or a negative counter increment.
  static void check_value(const MetricSpec& spec, double value);

  // Records an already checked value; returns the series' value afterwards (a histogram's sum).
  double record(const MetricSpec& spec, const std::vector<std::string>& label_values, double value);

  // {metrics: [{name, type, description, unit, labels, aggregation, buckets?, series: [...]}]}, by name.
  json snapshot() const;
  // The same snapshot as JSON text, written directly: a run's result carries it as text, which the
  // host parses only if asked (a tree of JSON values per run would cost more than the run's steps).
  std::string snapshot_text() const;
  // The Prometheus text exposition format, version 0.0.4.
  std::string prometheus() const;

  std::size_t size() const { return metrics_.size(); }

 private:
  struct Series {
    double value = 0;                   // counters and gauges
    bool set = false;                   // a gauge received a value
    std::vector<std::uint64_t> counts;  // histograms: per bucket (not cumulative), +Inf last
    double sum = 0;
    std::uint64_t count = 0;
  };
  struct Metric {
    explicit Metric(const MetricSpec& defined);
    MetricSpec spec;
    std::shared_ptr<const std::string> spec_text;  // the spec's JSON, for snapshot_text()
    std::map<std::vector<std::string>, Series> series;
  };
  std::map<std::string, Metric> metrics_;
};

// The text of a number as Prometheus writes it: "3", "0.25", "+Inf", "-Inf", "NaN".
std::string prometheus_number(double value);

}  // namespace lmthing::observe

#include "observe/metric_registry.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "protocol/fields.hpp"
#include "protocol/json_write.hpp"

namespace lmthing::observe {

namespace {

bool valid_metric_name(const std::string& name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool valid_label_name(const std::string& name) {
  if (name.empty() || name.rfind("__", 0) == 0) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string quoted_list(const std::vector<std::string>& names) {
  if (names.empty()) return "none";
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// Label values and help text are escaped as the 0.0.4 format requires.
std::string escaped(const std::string& text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && quotes)
      out += "\\\"";
    else
      out += c;
  }
  return out;
}

std::string label_set(const MetricSpec& spec, const std::vector<std::string>& values, const std::string& extra = {}) {
  std::string out;
  for (std::size_t i = 0; i < spec.labels.size(); ++i) out += (out.empty() ? "" : ",") + spec.labels[i] + "=\"" + escaped(values[i], true) + "\"";
  if (!extra.empty()) out += (out.empty() ? "" : ",") + extra;
  return out.empty() ? out : "{" + out + "}";
}

}  // namespace

const char* to_string(MetricType type) noexcept {
  switch (type) {
    case MetricType::Counter: return "counter";
    case MetricType::Histogram: return "histogram";
    case MetricType::Gauge: return "gauge";
  }
  return "counter";
}

const char* to_string(Aggregation aggregation) noexcept {
  switch (aggregation) {
    case Aggregation::Sum: return "sum";
    case Aggregation::Last: return "last";
    case Aggregation::Max: return "max";
    case Aggregation::Min: return "min";
    case Aggregation::Histogram: return "histogram";
  }
  return "sum";
}

bool MetricSpec::operator==(const MetricSpec& other) const {
  return name == other.name && type == other.type && labels == other.labels && buckets == other.buckets && aggregation == other.aggregation &&
         description == other.description && unit == other.unit;
}

const std::shared_ptr<const std::string>& MetricSpec::json_text() const {
  if (!json_text_cache) json_text_cache = std::make_shared<const std::string>(protocol::json_text(to_json()));
  return json_text_cache;
}

json MetricSpec::to_json() const {
  json out{{"name", name}, {"type", to_string(type)}, {"labels", labels}, {"aggregation", to_string(aggregation)}, {"description", description},
           {"unit", unit}};
  if (type == MetricType::Histogram) out["buckets"] = buckets;
  return out;
}

const std::vector<double>& default_buckets() {
  static const std::vector<double> buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return buckets;
}

MetricSpec parse_metric_spec(const std::string& name, const json& config) {
  const std::string where = "metric \"" + name + "\"";
  auto invalid = [&](const std::string& message) { throw MetricError("METRIC_INVALID", where + ": " + message); };
  if (!valid_metric_name(name)) invalid("the name must match [a-zA-Z_:][a-zA-Z0-9_:]* (a Prometheus metric name)");
  MetricSpec spec;
  spec.name = name;
  const std::string type = config.value("type", std::string("counter"));
  if (type == "counter")
    spec.type = MetricType::Counter;
  else if (type == "histogram")
    spec.type = MetricType::Histogram;
  else if (type == "gauge")
    spec.type = MetricType::Gauge;
  else
    invalid("the type must be counter, histogram or gauge, got \"" + type + "\"");
  if (config.contains("labels") && !config["labels"].is_null()) {
    if (!config["labels"].is_array()) invalid("\"labels\" must be an array of label names");
    for (const auto& label : config["labels"]) {
      if (!label.is_string() || !valid_label_name(label.get<std::string>()))
        invalid("label names must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __ (reserved for Prometheus' own labels), got " + label.dump());
      const std::string l = label.get<std::string>();
      if (std::find(spec.labels.begin(), spec.labels.end(), l) != spec.labels.end()) invalid("label \"" + l + "\" is listed twice");
      if (spec.type == MetricType::Histogram && l == "le") invalid("\"le\" is reserved for histogram buckets");
      spec.labels.push_back(l);
    }
  }
  if (config.contains("buckets") && !config["buckets"].is_null()) {
    if (spec.type != MetricType::Histogram) invalid("\"buckets\" applies to histograms only");
    if (!config["buckets"].is_array() || config["buckets"].empty()) invalid("\"buckets\" must be a non-empty array of increasing numbers");
    for (const auto& bound : config["buckets"]) {
      if (!bound.is_number() || !std::isfinite(bound.get<double>())) invalid("\"buckets\" must hold finite numbers, got " + bound.dump());
      const double b = bound.get<double>();
      if (!spec.buckets.empty() && !(b > spec.buckets.back())) invalid("\"buckets\" must be strictly increasing, got " + config["buckets"].dump());
      spec.buckets.push_back(b);
    }
  } else if (spec.type == MetricType::Histogram) {
    spec.buckets = default_buckets();
  }
  const std::string fallback = spec.type == MetricType::Counter ? "sum" : spec.type == MetricType::Gauge ? "last" : "histogram";
  const std::string aggregation = config.value("aggregation", fallback);
  if (spec.type == MetricType::Counter && aggregation == "sum")
    spec.aggregation = Aggregation::Sum;
  else if (spec.type == MetricType::Histogram && aggregation == "histogram")
    spec.aggregation = Aggregation::Histogram;
  else if (spec.type == MetricType::Gauge && aggregation == "last")
    spec.aggregation = Aggregation::Last;
  else if (spec.type == MetricType::Gauge && aggregation == "sum")
    spec.aggregation = Aggregation::Sum;
  else if (spec.type == MetricType::Gauge && aggregation == "max")
    spec.aggregation = Aggregation::Max;
  else if (spec.type == MetricType::Gauge && aggregation == "min")
    spec.aggregation = Aggregation::Min;
  else
    invalid("aggregation \"" + aggregation + "\" does not fit a " + type + " (counter: sum; histogram: histogram; gauge: last, sum, max, min)");
  if (config.contains("description") && config["description"].is_string()) spec.description = config["description"].get<std::string>();
  if (config.contains("unit") && config["unit"].is_string()) spec.unit = config["unit"].get<std::string>();
  return spec;
}

// ------------------------------------------------------------------------------------- MetricRegistry

namespace {

// The series names a metric writes in the Prometheus text: a histogram's _bucket, _sum and _count too.
std::vector<std::string> series_names(const MetricSpec& spec) {
  if (spec.type != MetricType::Histogram) return {spec.name};
  return {spec.name, spec.name + "_bucket", spec.name + "_sum", spec.name + "_count"};
}

}  // namespace

const MetricSpec& MetricRegistry::define(const MetricSpec& spec) {
  auto it = metrics_.find(spec.name);
  if (it == metrics_.end()) {
    // Two metrics writing one series (a histogram "lat" and a counter "lat_count") would be duplicate samples.
    const auto mine = series_names(spec);
    for (const auto& [name, metric] : metrics_)
      for (const auto& series : series_names(metric.spec))
        if (std::find(mine.begin(), mine.end(), series) != mine.end())
          throw MetricError("METRIC_CONFLICT", "metric \"" + spec.name + "\" and metric \"" + name + "\" would both write the series \"" + series +
                                                   "\" (a histogram also writes NAME_bucket, NAME_sum and NAME_count); name one differently");
    return metrics_.emplace(spec.name, Metric(spec)).first->second.spec;
  }
  if (!(it->second.spec == spec))
    throw MetricError("METRIC_CONFLICT", "metric \"" + spec.name + "\" is already defined differently on this engine (" +
                                             it->second.spec.to_json().dump() + "); a metric keeps one definition for the engine's lifetime");
  return it->second.spec;
}

const MetricSpec* MetricRegistry::find(const std::string& name) const {
  auto it = metrics_.find(name);
  return it == metrics_.end() ? nullptr : &it->second.spec;
}

const MetricSpec& MetricRegistry::get(const std::string& name) const {
  if (const MetricSpec* spec = find(name)) return *spec;
  std::vector<std::string> names;
  for (const auto& [known, metric] : metrics_) names.push_back(known);
  std::string message = "unknown metric \"" + name + "\" (";
  if (auto guess = protocol::nearest(name, names)) message += "did you mean \"" + *guess + "\"? ";
  throw MetricError("METRIC_UNKNOWN", message + "define it with defMetric; defined: " + quoted_list(names) + ")");
}

std::vector<std::string> MetricRegistry::label_values(const MetricSpec& spec, const json& labels) {
  const std::string where = "metric \"" + spec.name + "\"";
  if (!labels.is_null() && !labels.is_object())
    throw MetricError("METRIC_LABELS", where + ": labels must be an object {name: value}, got " + labels.dump());
  std::vector<std::string> values(spec.labels.size());
  std::vector<bool> seen(spec.labels.size(), false);
  if (labels.is_object())
    for (const auto& [key, value] : labels.items()) {
      auto it = std::find(spec.labels.begin(), spec.labels.end(), key);
      if (it == spec.labels.end()) {
        std::string message = where + ": unknown label \"" + key + "\" (";
        if (auto guess = protocol::nearest(key, spec.labels)) message += "did you mean \"" + *guess + "\"? ";
        throw MetricError("METRIC_LABELS", message + "labels: " + quoted_list(spec.labels) + ")");
      }
      const std::size_t i = static_cast<std::size_t>(it - spec.labels.begin());
      if (value.is_string())
        values[i] = value.get<std::string>();
      else if (value.is_boolean())
        values[i] = value.get<bool>() ? "true" : "false";
      else if (value.is_number())
        values[i] = prometheus_number(value.get<double>());
      else
        throw MetricError("METRIC_LABELS", where + ": label \"" + key + "\" must be a string, number or boolean, got " + value.dump());
      seen[i] = true;
    }
  for (std::size_t i = 0; i < seen.size(); ++i)
    if (!seen[i]) throw MetricError("METRIC_LABELS", where + ": missing label \"" + spec.labels[i] + "\" (labels: " + quoted_list(spec.labels) + ")");
  return values;
}

void MetricRegistry::check_value(const MetricSpec& spec, double value) {
  if (!std::isfinite(value)) throw MetricError("METRIC_VALUE", "metric \"" + spec.name + "\": the value must be a finite number");
  if (spec.type == MetricType::Counter && value < 0)
    throw MetricError("METRIC_VALUE", "metric \"" + spec.name + "\": a counter only goes up; got " + prometheus_number(value) + " (use a gauge)");
}

double MetricRegistry::record(const MetricSpec& spec, const std::vector<std::string>& values, double value) {
  Metric* metric = nullptr;
  if (auto it = metrics_.find(spec.name); it != metrics_.end())
    metric = &it->second;
  else
    metric = &metrics_.emplace(spec.name, Metric(spec)).first->second;
  Series& series = metric->series[values];
  const MetricSpec& s = metric->spec;
  switch (s.aggregation) {
    case Aggregation::Sum: series.value += value; break;
    case Aggregation::Last: series.value = value; break;
    case Aggregation::Max: series.value = series.set ? std::max(series.value, value) : value; break;
    case Aggregation::Min: series.value = series.set ? std::min(series.value, value) : value; break;
    case Aggregation::Histogram: {
      if (series.counts.empty()) series.counts.assign(s.buckets.size() + 1, 0);
      const auto bucket = std::lower_bound(s.buckets.begin(), s.buckets.end(), value);  // first bound >= value
      ++series.counts[static_cast<std::size_t>(bucket - s.buckets.begin())];
      series.sum += value;
      ++series.count;
      series.set = true;
      return series.sum;
    }
  }
  series.set = true;
  return series.value;
}

// The text is made on this copy, which the engine's built-in specs point to (Observatory): every
// tree's registry then shares it.
MetricRegistry::Metric::Metric(const MetricSpec& defined) : spec(defined), spec_text(spec.json_text()) {}

json MetricRegistry::snapshot() const { return json::parse(snapshot_text()); }

std::string MetricRegistry::snapshot_text() const {
  // Written into one string (a run's final reply carries this text, so it is made once per run).
  std::string out = R"({"metrics":[)";
  // JSON has no infinity (it would be null, losing the sign): an overflowed sum goes as Prometheus
  // spells it, and the host reads it back as a number.
  auto number = [&](double value) {
    if (std::isfinite(value))
      protocol::append_json(out, json(value));
    else
      out += std::isnan(value) ? R"("NaN")" : value > 0 ? R"("+Inf")" : R"("-Inf")";
  };
  const char* metric_separator = "";
  for (const auto& [name, metric] : metrics_) {
    out += metric_separator;
    metric_separator = ",";
    out.append(*metric.spec_text, 0, metric.spec_text->size() - 1);  // without its closing brace: the series come first
    out += R"(,"series":[)";
    const char* series_separator = "";
    for (const auto& [values, s] : metric.series) {
      out += series_separator;
      series_separator = ",";
      out += R"({"labels":{)";
      for (std::size_t i = 0; i < metric.spec.labels.size(); ++i) {
        if (i) out += ',';
        protocol::append_json(out, json(metric.spec.labels[i]));
        out += ':';
        protocol::append_json(out, json(values[i]));
      }
      out += '}';
      if (metric.spec.type == MetricType::Histogram) {
        out += R"(,"buckets":[)";
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < metric.spec.buckets.size(); ++i) {
          cumulative += s.counts[i];
          out += i ? R"(,{"le":)" : R"({"le":)";
          number(metric.spec.buckets[i]);
          out += R"(,"count":)";
          out += std::to_string(cumulative);
          out += '}';
        }
        out += R"(],"count":)";
        out += std::to_string(s.count);
        out += R"(,"sum":)";
        number(s.sum);
      } else {
        out += R"(,"value":)";
        number(s.value);
      }
      out += '}';
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

std::string MetricRegistry::prometheus() const {
  std::string out;
  for (const auto& [name, metric] : metrics_) {
    const MetricSpec& spec = metric.spec;
    std::string help = spec.description;
    if (!spec.unit.empty()) help += (help.empty() ? "" : " ") + std::string("(unit: ") + spec.unit + ")";
    if (!help.empty()) out += "# HELP " + name + " " + escaped(help, false) + "\n";
    out += "# TYPE " + name + " " + to_string(spec.type) + "\n";
    for (const auto& [values, s] : metric.series) {
      if (spec.type != MetricType::Histogram) {
        out += name + label_set(spec, values) + " " + prometheus_number(s.value) + "\n";
        continue;
      }
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < spec.buckets.size(); ++i) {
        cumulative += s.counts[i];
        out +=
            name + "_bucket" + label_set(spec, values, "le=\"" + prometheus_number(spec.buckets[i]) + "\"") + " " + std::to_string(cumulative) + "\n";
      }
      out += name + "_bucket" + label_set(spec, values, "le=\"+Inf\"") + " " + std::to_string(s.count) + "\n";
      out += name + "_sum" + label_set(spec, values) + " " + prometheus_number(s.sum) + "\n";
      out += name + "_count" + label_set(spec, values) + " " + std::to_string(s.count) + "\n";
    }
  }
  return out;
}

std::string prometheus_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
    return buffer;
  }
  // The shortest text that reads back as the same double.
  char buffer[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

}  // namespace lmthing::observe

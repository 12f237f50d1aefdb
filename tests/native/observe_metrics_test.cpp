// Metrics kept in the engine (docs/observability.md): the registry (definitions, label checks,
// histogram buckets, Prometheus text 0.0.4), the built-in metrics a run records, and the
// metric.record / metrics.read commands with their typed errors.
#include <catch2/catch.hpp>

#include "observe/metric_registry.hpp"
#include "prompt_script.hpp"

using namespace lmthing;
using namespace lmthing::testing;
using observe::MetricError;
using observe::MetricRegistry;
using observe::parse_metric_spec;

namespace {

std::string metric_error_code(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const MetricError& e) {
    return e.code;
  }
  return "none";
}

const json* series_of(const json& snapshot, const std::string& name, const json& labels) {
  for (const auto& metric : snapshot["metrics"])
    if (metric["name"] == name)
      for (const auto& series : metric["series"])
        if (series["labels"] == labels) return &series;
  return nullptr;
}

}  // namespace

TEST_CASE("metric definitions are checked and keep one shape per engine", "[observe_metrics]") {
  CHECK(metric_error_code([] { parse_metric_spec("bad name", json::object()); }) == "METRIC_INVALID");
  CHECK(metric_error_code([] { parse_metric_spec("m", {{"type", "summary"}}); }) == "METRIC_INVALID");
  CHECK(metric_error_code([] { parse_metric_spec("m", {{"type", "histogram"}, {"buckets", {5, 1}}}); }) == "METRIC_INVALID");
  CHECK(metric_error_code([] { parse_metric_spec("m", {{"type", "counter"}, {"buckets", {1}}}); }) == "METRIC_INVALID");
  CHECK(metric_error_code([] { parse_metric_spec("m", {{"type", "counter"}, {"aggregation", "last"}}); }) == "METRIC_INVALID");
  CHECK(metric_error_code([] { parse_metric_spec("m", {{"labels", {"a", "a"}}}); }) == "METRIC_INVALID");
  CHECK(metric_error_code([] { parse_metric_spec("m", {{"type", "histogram"}, {"labels", {"le"}}}); }) == "METRIC_INVALID");
  auto histogram = parse_metric_spec("latency", {{"type", "histogram"}});
  CHECK(histogram.buckets == observe::default_buckets());

  MetricRegistry registry;
  registry.define(parse_metric_spec("tokenUsage", {{"type", "counter"}, {"labels", {"model", "operation"}}, {"aggregation", "sum"}}));
  registry.define(parse_metric_spec("tokenUsage", {{"type", "counter"}, {"labels", {"model", "operation"}}}));  // the same again: fine
  CHECK(metric_error_code([&] { registry.define(parse_metric_spec("tokenUsage", {{"type", "gauge"}})); }) == "METRIC_CONFLICT");
  CHECK(metric_error_code([&] { registry.get("tokenUsag"); }) == "METRIC_UNKNOWN");
  try {
    registry.get("tokenUsag");
  } catch (const MetricError& e) {
    CHECK_THAT(e.what(), Catch::Contains("did you mean \"tokenUsage\""));
  }
}

TEST_CASE("labels must be exactly the defined ones; counters only go up", "[observe_metrics]") {
  auto spec = parse_metric_spec("tokenUsage", {{"labels", {"model", "operation"}}});
  CHECK(MetricRegistry::label_values(spec, {{"operation", "step"}, {"model", "gpt-4"}}) == std::vector<std::string>{"gpt-4", "step"});
  CHECK(metric_error_code([&] { MetricRegistry::label_values(spec, {{"model", "gpt-4"}}); }) == "METRIC_LABELS");
  CHECK(metric_error_code([&] { MetricRegistry::label_values(spec, {{"model", "a"}, {"operation", "b"}, {"modle", "c"}}); }) == "METRIC_LABELS");
  CHECK(metric_error_code([&] { MetricRegistry::label_values(spec, {{"model", json::array()}, {"operation", "b"}}); }) == "METRIC_LABELS");
  CHECK(metric_error_code([&] { MetricRegistry::check_value(spec, -1); }) == "METRIC_VALUE");
  CHECK(metric_error_code([&] { MetricRegistry::check_value(spec, std::numeric_limits<double>::infinity()); }) == "METRIC_VALUE");
  auto gauge = parse_metric_spec("successRate", {{"type", "gauge"}, {"labels", {"agent"}}});
  CHECK(metric_error_code([&] { MetricRegistry::check_value(gauge, -1); }) == "none");
}

TEST_CASE("histograms count into cumulative buckets; the Prometheus text is exact", "[observe_metrics]") {
  MetricRegistry registry;
  const auto& latency = registry.define(parse_metric_spec(
      "latency",
      {{"type", "histogram"}, {"labels", {"tool", "status"}}, {"buckets", {10, 50, 100}}, {"description", "Tool latency"}, {"unit", "ms"}}));
  for (double v : {5.0, 10.0, 42.0, 99.5, 1000.0}) registry.record(latency, {"search", "ok"}, v);
  const auto& rate = registry.define(parse_metric_spec("successRate", {{"type", "gauge"}, {"labels", {"agent"}}}));
  registry.record(rate, {"a\"b"}, 0.5);
  registry.record(rate, {"a\"b"}, 0.75);  // a gauge keeps the last value
  CHECK(registry.prometheus() ==
        "# HELP latency Tool latency (unit: ms)\n"
        "# TYPE latency histogram\n"
        "latency_bucket{tool=\"search\",status=\"ok\",le=\"10\"} 2\n"
        "latency_bucket{tool=\"search\",status=\"ok\",le=\"50\"} 3\n"
        "latency_bucket{tool=\"search\",status=\"ok\",le=\"100\"} 4\n"
        "latency_bucket{tool=\"search\",status=\"ok\",le=\"+Inf\"} 5\n"
        "latency_sum{tool=\"search\",status=\"ok\"} 1156.5\n"
        "latency_count{tool=\"search\",status=\"ok\"} 5\n"
        "# TYPE successRate gauge\n"
        "successRate{agent=\"a\\\"b\"} 0.75\n");
  const json snapshot = registry.snapshot();
  const json* s = series_of(snapshot, "latency", {{"tool", "search"}, {"status", "ok"}});
  REQUIRE(s);
  CHECK((*s)["count"] == 5);
  CHECK((*s)["buckets"][1]["count"] == 3);
  CHECK(observe::prometheus_number(0.1) == "0.1");
  CHECK(observe::prometheus_number(1e300) == "1e+300");
}

TEST_CASE("a spec's JSON text is made once and shared by later copies; a second registry's snapshot is the same", "[observe_metrics]") {
  MetricRegistry engine_wide;
  const auto& calls = engine_wide.define(parse_metric_spec("calls", {{"type", "counter"}, {"labels", {"tool"}}, {"description", "Calls \"made\""}}));
  MetricRegistry per_run;  // records into its own copy of the spec, as each run's registry does
  per_run.record(calls, {"search"}, 2);
  engine_wide.record(calls, {"search"}, 2);
  const observe::MetricSpec copy = calls;
  CHECK(copy.json_text().get() == calls.json_text().get());
  CHECK(json::parse(*calls.json_text()) == calls.to_json());
  CHECK(per_run.snapshot_text() == engine_wide.snapshot_text());
  const json snapshot = per_run.snapshot();
  CHECK(snapshot["metrics"][0]["description"] == "Calls \"made\"");
  const json* s = series_of(snapshot, "calls", {{"tool", "search"}});
  REQUIRE(s);
  CHECK((*s)["value"] == 2);
}

TEST_CASE("a run records the built-in metrics and user metrics; bad labels are metric errors", "[observe_metrics]") {
  Harness h;
  Script script;
  script.callbacks["tool:broken"] = [](const json&) -> json { throw std::runtime_error("disk full"); };
  script.callbacks["tool:count"] = [&](const json&) -> json {
    h.post(json{{"type", "metric.record"}, {"id", 60}, {"run", 1}, {"name", "toolRuns"}, {"value", 2}, {"labels", {{"tool", "count"}}}});
    h.post(json{{"type", "metric.record"}, {"id", 61}, {"run", 1}, {"name", "toolRuns"}, {"value", 1}, {"labels", {{"tol", "count"}}}});
    h.post(json{{"type", "metric.record"}, {"id", 62}, {"run", 1}, {"name", "toolRun"}, {"value", 1}});
    h.post(json{{"type", "metric.record"}, {"id", 63}, {"run", 1}, {"name", "lmthing_steps_total"}, {"value", 1}, {"labels", {{"model", "m"}}}});
    h.post(json{{"type", "metrics.read"}, {"id", 64}, {"run", 1}});
    return "ok";
  };
  script.model_responses = {response({call_part("c1", "broken", json::object()), call_part("c2", "count", json::object())}, "tool-calls"),
                            response({text_part("done")})};
  json spec = prompt_spec({{"tools", json::array({tool_named("broken"), tool_named("count")})},
                           {"definitions", definitions({definition("metric", "toolRuns", {{"type", "counter"}, {"labels", {"tool"}}})})}});
  json reply = run_prompt(h, script, spec);
  REQUIRE(reply["ok"] == true);
  CHECK((*h.reply(60))["ok"] == true);
  CHECK((*h.reply(61))["error"]["kind"] == "metric");
  CHECK((*h.reply(61))["error"]["code"] == "METRIC_LABELS");
  CHECK((*h.reply(62))["error"]["code"] == "METRIC_UNKNOWN");
  CHECK((*h.reply(63))["error"]["code"] == "METRIC_INVALID");  // built-ins are recorded by the engine only
  CHECK((*h.reply(64))["ok"] == true);

  // The run's own metrics come with its result, as JSON text.
  const json metrics = json::parse(reply["value"]["metricsJson"].get<std::string>());
  CHECK((*series_of(metrics, "toolRuns", {{"tool", "count"}}))["value"] == 2);
  CHECK((*series_of(metrics, "lmthing_tokens_total", {{"model", "m"}, {"direction", "input"}}))["value"] == 20);
  CHECK((*series_of(metrics, "lmthing_tokens_total", {{"model", "m"}, {"direction", "output"}}))["value"] == 40);
  CHECK((*series_of(metrics, "lmthing_steps_total", {{"model", "m"}}))["value"] == 2);
  CHECK((*series_of(metrics, "lmthing_tool_errors_total", {{"tool", "broken"}}))["value"] == 1);
  CHECK((*series_of(metrics, "lmthing_tool_call_duration_seconds", {{"tool", "count"}, {"outcome", "ok"}}))["count"] == 1);
  CHECK((*series_of(metrics, "lmthing_model_call_duration_seconds", {{"model", "m"}, {"outcome", "ok"}}))["count"] == 2);
  CHECK((*series_of(metrics, "lmthing_runs_total", {{"kind", "prompt"}, {"outcome", "ok"}}))["value"] == 1);

  // The engine-wide registry, as Prometheus text.
  h.post(json{{"type", "metrics.read"}, {"id", 70}, {"format", "prometheus"}});
  REQUIRE(h.run([](Harness&) {}));
  const json text_reply = *h.reply(70);
  CHECK(text_reply["value"]["contentType"] == "text/plain; version=0.0.4; charset=utf-8");
  const std::string text = text_reply["value"]["text"].get<std::string>();
  CHECK_THAT(text, Catch::Contains("# TYPE toolRuns counter\ntoolRuns{tool=\"count\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("lmthing_tool_errors_total{tool=\"broken\"} 1\n"));
}

TEST_CASE("a bad metric definition fails the run with a metric error", "[observe_metrics]") {
  Harness h;
  Script script;
  json reply = run_prompt(h, script, prompt_spec({{"definitions", definitions({definition("metric", "lmthing_mine", {{"type", "counter"}})})}}));
  REQUIRE(reply["ok"] == false);
  CHECK(reply["error"]["kind"] == "metric");
  CHECK(reply["error"]["code"] == "METRIC_INVALID");
  Harness h2;
  Script script2;
  json bad =
      run_prompt(h2, script2, prompt_spec({{"definitions", definitions({definition("metric", "m", {{"type", "counter"}, {"bukets", {1}}})})}}));
  REQUIRE(bad["ok"] == false);
  CHECK_THAT(bad["error"]["message"].get<std::string>(), Catch::Contains("buckets"));
}

#include "observe/observatory.hpp"

namespace lmthing::observe {

namespace {

MetricSpec spec(const char* name, MetricType type, std::vector<std::string> labels, const char* description, const char* unit,
                std::vector<double> buckets = default_buckets()) {
  MetricSpec s;
  s.name = name;
  s.type = type;
  s.labels = std::move(labels);
  s.description = description;
  s.unit = unit;
  s.aggregation = type == MetricType::Histogram ? Aggregation::Histogram : Aggregation::Sum;
  if (type == MetricType::Histogram) s.buckets = std::move(buckets);
  return s;
}

}  // namespace

Observatory::Observatory() {
  using T = MetricType;
  auto& m = metrics_;
  builtins_.tokens = &m.define(
      spec("lmthing_tokens_total", T::Counter, {"model", "direction"}, "Tokens of model calls, by model and direction (input, output)", "tokens"));
  builtins_.cost = &m.define(spec("lmthing_cost_usd_total", T::Counter, {"model"}, "Cost of model calls priced by a cost constraint", "USD"));
  builtins_.model_duration = &m.define(spec("lmthing_model_call_duration_seconds", T::Histogram, {"model", "outcome"},
                                            "Duration of each model call attempt", "s", {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120}));
  builtins_.tool_duration =
      &m.define(spec("lmthing_tool_call_duration_seconds", T::Histogram, {"tool", "outcome"}, "Duration of each tool call attempt", "s"));
  builtins_.tool_errors = &m.define(spec("lmthing_tool_errors_total", T::Counter, {"tool"}, "Tool calls whose error went back to the model", ""));
  builtins_.steps = &m.define(spec("lmthing_steps_total", T::Counter, {"model"}, "Steps of the agent loop (one model call and its tool calls)", ""));
  builtins_.retries = &m.define(spec("lmthing_retries_total", T::Counter, {"target", "name"}, "Retries of model and tool calls", ""));
  builtins_.fallbacks =
      &m.define(spec("lmthing_fallbacks_total", T::Counter, {"fallback", "strategy"}, "Fallbacks that took over a failed call", ""));
  builtins_.cache_hits = &m.define(spec("lmthing_cache_hits_total", T::Counter, {"cache"}, "Calls answered from a cache", ""));
  builtins_.approval_wait = &m.define(spec("lmthing_approval_wait_seconds", T::Histogram, {"approval", "action"},
                                           "Time from an approval request to its decision", "s", {1, 5, 15, 30, 60, 300, 900, 3600}));
  builtins_.runs =
      &m.define(spec("lmthing_runs_total", T::Counter, {"kind", "outcome"}, "Runs that ended, by kind and outcome (ok, error, aborted)", ""));
}

}  // namespace lmthing::observe

// What the engine observes across every run it hosts: the engine-wide metric registry, with the
// built-in metrics defined up front (read with `metrics.read`, scraped as Prometheus text).
#pragma once

#include "observe/metric_registry.hpp"

namespace lmthing::observe {

// The built-in metrics (names start with `lmthing_`, a prefix user metrics may not use).
struct Builtins {
  const MetricSpec* tokens;          // lmthing_tokens_total {model, direction}
  const MetricSpec* cost;            // lmthing_cost_usd_total {model} (when a cost constraint prices the model)
  const MetricSpec* model_duration;  // lmthing_model_call_duration_seconds {model, outcome}
  const MetricSpec* tool_duration;   // lmthing_tool_call_duration_seconds {tool, outcome}
  const MetricSpec* tool_errors;     // lmthing_tool_errors_total {tool}
  const MetricSpec* steps;           // lmthing_steps_total {model}
  const MetricSpec* retries;         // lmthing_retries_total {target, name}
  const MetricSpec* fallbacks;       // lmthing_fallbacks_total {fallback, strategy}
  const MetricSpec* cache_hits;      // lmthing_cache_hits_total {cache}
  const MetricSpec* approval_wait;   // lmthing_approval_wait_seconds {approval, action}
  const MetricSpec* runs;            // lmthing_runs_total {kind, outcome}
};

class Observatory {
 public:
  Observatory();
  Observatory(const Observatory&) = delete;
  Observatory& operator=(const Observatory&) = delete;

  MetricRegistry& metrics() { return metrics_; }
  const Builtins& builtins() const { return builtins_; }

 private:
  MetricRegistry metrics_;
  Builtins builtins_;
};

// The prefix reserved for the built-in metrics.
inline constexpr const char* kBuiltinPrefix = "lmthing_";

}  // namespace lmthing::observe

// What one run tree observes (a root run, its sub-agents and branches): its own copy of the metric
// values (what `prompt.metrics()` reads), its tracer when defTracing asks for one, the token
// thresholds of onTokenThreshold, and the event tap every run event of the tree passes: it derives
// metrics, spans and `error` events from lifecycle events (a tool error, a retry, an approval ...).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "observe/observatory.hpp"
#include "observe/tracer.hpp"
#include "runtime/loop.hpp"

namespace lmthing::observe {

class TreeObserver {
 public:
  TreeObserver(Loop& loop, Observatory& observatory) : loop_(loop), observatory_(observatory) {}

  Observatory& observatory() { return observatory_; }
  const Builtins& builtins() const { return observatory_.builtins(); }
  // This tree's values.
  MetricRegistry& metrics() { return metrics_; }

  // Records a checked value into the engine-wide registry and this tree's; with metric events on,
  // also announces it as a `metric` event of `run` at `path`.
  void record(const MetricSpec& spec, const std::vector<std::string>& labels, double value, RunId run, const json& path);
  void set_metric_events(bool on) { metric_events_ = metric_events_ || on; }

  // Tracing: on once a `tracing` definition sampled this tree in.
  void enable_tracing(TracingConfig config, std::uint64_t seed);
  Tracer* tracer() { return tracer_ ? &*tracer_ : nullptr; }
  bool tracing_defined() const { return tracing_defined_; }

  // onTokenThreshold: a threshold fires once, when the tree's tokens (input + output) reach it.
  void add_token_threshold(double tokens, const std::string& source);
  bool has_token_thresholds() const { return !thresholds_.empty(); }
  // Counts a model response's tokens; returns the `token-threshold` events to emit.
  std::vector<json> count_tokens(const json& usage);

  // The attempt number of the next model call of `run` at `path` in `step` (1 for the first).
  int next_attempt(RunId run, const json& path, int step);
  void forget_run(RunId run);

  // The event tap: looks at a run event about to be emitted (and may add fields to it), records what
  // it measures, and puts the events it implies (an `error` for a tool error) into `follow`.
  void observe(RunId run, json& event, std::vector<json>& follow);

 private:
  struct Threshold {
    double tokens;
    std::string source;
    bool fired = false;
  };
  struct ApprovalWait {
    double started_ms;
    SpanId span;
  };

  Loop& loop_;
  Observatory& observatory_;
  MetricRegistry metrics_;
  bool metric_events_ = false;
  bool tracing_defined_ = false;
  std::optional<Tracer> tracer_;
  std::vector<Threshold> thresholds_;
  double tokens_ = 0, input_tokens_ = 0, output_tokens_ = 0;
  std::map<std::string, std::pair<int, int>> attempts_;  // place → {step, attempts}
  std::map<std::string, ApprovalWait> approvals_;        // request id → when it was asked
};

}  // namespace lmthing::observe

namespace lmthing::pipeline {
class RunTree;
}

namespace lmthing::observe {

// Emits `event` as a run event of `run`, through the tree's event tap (when there is a tree).
void emit_observed(Loop& loop, pipeline::RunTree* tree, RunId run, json event);
// The same for an event {...fields, type, path} that is not copied from `fields` (a step's record,
// which the run keeps). The observer sees the event's type and path only: for event types it reads
// nothing else of.
void emit_observed_borrowing(Loop& loop, pipeline::RunTree* tree, RunId run, std::string_view type, json& fields, const json& path);

// The `error` event: {type: "error", severity, source, error: {message, kind, code?, severity}, context}.
json error_event(const std::string& severity, const std::string& source, const protocol::WireError& error, json context, const json& path);

}  // namespace lmthing::observe

// The engine's half of tracing (defTracing): spans as a tree of ids with start and end times on
// the engine clock, announced as `span-start` / `span-end` run events that the host turns into
// OpenTelemetry spans. The tracer also remembers which span is the parent of what happens next in
// each place of the run tree: a run or branch (its scope), its current step, a tool call by id.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/loop.hpp"

namespace lmthing::observe {

struct TracingConfig {
  double sampling = 1.0;  // the share of run trees traced, 0..1
  bool record_inputs = false;
  bool record_outputs = false;
};

using SpanId = std::uint64_t;  // 0 = none

class Tracer {
 public:
  Tracer(Loop& loop, TracingConfig config) : loop_(loop), config_(config) {}
  const TracingConfig& config() const { return config_; }

  // Starts a span of `run` at `path` (its events carry that path) and announces it.
  SpanId start(RunId run, const json& path, SpanId parent, const std::string& name, const char* kind, json attributes, double start_ms);
  // Ends an open span; `error` non-empty marks it failed. Unknown or ended ids are ignored.
  void end(SpanId span, const std::string& error, json attributes, double end_ms);
  // Ends every span of `run` still open (a run that failed or was cancelled), innermost first.
  void end_all(RunId run, const std::string& error, double end_ms);
  // Ends the spans of `run` still open at `path` or below it but `keep`, innermost first (what a
  // directive branch had open when it ended: a step its failed reply left).
  void end_below(RunId run, const json& path, SpanId keep, const std::string& error, double end_ms);

  // Named places → the span that is the parent of what starts there.
  void remember(const std::string& key, SpanId span) { places_[key] = span; }
  void forget(const std::string& key, SpanId span);
  SpanId recall(const std::string& key) const;

  static std::string scope_key(RunId run, const json& path) { return std::to_string(run) + path.dump(); }
  static std::string step_key(RunId run, const json& path) { return "step:" + scope_key(run, path); }
  static std::string tool_key(RunId run, const std::string& tool_call_id) { return "tool:" + std::to_string(run) + ":" + tool_call_id; }
  // The span new work at `path` of `run` hangs under: the current step, else the run or branch.
  SpanId parent_at(RunId run, const json& path) const;

 private:
  struct Open {
    RunId run;
    json path;
  };
  Loop& loop_;
  TracingConfig config_;
  SpanId next_ = 1;
  std::map<SpanId, Open> open_;
  std::unordered_map<std::string, SpanId> places_;
};

}  // namespace lmthing::observe

// A run's lifecycle as observers see it: `run-start` when it begins (with the custom events its
// prompt function emitted before it was live), `run-finish` when it ends, an `error` event of
// severity critical when it fails, its `invoke_agent` span, and `lmthing_runs_total`. Prompt runs
// (agent/prompt_run.cpp) and directive runs (directive/session.cpp) each hold one.
//
// The run spec's optional `observe` field carries what the host's observers ask of the engine:
//   {tokenThresholds: [tokens], metricEvents: bool, parentSpan: span id, emits: [{name, value}]}
#pragma once

#include <string>

#include "pipeline/call.hpp"

namespace lmthing::observe {

class RunObservation {
 public:
  // `kind`: "prompt" or "conversation"; `model`: the run's model reference.
  RunObservation(const pipeline::CallEnv& env, const json& spec, std::string kind, std::string model);
  RunObservation(const RunObservation&) = delete;
  RunObservation& operator=(const RunObservation&) = delete;

  // The run ended well; `summary` (a prompt run's result) gives finishReason, usage and steps. A
  // root run's result gets the tree's `metrics`.
  void finished(json* result);
  void failed(const protocol::WireError& error);
  bool over() const { return over_; }

 private:
  void finish(bool ok, json fields, const std::string& outcome, const std::string& error);
  [[gnu::noinline]] void warn_no_token_threshold();

  pipeline::CallEnv env_;
  std::string kind_;
  double started_ms_;
  std::uint64_t span_ = 0;
  bool over_ = false;
};

// Checks a run spec's `observe` field (throws protocol::ProtocolError naming the bad part).
void check_observe_spec(const json& spec, const std::string& where);

}  // namespace lmthing::observe

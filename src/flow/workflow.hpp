// Workflows (defWorkflow): steps the engine runs in order, routes (onSuccess / onError), skips
// (condition), loops (routing back, bounded by maxIterations), retries and times out, and runs
// concurrently where the steps say so (a DAG of `dependsOn`). The
// steps' actions and conditions are host callbacks; everything between them is the engine's.
//
// What a step's callback gets (one object, docs/orchestration.md): {workflow, execution, step,
// kind: "action" | "condition", attempt, results: [[stepId, value], ...] (the results the
// host has not been sent yet), start?: {input, state} (the first time the host hears of the
// execution), error?: {step, kind, message, code?} (for an onError handler)}. An action answers
// {value, state?}: its result, and the workflow's state when the step changed it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "flow/user_call.hpp"
#include "pipeline/call.hpp"

namespace lmthing::flow {

struct WorkflowStep {
  std::string id;
  std::string action;                     // callback
  std::optional<std::string> condition;   // callback; false skips the step
  std::optional<std::size_t> on_success;  // index of the next step
  std::optional<std::size_t> on_error;    // index of the error handler step
  CallPolicy call;
  std::vector<std::size_t> depends_on;
  std::vector<std::size_t> dependents;  // the steps that depend on this one
  bool handler = false;                 // some step's onError: runs only when routed to
  bool parallel = false;                // runs concurrently with the adjacent parallel steps
};

struct Workflow {
  std::string name;
  std::vector<WorkflowStep> steps;
  double max_duration_ms = 0;
  int max_iterations = 10;
  std::size_t concurrency = 0;  // DAG: steps in flight at most (0 = no limit)
  bool dag = false;             // some step has dependsOn
  std::uint64_t next_execution = 1;
};

// Runs `workflow` in `env` with `input`; the state starts as `state`, else as a copy of an object
// input, else {}. Resolves with {output, results, state, steps: [{id, status, ...}], execution}.
// Throws OpFailed: kind `workflow` (a step failed with no onError: code WORKFLOW_STEP_FAILED; a
// loop past maxIterations: WORKFLOW_LOOP_LIMIT), kind `timeout` (code WORKFLOW_TIMEOUT) past maxDuration, or the
// cancellation of the run.
Task<json> run_workflow(const pipeline::CallEnv& env, Workflow& workflow, json input, std::optional<json> state);

}  // namespace lmthing::flow

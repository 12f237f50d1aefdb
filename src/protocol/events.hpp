// Every run event type the engine emits ({type: "run.event", run, event: {type, path, ...}}), in one
// list: engine.info reports it, the package's public RunEvent union must cover it (a test compares
// the two), and the native test host refuses an event whose type is not here.
#pragma once

#include <string>
#include <vector>

namespace lmthing::protocol {

inline const std::vector<std::string>& run_event_types() {
  static const std::vector<std::string> types = {
      // the agent loop (prompt runs and directive replies)
      "step-start", "step-finish", "tool-call", "tool-result", "tool-error", "tool-call-repaired",
      // resilience and budgets
      "retry", "fallback", "circuit-state", "rate-limited", "constraint-warning", "constraint-exceeded", "budget-stop",
      // human in the loop
      "guard", "approval-request", "approval-decision", "validation", "interaction-request", "interaction-answer", "interaction-invalid",
      // directive conversations
      "message-appended", "model-pushed", "model-popped", "tool-enabled", "tool-disabled", "branch-started", "branch-returned", "branch-threw",
      "emitted",
      // state and caches
      "state-loaded", "state-saved", "state-conflict", "cache-hit", "cache-miss", "cache-evict", "cache-error",
      // roles (prompt/role.cpp)
      "role-assumed",
      // workflows (flow/workflow.cpp)
      "workflow-start", "workflow-step-start", "workflow-step-finish", "workflow-finish", "workflow-event",
      // resources and pools (flow/resource.cpp, flow/resource_pool.cpp)
      "resource-initialized", "resource-unhealthy", "resource-cleanup", "pool-item", "pool-drained",
      // pipelines, parallel groups, batchers (flow/pipeline.cpp, parallel.cpp, batcher.cpp)
      "pipeline-stage-start", "pipeline-stage-finish", "parallel-start", "parallel-finish", "parallel-judge", "batch-flush",
      // branch groups (directive/branch_group.cpp)
      "branch-group-start", "branch-group-finish",
      // context windows
      "context-trimmed", "context-summarized",
      // memories (docs/memory.md)
      "memory-store", "memory-search", "memory-delete", "memory-clear",
      // observability (docs/observability.md)
      "run-start", "run-finish", "model-call", "error", "token-threshold", "span-start", "span-end", "metric"};
  return types;
}

}  // namespace lmthing::protocol

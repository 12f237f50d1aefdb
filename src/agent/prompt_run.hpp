// A prompt run (runPrompt): the spec's definitions rendered into the system prompt, its tools
// behind their call pipelines, and the agent loop (agent/agent_loop.hpp) until it ends.
#pragma once

#include "agent/prompt_spec.hpp"
#include "pipeline/run_tree.hpp"
#include "policy/human_desk.hpp"

namespace lmthing::agent {

// Builds the run's tools and chains now (so a bad option fails before anything runs) and returns
// the run's body: {text, finishReason, usage, steps, messages, object?} (docs/prompt-runs.md).
Task<json> prepare_prompt_run(Loop& loop, RunId run, PromptSpec spec, std::shared_ptr<pipeline::RunTree> tree, policy::HumanDesk& desk);

// Sets the run's deadline: its own timeout and, for a root run, the tree's hard duration budget;
// whichever comes first cancels the run with its error.
/** A run's `timeout` and how much of it the host's setup took before the engine had the run. */
struct RunTimeout {
  double ms = 0;  // 0: none
  double spent_ms = 0;
};
void set_run_deadline(Loop& loop, RunId run, RunTimeout timeout, pipeline::RunTree& tree);

// Builds the chains of `tools` in `tree` and checks their fallbacks (no unknown alternative, no cycle).
std::shared_ptr<pipeline::ToolBox> tool_box(const std::vector<ToolSpec>& tools, const pipeline::RunSettings& settings, pipeline::RunTree& tree);

}  // namespace lmthing::agent

// The agent step loop of a prompt run: render the system prompt, call the model, check and run
// its tool calls concurrently, append the results in call order, and repeat until a step has no
// tool calls, maxSteps is reached, or stopWhen says stop. Hooks may change one step at a time.
#pragma once

#include "agent/prompt_spec.hpp"
#include "policy/human_desk.hpp"

namespace lmthing::agent {

// The run's result: {text, finishReason, usage, steps, messages, object?} (docs/prompt-runs.md).
// `desk` holds the run's open approval and interaction requests (answerable by id).
Task<json> run_prompt(Loop& loop, RunId run, PromptSpec spec, policy::HumanDesk& desk);

}  // namespace lmthing::agent

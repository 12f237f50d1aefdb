// A prompt run as the host described it (docs/prompt-runs.md), checked once: the definitions to
// render, the starting messages, the tools (with their compiled argument validators and their
// options for the call pipeline), the loop's limits and the run's model settings. The raw spec is
// kept for the step seams, which read their own fields (hooks, stopWhen, responseValidator ...).
// Everything wrong with a spec is found before the run starts.
#pragma once

#include <string>
#include <vector>

#include "agent/tool_spec.hpp"
#include "pipeline/call.hpp"
#include "prompt/definitions.hpp"
#include "protocol/fields.hpp"

namespace lmthing::agent {

struct PromptSpec {
  std::string model;  // the model reference
  prompt::Definitions definitions;
  json messages = json::array();
  std::vector<ToolSpec> tools;  // in definition order
  int max_steps = 20;
  int tool_call_concurrency = 0;
  std::vector<std::string> tool_order;  // options.toolOrder (AgentLoopConfig::tool_order)                         // options.toolCallConcurrency (0 =
                                        // every call of a step at once)
  json tool_choice;                     // null = the provider's default
  std::optional<std::vector<std::string>> active_tools;  // the tools offered at every step (all when unset)
  json params = json::object();
  double timeout_ms = 0;        // the whole run (0 = none)
  double timeout_spent_ms = 0;  // of it, what the host's setup took before the engine had the run
  pipeline::RunSettings settings;
  std::string host;
  json path = json::array({"root"});
  json raw;  // the spec as given
};

// Throws protocol::ProtocolError naming the bad field (prompt::DefinitionError and schema errors
// are reported the same way) when the spec cannot run.
PromptSpec parse_prompt_spec(const json& spec);

// The tool as the engine keeps it, from its wire form {name, description, parameters, callback,
// options}; `where` names it in errors. Its options are checked against the call pipeline's.
ToolSpec parse_tool(const json& tool, const std::string& where);

// Whether a toolChoice has one of its shapes: 'auto', 'none', 'required' or {type: 'tool', toolName}
// (whether the tool exists is the caller's check).
bool is_tool_choice(const json& choice);

// The run's model settings from a spec's `retry`, `fallback`, `circuitBreaker` fields and its
// options (maxRetries, modelTimeoutMs, toolTimeoutMs).
pipeline::RunSettings parse_run_settings(const protocol::FieldReader& spec, const protocol::FieldReader* options);

}  // namespace lmthing::agent

// A prompt run as the host described it (docs/prompt-runs.md), checked and compiled once: the
// definitions to render, the starting messages, the tools with their compiled schema validators,
// hooks and options. Everything wrong with a spec is found here, before the run starts.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "policy/human_policy.hpp"
#include "policy/run_policies.hpp"
#include "prompt/definitions.hpp"
#include "runtime/loop.hpp"
#include "schema/validator.hpp"

namespace lmthing::agent {

struct ToolSpec {
  std::string name;
  std::string description;
  json parameters;       // JSON Schema, as sent to the model
  std::string callback;  // host callback that executes the tool
  std::shared_ptr<const schema::Validator> validator;
  // Resilience (docs/resilience.md): policy names of the run, and a per-call time limit (0 = none).
  std::string retry, fallback, circuit_breaker;
  double timeout_ms = 0;

  // Human in the loop (docs/human-in-the-loop.md); names resolve in PromptSpec::human.
  std::optional<std::string> approval;          // the call waits for this approval
  std::vector<std::string> guards;              // checked before every call
  std::optional<std::string> output_validator;  // checks what the tool returned
  bool retry_on_failure = false;                // an invalid output goes back to the model ...
  int max_retries = 2;                          // ... this many times, then the run fails
};

struct PromptOptions {
  int max_steps = 20;
  int max_retries = 2;
  json tool_choice;  // null = provider default
  json params = json::object();
  double timeout_ms = 0;        // the whole run (0 = none)
  double model_timeout_ms = 0;  // each model call
  double tool_timeout_ms = 0;   // each tool call without its own timeout
};

struct PromptSpec {
  std::string model;
  prompt::Definitions definitions;
  json messages = json::array();
  std::vector<ToolSpec> tools;  // in definition order
  std::vector<std::string> hooks;
  std::optional<std::string> stop_when;
  std::shared_ptr<const schema::Validator> response_validator;
  PromptOptions options;
  // Model-call policies of the run, by name (empty = none / the default retry).
  std::string retry, fallback, circuit_breaker;
  // The run tree's policies (shared with the parent run for a sub-agent); set by attach_policies.
  std::shared_ptr<policy::RunPolicies> policies;
  // Approvals, guards, validators and interactions of the run (never null once parsed).
  std::shared_ptr<const policy::HumanPolicy> human;

  const ToolSpec* find_tool(const std::string& name) const;
};

// Throws protocol::ProtocolError naming the bad field (and prompt::DefinitionError /
// schema::SchemaError messages are wrapped the same way) when the spec cannot run.
PromptSpec parse_prompt_spec(const json& spec);

// Gives the spec its run tree's policies and checks every policy name it uses: unknown names (the
// error lists the defined ones), a cascade on a plain tool, alternatives naming unknown tools, and
// alternative chains that loop back (a fallback cycle). Throws protocol::ProtocolError.
void attach_policies(PromptSpec& spec, std::shared_ptr<policy::RunPolicies> policies);

}  // namespace lmthing::agent

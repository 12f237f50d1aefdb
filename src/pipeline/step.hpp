// Step seams of the agent loop (DESIGN.md §12): what runs before every step (hooks, context-window
// strategies), when its request is final (onStepStart), when its model call failed (onStepError),
// between the model's answer and its tool calls (mending a wrong call) and after the step
// (response checks, the budget stop, stopWhen). Prompt runs
// and directive replies run the same loop (agent/agent_loop.hpp) with the seams their spec asks for.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/call.hpp"
#include "protocol/fields.hpp"

namespace lmthing::pipeline {

// What before-step seams may change, for that step only.
struct StepOverrides {
  std::optional<std::string> system;
  std::optional<json> messages;  // the whole message list to send instead of the conversation
  std::optional<std::vector<std::string>> active_tools;
  std::optional<std::vector<std::string>> tool_order;  // in place of the loop's (AgentLoopConfig::tool_order)
  std::optional<std::vector<std::string>> active_systems;
  std::optional<std::vector<std::string>> active_variables;
  std::optional<json> tool_choice;
  std::optional<std::string> model;
  // The step's call settings (the AI SDK's prepareStep returns them too): generation settings laid
  // over the run's `params` one by one, and provider options merged over the run's, deeply.
  json params;  // null, or an object: nothing is allocated for a step no hook changed
  std::optional<json> provider_options;
};

struct StepState {
  int step = 0;
  const json& messages;        // the conversation so far, without the system prompt
  const json& steps;           // the records of the steps before this one
  const json& last_tool_call;  // {toolCallId, toolName, args} of the previous step, or null
  StepOverrides overrides;     // set before the step
  json record;                 // after the step: {stepNumber, text, toolCalls, toolResults, finishReason, usage}
  bool final = false;          // after the step: it made no tool calls
  std::optional<json> value;   // set by a response-schema seam: the validated answer
  // What the step would send with these overrides, apart from the messages: {model, system, tools}
  // (a context window counts them against its budget). Set by the loop.
  std::function<json(const StepOverrides&)> preview;
  // A model call of the step's own (a context's summary) through the run's model chain: `input` is a
  // model.generate payload {system, messages, purpose} without the model. Set by the loop.
  std::function<Task<json>(std::string model, json input)> side_call;
};

struct StepVerdict {
  bool stop = false;                    // end the loop after this step
  std::string reason;                   // why (e.g. "budget"), for the run's finishReason
  std::optional<std::string> feedback;  // send this to the model as a user message and go on
  json steer;                           // null, or user messages to add and go on with unless the loop stops
};

// A tool call of the model's answer that failed its checks (a tool not offered, arguments that do
// not parse or fit the schema), as a seam may mend it before its error goes back to the model.
struct WrongCall {
  int step = 0;
  json tool_call;                                     // {toolCallId, toolName, input}: input is the arguments as the model wrote them
  json error;                                         // {type: "no-such-tool" | "invalid-input", message}
  const std::vector<const ToolBox::Entry*>& offered;  // the step's offered tools
  const json& system;
  const json& messages;  // the conversation the model answered
};

// A tool call of the model's answer that passed its checks, as a seam may refine its arguments.
struct RightCall {
  int step = 0;
  const std::string& tool_call_id;
  const std::string& tool_name;
  const json& args;  // parsed, valid for the tool's schema
};

// The step as it goes to the model, once every before_step seam has had its say.
struct StepStart {
  int step = 0;
  const std::string& model;
  const json& request;   // the model.generate payload: {system, tools, params, toolChoice?, providerOptions? ...}
  const json& messages;  // what the model is sent, without the system prompt
  const json& steps;     // the records of the steps before this one
};

class StepSeam {
 public:
  virtual ~StepSeam() = default;
  virtual Task<void> before_step(StepState& state, const CallEnv& env);
  virtual Task<void> step_started(const StepStart& start, const CallEnv& env);
  // The step's model call failed (its retries and fallbacks used up; not when the run was
  // cancelled): the run fails with `error` once the seams have seen it.
  virtual Task<void> step_failed(int step, const protocol::WireError& error, const CallEnv& env);
  // After the model answered, for each wrong call: the mended call {toolName, input (JSON text or
  // an object)}, or nullopt to leave it (to the next seam, then to its error).
  virtual Task<std::optional<json>> mend_call(const WrongCall& call, const CallEnv& env);
  // After the model answered, for each call that passed its checks, of a tool this seam `refines`:
  // new arguments to run it with (the transcript keeps them; the loop checks them again), or nullopt.
  virtual bool refines(const std::string& /*tool*/) const { return false; }
  virtual Task<std::optional<json>> refine_call(const RightCall& call, const CallEnv& env);
  virtual Task<StepVerdict> after_step(StepState& state, const CallEnv& env);
};

// What a seam type sees when it decides whether (and how) it applies to a loop.
struct StepSeamContext {
  const protocol::FieldReader& spec;  // the prompt run spec, or the directive reply command
  RunTree& tree;
  bool directive;  // a directive reply (no hooks, no stopWhen)
};

}  // namespace lmthing::pipeline

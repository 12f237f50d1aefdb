// The agent loop shared by prompt runs (agent/prompt_run.cpp) and directive replies
// (directive/reply.cpp): before-step seams, one model call through the run's model chain, the
// model's tool calls checked and run concurrently through their tools' chains (results appended in
// call order), after-step seams; until a step makes no tool call, a seam stops the loop, or
// maxSteps is reached. Every step emits step-start, tool-call, tool-result / tool-error, step-finish.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/pending_calls.hpp"
#include "pipeline/run_tree.hpp"
#include "pipeline/step.hpp"

namespace lmthing::agent {

// Where a loop keeps its conversation.
class Transcript {
 public:
  virtual ~Transcript() = default;
  // The conversation so far, without the system prompt.
  virtual const json& messages() const = 0;
  virtual void append(json message) = 0;
  // Puts the messages of the next model call into `payload` (`messages`, or `conversation` for a
  // host that keeps its own copy); `replacement` is a seam's message list for this step only.
  virtual void fill(json& payload, const std::optional<json>& replacement) = 0;
  // The model answered a call that `fill` prepared: the assistant turn was appended. `mended`: the
  // engine changed that turn (repairToolCall, refineToolInput), so the host's copy of it is stale and goes again.
  virtual void answered(bool /*mended*/) {}
  // Puts `message` at `index` (before any model call): the results of calls resumed after a
  // deferred approval. Only prompt runs resume calls.
  virtual void insert(std::size_t index, json message);
};

// What one step sends, decided after the before-step seams.
struct StepPlan {
  std::string model;  // the model reference
  json system;        // string or null
  std::vector<const pipeline::ToolBox::Entry*> offered;
  json tool_choice;      // null = the provider's default
  json response_format;  // null = text
  json params = json::object();
  json provider_options;    // null = the run's own (the host adds them)
  json step_id;             // copied into the op's `step` (the host routes stream deltas by it)
  std::string restriction;  // why tools were held back (the run's role), told to a model calling one
};

struct LoopOutcome {
  json steps = json::array();  // the steps' records, the last step's last
  json usage;
  // Set when a seam stopped the loop ("budget"), or "pending" when a call was left pending (a
  // deferred approval, a tool the caller executes).
  std::string stop_reason;
  std::optional<json> value;  // a response-schema seam's validated answer
};

using Planner = std::function<StepPlan(int step, const pipeline::StepOverrides& overrides)>;

struct AgentLoopConfig {
  int max_steps = 20;
  // At most this many of a step's tool calls run at once, started in the model's order (the AI
  // SDK's toolCallConcurrency); 0: all at once.
  int tool_call_concurrency = 0;
  // The AI SDK 7's toolOrder: these offered tools go first, in this order, the others after them
  // by name (a stable order keeps a provider's prompt cache warm); empty: as the plan offers them.
  std::vector<std::string> tool_order;
  std::vector<std::unique_ptr<pipeline::StepSeam>> seams;
  Planner plan;
  json call_context = json::object();  // extra fields of every tool call's context
  // A root prompt run's tool calls may have their approval deferred: the loop ends after that step
  // with the call pending (docs/human-in-the-loop.md, "Approvals across requests").
  bool can_defer = false;
  PendingCalls pending;  // answered before the first model call
};

Task<LoopOutcome> run_agent_loop(const pipeline::CallEnv& env, const pipeline::Chain& model_chain, Transcript& transcript, AgentLoopConfig config);

// The step seams a loop gets: those of the registered types that apply to `spec`.
std::vector<std::unique_ptr<pipeline::StepSeam>> make_seams(const protocol::FieldReader& spec, pipeline::RunTree& tree, bool directive);

// Usage sums: {inputTokens, outputTokens, totalTokens}.
json add_usage(const json& total, const json& usage);

// The tools a step offers: all of `tools`, or those `active` names (the run's or reply's
// activeTools, or a hook's), each once, in that order. A name `tools` lacks fails the call with a
// callback error (a safety net: names are checked where they are set).
std::vector<const pipeline::ToolBox::Entry*> offered_tools(const pipeline::ToolBox& tools, const std::optional<std::vector<std::string>>& active);

// `tools` in `order` (see AgentLoopConfig::tool_order).
void order_tools(std::vector<const pipeline::ToolBox::Entry*>& tools, const std::vector<std::string>& order);

// A step plan's responseFormat for a response schema: the schema (left out when it accepts any JSON
// value, so the provider uses its plain JSON mode), with a name and description when given.
json response_format(const json& schema, const json& name = json(), const json& description = json());

}  // namespace lmthing::agent

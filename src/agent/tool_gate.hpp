// The human-in-the-loop gate around one tool call (docs/human-in-the-loop.md): guards and the
// tool's approval before the callback runs, its output validator after. The step loop calls out
// to it; everything the gate decides is visible as run events (guard, approval-request,
// approval-decision, validation).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "agent/tool_calls.hpp"
#include "policy/human_desk.hpp"

namespace lmthing::agent {

// Reads a tool's approval, guards, validator, retryOnFailure and maxRetries fields.
void read_tool_policy(const json& item, ToolSpec& tool, const std::string& where);
// Checks that every name a tool or guard refers to is defined (errors list the defined ones).
void link_tool_policies(const PromptSpec& spec);

class ToolGate {
 public:
  ToolGate(Loop& loop, RunId run, policy::HumanDesk& desk, const PromptSpec& spec) : loop_(loop), run_(run), desk_(desk), spec_(spec) {}

  // What to do with a checked call: run `tool` with `args`, or answer the model with `answer`.
  struct Pass {
    const ToolSpec* tool = nullptr;
    json args;
    bool run = true;
    json answer;
    bool is_error = false;
  };

  // Guards, then the approval. Fails (kind `guard`) when a guard with onFail "throw" refuses.
  Task<Pass> before(int step, CheckedCall call);
  // The tool's output validator: nothing when the output passes, else the message the model gets
  // (retryOnFailure, within maxRetries). Fails (kind `validation`) once the retries are used up.
  Task<std::optional<std::string>> after(int step, CheckedCall call, const ToolSpec* tool, json args, json value);
  // The run's response validator on the final text: nothing when it passes, else the feedback to
  // send the model for another step. Fails (kind `validation`) once the retries are used up.
  Task<std::optional<std::string>> check_response(int step, std::string text);

 private:
  struct Verdict {
    bool valid = true;
    std::string severity = "error";
    json errors = json::array();
    std::string summary;
    json fix;
  };

  Task<Verdict> validate(policy::ValidatorSpec validator, json value, json context);
  // {passed, message}: the guard's condition, called with the call's arguments.
  Task<json> guard_verdict(policy::GuardSpec guard, int step, CheckedCall call);
  // Asks `approval` about the call and applies the decision to `pass` (returned updated).
  Task<Pass> ask(policy::ApprovalSpec approval, int step, CheckedCall call, Pass pass);
  void emit(json event) const { policy::emit_run_event(loop_, run_, std::move(event)); }

  Loop& loop_;
  RunId run_;
  policy::HumanDesk& desk_;
  const PromptSpec& spec_;
  std::map<std::string, int> failures_;  // invalid outputs so far, per tool ("" = the final answer)
};

}  // namespace lmthing::agent

// Asking a human for approval: one `approval.ask` op per request, raced against the approval's
// timeout; the default action applies on timeout, on a handler failure or an invalid decision,
// always with the reason. A request can also be answered by id (`approval.respond`).
#pragma once

#include <functional>
#include <string>

#include "pipeline/call.hpp"
#include "policy/human_desk.hpp"

namespace lmthing::policy {

struct Decision {
  std::string id;         // the request id ("request" on the wire)
  std::string action;     // approve, deny, modify, or defer (the run ends with the call pending)
  json modified_data;     // modify: the edited data (for a tool: its new arguments)
  std::string reason;     // why (given by the human, or why the default action applied)
  std::string source;     // handler, respond, timeout, error, invalid
  std::string signature;  // defer: the host's signature of the pending call (approvalSecret), passed on to the client

  json to_json() const;
};

// Reads a decision `{action, modifiedData?, reason?}` (or just the action as a string). `defer` is
// accepted beside the offered actions where `can_defer` (a root prompt run's own tool call).
// Throws std::invalid_argument when the action is not offered or modify carries no data.
Decision read_decision(const json& answer, const ApprovalSpec& spec, bool can_defer = false);

// Asks for approval `spec` about `context` for a call in `env`; `preview` (e.g. {toolName, args}) is
// shown when the approval allows it; `extra` fields (toolCallId, stepNumber) go into the request and
// decision events; `can_defer` lets the decision be `defer`. Fails only when the run is cancelled.
Task<Decision> ask_approval(const pipeline::CallEnv& env, ApprovalSpec spec, json context, json preview, json extra, bool can_defer = false);

}  // namespace lmthing::policy

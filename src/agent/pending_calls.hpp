// A prompt run resumed after a deferred approval (docs/human-in-the-loop.md, "Approvals across
// requests"): the conversation ends with an assistant turn whose tool calls are not all answered,
// and tool messages after it hold `tool-approval-response` parts deciding the unanswered ones.
// The run answers them (runs the approved, refuses the denied) before its first model call.
#pragma once

#include <string>
#include <vector>

#include "protocol/json.hpp"

namespace lmthing::agent {

using json = lmthing::Json;

// How the messages decided one pending call.
struct CallDecision {
  bool approved = false;
  std::string reason;  // the user's, may be empty
  json approval_id;    // the response's approvalId (string), or null
};

struct PendingCalls {
  json calls = json::array();                                   // the last assistant turn's tool-call parts, in its order
  json results = json::array();                                 // the tool-result parts the messages already had for some of them
  std::vector<std::pair<std::string, CallDecision>> decisions;  // by toolCallId, for the calls without a result
  std::size_t position = 0;                                     // where the tool message with every result goes (after the assistant turn)

  bool empty() const { return decisions.empty(); }
  // The decision for `tool_call_id`, or null when the call already has a result.
  const CallDecision* decision(const std::string& tool_call_id) const;
};

// Takes the pending calls out of `messages`: when tool messages after the last assistant turn carry
// approval responses, those trailing tool messages are removed (their results kept in the answer)
// so the run can append one tool message with every result in call order. Nothing changes when no
// message carries an approval response. Throws a config error (naming the message and part) for a
// response that answers no pending call, answers one twice, or is malformed, and for a pending call
// left with neither a result nor a response.
PendingCalls take_pending_calls(json& messages);

}  // namespace lmthing::agent

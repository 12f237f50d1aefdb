// Checking a model's tool call before anything runs. What the model got wrong (a tool that does
// not exist, arguments that are not JSON or fail the schema) becomes a message for the model, so
// the loop can hand it back as the tool's result and let the model correct itself.
#pragma once

#include <string>
#include <vector>

#include "pipeline/call.hpp"

namespace lmthing::agent {

struct CheckedCall {
  std::string id;
  std::string name;
  json args;  // parsed arguments (null when they could not be parsed)
  // The model's argument text when it could not be parsed: the tool-call event carries it as the
  // call's input (the AI SDK's invalid call), so a chat client sends back what the model wrote.
  std::string unparsed_args;
  const pipeline::ToolBox::Entry* tool = nullptr;
  std::string error;  // non-empty: the message the model gets instead of a result
  // The provider's opaque signature of the call (Gemini's thoughtSignature) and who made it: the
  // tool-call event carries them, so a chat front end can send the call back signed.
  std::string signature;
  std::string signed_by;
};

// `offered` are the tools the model was given this step; calling any other is an error, whose
// message includes `restriction` (why tools were held back, e.g. the run's role) when there is one.
CheckedCall check_tool_call(const std::vector<const pipeline::ToolBox::Entry*>& offered, const json& part, const std::string& restriction = {});

}  // namespace lmthing::agent

// Checking a model's tool call before anything runs. What the model got wrong (a tool that does
// not exist, arguments that are not JSON or fail the schema) becomes a message for the model, so
// the loop can hand it back as the tool's result and let the model correct itself.
#pragma once

#include <string>
#include <vector>

#include "agent/prompt_spec.hpp"

namespace lmthing::agent {

struct CheckedCall {
  std::string id;
  std::string name;
  json args;  // parsed arguments (null when they could not be parsed)
  const ToolSpec* tool = nullptr;
  std::string error;  // non-empty: the message the model gets instead of a result
};

// `offered` are the tools the model was given this step; calling any other is an error.
CheckedCall check_tool_call(const std::vector<const ToolSpec*>& offered, const json& part);

}  // namespace lmthing::agent

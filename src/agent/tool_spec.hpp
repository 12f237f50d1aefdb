// A tool as a run knows it: what the model is offered (name, description, parameters), the host
// callback that executes it, its compiled argument validator, and its per-call options (retry,
// approval, timeoutMs ...), which the interceptors of its call pipeline read (src/pipeline/).
#pragma once

#include <memory>
#include <string>

#include "protocol/json.hpp"

#include "schema/validator.hpp"

namespace lmthing::agent {

using json = lmthing::Json;

struct ToolSpec {
  std::string name;
  std::string description;
  json parameters;  // JSON Schema, as sent to the model
  // Host callback that executes the tool; empty for a tool the run's caller executes (a config tool
  // without `execute`, the AI SDK's client-side tool): its calls end a root prompt run pending.
  std::string callback;
  std::shared_ptr<const schema::Validator> validator;
  json options = json::object();  // checked against the options the interceptors declare
};

}  // namespace lmthing::agent

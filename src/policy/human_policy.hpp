// The human-in-the-loop definitions (docs/human-in-the-loop.md): approvals, guards, validators and
// interactions, by name in the run tree (definition kinds `approval`, `guard`, `validator`,
// `interaction`). The engine applies them (timeouts, default actions, re-asking, retries); the host
// only performs the `approval.ask` / `interaction.ask` ops and the callbacks named here.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/loop.hpp"
#include "schema/validator.hpp"

namespace lmthing::policy {

struct ApprovalSpec {
  std::string name;
  std::string message;                    // used when there is no message_fn (or it fails)
  std::optional<std::string> message_fn;  // callback(context) -> string
  std::vector<std::string> options;       // a subset of approve, deny, modify
  double timeout_ms = 0;                  // 0: wait as long as it takes
  std::string default_action = "deny";    // approve or deny
  bool show_preview = true;

  bool allows(const std::string& action) const;
};

enum class OnFail { Throw, Skip, Redirect, PromptUser };
const char* to_string(OnFail mode) noexcept;

struct GuardSpec {
  std::string name;
  std::string condition;  // callback(args, {toolName, toolCallId, stepNumber}) -> verdict
  OnFail on_fail = OnFail::Throw;
  std::string message;
  std::vector<std::string> tools;          // tools this guard checks on every call (besides tools naming it)
  std::optional<std::string> redirect_to;  // OnFail::Redirect: the tool that runs instead
  std::optional<std::string> approval;     // OnFail::PromptUser: an approval by name (else an implicit one)
};

struct ValidatorSpec {
  std::string name;
  std::shared_ptr<const schema::Validator> schema;  // optional
  std::optional<std::string> fn;                    // callback(value, context) -> {valid, errors, fix, severity}
};

struct InteractionSpec {
  std::string name;
  std::string kind;  // question or choice
  std::string message;
  std::optional<std::string> message_fn;
  json choices = json::array();
  std::optional<std::string> choices_fn;  // callback(context) -> choices, asked each time
  bool multiple = false;
  std::shared_ptr<const schema::Validator> validation;
  std::optional<std::string> validation_check;  // callback(value) after `validation`: zod's parse (pipeline/host_callback.hpp)
  double timeout_ms = 0;
  bool allow_skip = false;
  std::optional<json> default_value;
  int max_attempts = 3;
};

}  // namespace lmthing::policy

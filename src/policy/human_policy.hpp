// What a prompt run declared for human-in-the-loop control (docs/human-in-the-loop.md): approvals,
// guards, validators and interactions, by name, checked once when the run starts. The engine
// applies them (timeouts, default actions, re-asking, retries); the host only performs the
// `approval.ask` / `interaction.ask` ops and the callbacks named here.
#pragma once

#include <map>
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
  bool multiple = false;
  std::shared_ptr<const schema::Validator> validation;
  double timeout_ms = 0;
  bool allow_skip = false;
  std::optional<json> default_value;
  int max_attempts = 3;
};

// Checks the final answer of a run (the parsed JSON when the text is JSON, else the text).
struct ResponseCheck {
  std::string validator;
  bool retry_on_failure = false;
  int max_retries = 2;
};

struct HumanPolicy {
  std::string host;  // opaque; copied into approval.ask / interaction.ask so the host can route them
  std::map<std::string, ApprovalSpec> approvals;
  std::vector<GuardSpec> guards;  // definition order (the order they are checked in)
  std::map<std::string, ValidatorSpec> validators;
  std::map<std::string, InteractionSpec> interactions;
  std::optional<ResponseCheck> response_check;

  const GuardSpec* find_guard(const std::string& name) const;
  bool empty() const { return approvals.empty() && guards.empty() && validators.empty() && interactions.empty(); }
};

// Reads the human-in-the-loop fields of a prompt spec (approvals, guards, validators, interactions,
// responseValidator, host). Throws protocol::ProtocolError naming the bad field.
std::shared_ptr<const HumanPolicy> parse_human_policy(const json& spec, const std::string& where);

// "a, b, c" or "none": for error messages that list what is defined.
template <class Map>
std::string defined_names(const Map& map) {
  std::string out;
  for (const auto& [name, value] : map) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

}  // namespace lmthing::policy

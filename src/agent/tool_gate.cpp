#include "agent/tool_gate.hpp"

#include <algorithm>

#include "policy/approval.hpp"

namespace lmthing::agent {

using protocol::ProtocolError;
using protocol::require_field;
using value_t = json::value_t;

namespace {

[[noreturn]] void fail(const std::string& kind, const std::string& message, json extra = json::object()) {
  throw OpFailed(protocol::WireError{kind, message, std::move(extra)});
}

const char* on_fail_name(policy::OnFail mode) {
  switch (mode) {
    case policy::OnFail::Throw: return "throw";
    case policy::OnFail::Skip: return "skip";
    case policy::OnFail::Redirect: return "redirect";
    case policy::OnFail::PromptUser: return "prompt-user";
  }
  return "throw";
}

std::string tool_names(const PromptSpec& spec) {
  std::string out;
  for (const auto& t : spec.tools) out += (out.empty() ? "" : ", ") + t.name;
  return out.empty() ? "none" : out;
}

std::string guard_names(const policy::HumanPolicy& human) {
  std::string out;
  for (const auto& g : human.guards) out += (out.empty() ? "" : ", ") + g.name;
  return out.empty() ? "none" : out;
}

// A guard used by prompt-user without a named approval: approve or deny, deny by default.
policy::ApprovalSpec implicit_approval(const policy::GuardSpec& guard, const std::string& message) {
  policy::ApprovalSpec a;
  a.name = guard.name;
  a.message = message;
  a.options = {"approve", "deny"};
  return a;
}

// The guards checked before a call of `tool`: those it names, then those that list it.
std::vector<const policy::GuardSpec*> guards_for(const PromptSpec& spec, const ToolSpec& tool) {
  std::vector<const policy::GuardSpec*> out;
  for (const auto& name : tool.guards) out.push_back(spec.human->find_guard(name));
  for (const auto& guard : spec.human->guards)
    if (std::find(guard.tools.begin(), guard.tools.end(), tool.name) != guard.tools.end() && std::find(out.begin(), out.end(), &guard) == out.end())
      out.push_back(&guard);
  return out;
}

// The final answer as a value to validate: its JSON when it is JSON, else the text.
json response_value(const std::string& text) {
  json parsed = json::parse(text, nullptr, false);
  return parsed.is_discarded() ? json(text) : parsed;
}

}  // namespace

void read_tool_policy(const json& item, ToolSpec& tool, const std::string& where) {
  auto name_field = [&](const char* field) -> std::optional<std::string> {
    if (!item.contains(field) || item[field].is_null()) return std::nullopt;
    std::string value = require_field(item, field, value_t::string, where).get<std::string>();
    if (value.empty()) throw ProtocolError(where + ": \"" + field + "\" must not be empty");
    return value;
  };
  tool.approval = name_field("approval");
  tool.output_validator = name_field("validator");
  if (item.contains("guards"))
    for (const auto& g : require_field(item, "guards", value_t::array, where)) {
      if (!g.is_string()) throw ProtocolError(where + ": \"guards\" must list guard names, got " + g.dump());
      tool.guards.push_back(g.get<std::string>());
    }
  if (item.contains("retryOnFailure")) tool.retry_on_failure = require_field(item, "retryOnFailure", value_t::boolean, where).get<bool>();
  if (item.contains("maxRetries")) {
    const double v = require_field(item, "maxRetries", value_t::number_float, where).get<double>();
    if (!(v >= 0 && v <= 100) || v != static_cast<int>(v))
      throw ProtocolError(where + ": \"maxRetries\" must be an integer between 0 and 100, got " + item["maxRetries"].dump());
    tool.max_retries = static_cast<int>(v);
  }
}

void link_tool_policies(const PromptSpec& spec) {
  const policy::HumanPolicy& human = *spec.human;
  for (const auto& tool : spec.tools) {
    const std::string where = "tool \"" + tool.name + "\"";
    if (tool.approval && !human.approvals.count(*tool.approval))
      throw ProtocolError(where + ": unknown approval \"" + *tool.approval + "\" (defined approvals: " + policy::defined_names(human.approvals) +
                          ")");
    if (tool.output_validator && !human.validators.count(*tool.output_validator))
      throw ProtocolError(where + ": unknown validator \"" + *tool.output_validator +
                          "\" (defined validators: " + policy::defined_names(human.validators) + ")");
    for (const auto& g : tool.guards)
      if (!human.find_guard(g)) throw ProtocolError(where + ": unknown guard \"" + g + "\" (defined guards: " + guard_names(human) + ")");
  }
  for (const auto& guard : human.guards) {
    const std::string where = "guard \"" + guard.name + "\"";
    for (const auto& t : guard.tools)
      if (!spec.find_tool(t)) throw ProtocolError(where + ": unknown tool \"" + t + "\" (defined tools: " + tool_names(spec) + ")");
    if (guard.redirect_to && !spec.find_tool(*guard.redirect_to))
      throw ProtocolError(where + ": redirectTo names unknown tool \"" + *guard.redirect_to + "\" (defined tools: " + tool_names(spec) + ")");
  }
}

Task<json> ToolGate::guard_verdict(policy::GuardSpec guard, int step, CheckedCall call) {
  json where{{"toolName", call.name}, {"toolCallId", call.id}, {"stepNumber", step}};
  json payload{{"fn", guard.condition}, {"args", json::array({call.args, where})}};
  try {
    json verdict = co_await loop_.op(run_, "callback.invoke", std::move(payload));
    if (verdict.is_boolean()) co_return json{{"passed", verdict.get<bool>()}, {"message", guard.message}};
    if (verdict.is_object() && verdict.contains("pass") && verdict["pass"].is_boolean()) {
      const bool passed = verdict["pass"].get<bool>();
      const std::string message =
          verdict.contains("message") && verdict["message"].is_string() ? verdict["message"].get<std::string>() : guard.message;
      co_return json{{"passed", passed}, {"message", message}};
    }
    co_return json{
        {"passed", false},
        {"message", guard.message + " (the condition must return a boolean or {pass, message}, got " + verdict.dump().substr(0, 100) + ")"}};
  } catch (const OpFailed& e) {
    if (e.error.kind == "aborted") throw;
    co_return json{{"passed", false}, {"message", guard.message + " (the condition failed: " + e.error.message + ")"}};
  }
}

Task<ToolGate::Pass> ToolGate::ask(policy::ApprovalSpec approval, int step, CheckedCall call, Pass pass) {
  json context{{"toolName", pass.tool->name}, {"args", pass.args}, {"toolCallId", call.id}};
  json preview{{"toolName", pass.tool->name}, {"args", pass.args}};
  json extra{{"toolCallId", call.id}, {"toolName", pass.tool->name}, {"stepNumber", step}};
  policy::Decision decision = co_await policy::ask_approval(loop_, desk_, run_, spec_.human->host, std::move(approval), std::move(context),
                                                            std::move(preview), std::move(extra));
  if (decision.action == "deny") {
    pass.run = false;
    pass.is_error = true;
    pass.answer = {
        {"error", "The call of tool \"" + pass.tool->name + "\" was denied" + (decision.reason.empty() ? "" : ": " + decision.reason) + "."}};
  } else if (decision.action == "modify") {
    const auto result = pass.tool->validator->validate(decision.modified_data);
    if (!result.valid) {
      pass.run = false;
      pass.is_error = true;
      pass.answer = {{"error", "The arguments the user modified for tool \"" + pass.tool->name + "\" are invalid: " + schema::describe(result)}};
    } else {
      pass.args = decision.modified_data;
    }
  }
  co_return pass;
}

Task<ToolGate::Pass> ToolGate::before(int step, CheckedCall call) {
  Pass pass;
  pass.tool = call.tool;
  pass.args = call.args;
  for (const policy::GuardSpec* guard : guards_for(spec_, *call.tool)) {
    json verdict = co_await guard_verdict(*guard, step, call);
    const bool passed = verdict["passed"].get<bool>();
    const std::string message = verdict["message"].get<std::string>();
    json event{{"type", "guard"}, {"guard", guard->name}, {"passed", passed}, {"stepNumber", step}, {"toolCallId", call.id}, {"toolName", call.name}};
    if (!passed) {
      event["onFail"] = on_fail_name(guard->on_fail);
      event["message"] = message;
    }
    emit(std::move(event));
    if (passed) continue;
    switch (guard->on_fail) {
      case policy::OnFail::Throw: fail("guard", "guard \"" + guard->name + "\" refused tool \"" + call.name + "\": " + message);
      case policy::OnFail::Skip:
        pass.run = false;
        pass.answer = {{"skipped", true}, {"guard", guard->name}, {"message", message}};
        co_return pass;
      case policy::OnFail::Redirect: {
        const ToolSpec* target = spec_.find_tool(*guard->redirect_to);
        const auto result = target->validator->validate(pass.args);
        if (!result.valid) {
          pass.run = false;
          pass.is_error = true;
          pass.answer = {{"error", "guard \"" + guard->name + "\" redirected the call to tool \"" + target->name +
                                       "\", whose arguments do not match: " + schema::describe(result)}};
          co_return pass;
        }
        pass.tool = target;
        break;
      }
      case policy::OnFail::PromptUser: {
        policy::ApprovalSpec approval = guard->approval ? spec_.human->approvals.at(*guard->approval) : implicit_approval(*guard, message);
        pass = co_await ask(std::move(approval), step, call, pass);
        if (!pass.run) co_return pass;
        break;
      }
    }
    if (pass.tool != call.tool) break;  // redirected: the target's own approval applies below
  }
  if (pass.tool->approval) pass = co_await ask(spec_.human->approvals.at(*pass.tool->approval), step, call, pass);
  co_return pass;
}

Task<ToolGate::Verdict> ToolGate::validate(policy::ValidatorSpec validator, json value, json context) {
  Verdict verdict;
  if (validator.schema) {
    const auto result = validator.schema->validate(value);
    if (!result.valid) {
      verdict.valid = false;
      verdict.errors = schema::issues_json(result);
      verdict.summary = schema::describe(result);
      co_return verdict;  // the function sees only values that match the schema
    }
  }
  if (!validator.fn) co_return verdict;
  json payload{{"fn", *validator.fn}, {"args", json::array({value, context})}};
  json answer;
  try {
    answer = co_await loop_.op(run_, "callback.invoke", std::move(payload));
  } catch (const OpFailed& e) {
    if (e.error.kind == "aborted") throw;
    verdict.valid = false;
    verdict.summary = "the validator failed: " + e.error.message;
    verdict.errors.push_back({{"message", verdict.summary}});
    co_return verdict;
  }
  if (answer.is_boolean()) {
    verdict.valid = answer.get<bool>();
    if (!verdict.valid) verdict.summary = "rejected by validator \"" + validator.name + "\"";
    co_return verdict;
  }
  if (!answer.is_object() || !answer.contains("valid") || !answer["valid"].is_boolean()) {
    verdict.valid = false;
    verdict.summary = "validator \"" + validator.name + "\" must return {valid, errors?, fix?, severity?}, got " + answer.dump().substr(0, 100);
    verdict.errors.push_back({{"message", verdict.summary}});
    co_return verdict;
  }
  verdict.valid = answer["valid"].get<bool>();
  if (answer.contains("severity") && answer["severity"].is_string()) verdict.severity = answer["severity"].get<std::string>();
  if (answer.contains("fix")) verdict.fix = answer["fix"];
  if (answer.contains("errors") && answer["errors"].is_array())
    for (const auto& e : answer["errors"]) {
      const std::string text = e.is_string() ? e.get<std::string>() : e.value("message", e.dump());
      verdict.errors.push_back({{"message", text}});
      verdict.summary += (verdict.summary.empty() ? "" : "; ") + text;
    }
  if (!verdict.valid && verdict.summary.empty()) verdict.summary = "rejected by validator \"" + validator.name + "\"";
  co_return verdict;
}

Task<std::optional<std::string>> ToolGate::after(int step, CheckedCall call, const ToolSpec* tool, json args, json value) {
  if (!tool->output_validator) co_return std::nullopt;
  const policy::ValidatorSpec& validator = spec_.human->validators.at(*tool->output_validator);
  json context{{"toolName", tool->name}, {"args", args}, {"toolCallId", call.id}};
  Verdict verdict = co_await validate(validator, value, context);
  const bool blocking = !verdict.valid && verdict.severity != "warning";
  const int failures = blocking ? ++failures_[tool->name] : failures_[tool->name];
  emit({{"type", "validation"},
        {"target", "tool"},
        {"validator", validator.name},
        {"stepNumber", step},
        {"toolCallId", call.id},
        {"toolName", tool->name},
        {"valid", verdict.valid},
        {"severity", verdict.severity},
        {"errors", verdict.errors},
        {"failures", failures}});
  if (!blocking) co_return std::nullopt;
  std::string message = "The output of tool \"" + tool->name + "\" failed validation \"" + validator.name + "\": " + verdict.summary;
  if (!verdict.fix.is_null()) message += " Fix: " + (verdict.fix.is_string() ? verdict.fix.get<std::string>() : verdict.fix.dump());
  if (!tool->retry_on_failure || failures > tool->max_retries) {
    const std::string why = tool->retry_on_failure ? " (after " + std::to_string(tool->max_retries) + " retries)" : "";
    fail("validation", message + why, json{{"errors", verdict.errors}});
  }
  co_return message;
}

Task<std::optional<std::string>> ToolGate::check_response(int step, std::string text) {
  const auto& check = spec_.human->response_check;
  if (!check) co_return std::nullopt;
  const policy::ValidatorSpec& validator = spec_.human->validators.at(check->validator);
  json context{{"stepNumber", step}};  // a local: GCC mishandles braced temporaries inside co_await
  Verdict verdict = co_await validate(validator, response_value(text), std::move(context));
  const bool blocking = !verdict.valid && verdict.severity != "warning";
  const int failures = blocking ? ++failures_[""] : failures_[""];
  emit({{"type", "validation"},
        {"target", "response"},
        {"validator", validator.name},
        {"stepNumber", step},
        {"valid", verdict.valid},
        {"severity", verdict.severity},
        {"errors", verdict.errors},
        {"failures", failures}});
  if (!blocking) co_return std::nullopt;
  std::string message = "Your answer failed validation \"" + validator.name + "\": " + verdict.summary + ".";
  if (!verdict.fix.is_null()) message += " Fix: " + (verdict.fix.is_string() ? verdict.fix.get<std::string>() : verdict.fix.dump());
  if (!check->retry_on_failure || failures > check->max_retries) {
    const std::string why = check->retry_on_failure ? " (after " + std::to_string(check->max_retries) + " retries)" : "";
    fail("validation", message + why, json{{"errors", verdict.errors}});
  }
  co_return message + " Please answer again.";
}

}  // namespace lmthing::agent

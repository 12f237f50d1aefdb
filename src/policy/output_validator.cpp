// Validators (defValidator) applied to what comes back: the output_validator interceptor checks a
// tool's result (tool options validator, retryOnFailure, maxRetries), the response_validator seam
// checks a prompt run's final answer (spec.responseValidator). An invalid value goes back to the model
// with the validator's message while retries remain; then the run fails with a ValidationError.
#include <map>

#include "pipeline/registry.hpp"
#include "policy/human_policy.hpp"

namespace lmthing::policy {

namespace {

using pipeline::Call;
using pipeline::CallKind;
using pipeline::Next;
using protocol::WireError;

struct Verdict {
  bool valid = true;
  std::string severity = "error";
  json errors = json::array();
  std::string summary;
  json fix;
  bool blocking() const { return !valid && severity != "warning"; }
};

// The schema first (the function sees only values that match it), then the function.
Task<Verdict> validate(const pipeline::CallEnv& env, const ValidatorSpec& validator, json value, json context) {
  Verdict verdict;
  if (validator.schema) {
    const auto result = validator.schema->validate(value);
    if (!result.valid) {
      verdict.valid = false;
      verdict.errors = schema::issues_json(result);
      verdict.summary = schema::describe(result);
      co_return verdict;
    }
  }
  if (!validator.fn) co_return verdict;
  json payload{{"fn", *validator.fn}, {"args", json::array({value, context})}};
  json answer;
  try {
    answer = co_await env.loop.op(env.run, "callback.invoke", std::move(payload), 0, "validator \"" + validator.name + "\"");
  } catch (const OpFailed& e) {
    if (e.error.kind == "aborted" || env.cancelled()) throw;  // the run's end (abort, timeout), not the validator's failure
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

std::string with_fix(std::string message, const Verdict& verdict) {
  if (!verdict.fix.is_null()) message += " Fix: " + (verdict.fix.is_string() ? verdict.fix.get<std::string>() : verdict.fix.dump());
  return message;
}

// Retries as read from a config: retryOnFailure (default false) and maxRetries (default 2).
struct RetryOnFailure {
  bool enabled = false;
  int max_retries = 2;
  std::string after(int failures) const { return enabled ? " (after " + protocol::counted(max_retries, "retry", "retries") + ")" : ""; }
  bool exhausted(int failures) const { return !enabled || failures > max_retries; }
};

RetryOnFailure read_retries(const protocol::FieldReader& config) {
  return RetryOnFailure{config.optional_bool("retryOnFailure").value_or(false), config.integer("maxRetries", 0, 100).value_or(2)};
}

class OutputValidatorInterceptor : public pipeline::Interceptor {
 public:
  OutputValidatorInterceptor(const ValidatorSpec& validator, RetryOnFailure retries) : validator_(validator), retries_(retries) {}

  Task<json> intercept(Call call, Next next) override {
    const pipeline::CallEnv& env = *call.env;
    const std::string tool = call.target;
    const json tool_call_id = call.context.value("toolCallId", json());
    const json step = call.context.value("stepNumber", json());
    json context{{"toolName", tool}, {"args", call.input}, {"toolCallId", tool_call_id}};
    json value = co_await next(std::move(call));
    Verdict verdict = co_await validate(env, validator_, value, std::move(context));
    const int failures = verdict.blocking() ? ++failures_[tool] : failures_[tool];
    env.emit({{"type", "validation"},
              {"target", "tool"},
              {"validator", validator_.name},
              {"stepNumber", step},
              {"toolCallId", tool_call_id},
              {"toolName", tool},
              {"valid", verdict.valid},
              {"severity", verdict.severity},
              {"errors", verdict.errors},
              {"failures", failures}});
    if (!verdict.blocking()) co_return value;
    const std::string message =
        with_fix("The output of tool \"" + tool + "\" failed validation \"" + validator_.name + "\": " + verdict.summary, verdict);
    if (retries_.exhausted(failures))
      throw pipeline::RunFailed(WireError{"validation", message + retries_.after(failures), json{{"errors", verdict.errors}}});
    throw OpFailed(WireError{"validation", message, json::object()});  // goes back to the model
  }

 private:
  const ValidatorSpec& validator_;
  RetryOnFailure retries_;
  std::map<std::string, int> failures_;  // invalid outputs so far, per tool
};

std::unique_ptr<pipeline::Interceptor> make_output_validator(const pipeline::Target& target) {
  if (target.kind != CallKind::Tool) return nullptr;
  protocol::FieldReader options(target.options, "tool \"" + target.tool->name + "\"");
  auto name = options.optional_string("validator");
  if (!name) return nullptr;
  return std::make_unique<OutputValidatorInterceptor>(target.tree.definitions().get<ValidatorSpec>("validator", *name), read_retries(options));
}

// The final answer as a value to validate: its JSON when it is JSON, else the text.
json answer_value(const std::string& text) {
  json parsed = json::parse(text, nullptr, false);
  return parsed.is_discarded() ? json(text) : parsed;
}

class ResponseValidatorSeam : public pipeline::StepSeam {
 public:
  ResponseValidatorSeam(const ValidatorSpec& validator, RetryOnFailure retries) : validator_(validator), retries_(retries) {}

  Task<pipeline::StepVerdict> after_step(pipeline::StepState& state, const pipeline::CallEnv& env) override {
    pipeline::StepVerdict outcome;
    if (!state.final) co_return outcome;
    json context{{"stepNumber", state.step}};
    Verdict verdict = co_await validate(env, validator_, answer_value(state.record["text"].get<std::string>()), std::move(context));
    if (verdict.blocking()) ++failures_;
    env.emit({{"type", "validation"},
              {"target", "response"},
              {"validator", validator_.name},
              {"stepNumber", state.step},
              {"valid", verdict.valid},
              {"severity", verdict.severity},
              {"errors", verdict.errors},
              {"failures", failures_}});
    if (!verdict.blocking()) co_return outcome;
    const std::string message = with_fix("Your answer failed validation \"" + validator_.name + "\": " + verdict.summary + ".", verdict);
    if (retries_.exhausted(failures_)) throw OpFailed(WireError{"validation", message + retries_.after(failures_), json{{"errors", verdict.errors}}});
    outcome.feedback = message + " Please answer again.";
    co_return outcome;
  }

 private:
  const ValidatorSpec& validator_;
  RetryOnFailure retries_;
  int failures_ = 0;
};

std::unique_ptr<pipeline::StepSeam> make_response_validator(const pipeline::StepSeamContext& context) {
  const json* check = context.spec.optional_object("responseValidator");
  if (!check) return nullptr;
  protocol::FieldReader config(*check, context.spec.where() + ": responseValidator");
  config.only({"validator", "retryOnFailure", "maxRetries"});
  const ValidatorSpec& validator = context.tree.definitions().get<ValidatorSpec>("validator", config.string("validator"));
  return std::make_unique<ResponseValidatorSeam>(validator, read_retries(config));
}

}  // namespace

}  // namespace lmthing::policy

namespace lmthing::pipeline::registered {
extern const InterceptorType output_validator_interceptor{
    "output_validator", {"validator", "retryOnFailure", "maxRetries"}, {}, policy::make_output_validator};
extern const StepSeamType response_validator_seam{"response_validator", policy::make_response_validator};
}  // namespace lmthing::pipeline::registered

// A response schema as a step seam: the final answer of a prompt run with `responseSchema`
// (sub-agents) or of a directive reply with `schema` (L.reply(schema)) is parsed as JSON (optionally
// inside a ``` fence) and validated. A refused answer goes back to the model with the validator's
// message and the model answers again, up to maxRetries times; then a `validation` error. A schema
// written with zod also names a host callback (`responseCheck`, a reply's `check`) that runs zod's
// own parse on an answer the JSON Schema accepted: what JSON Schema cannot say (refinements) is
// refused the same way.
#include "agent/content.hpp"
#include "pipeline/host_callback.hpp"
#include "protocol/json_text.hpp"
#include "schema/validator_cache.hpp"

namespace lmthing::agent {

namespace {

using protocol::WireError;

// Why an answer that does not parse was refused: it is empty, or here is how it starts (quoted, so
// the refusal the model reads back shows exactly what it sent).
std::string not_json(const std::string& text) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return "the reply is empty; expected a JSON value";
  constexpr std::size_t kShown = 200;
  const std::string quoted = json(text.substr(0, kShown)).dump(-1, ' ', false, json::error_handler_t::replace);
  const std::string more = text.size() > kShown ? " (the first " + std::to_string(kShown) + " of " + std::to_string(text.size()) + " bytes)" : "";
  return "the reply is not JSON: " + quoted + more;
}

class ResponseSchemaSeam : public pipeline::StepSeam {
 public:
  ResponseSchemaSeam(std::shared_ptr<const schema::Validator> validator, int max_retries, std::optional<std::string> check)
      : validator_(std::move(validator)), max_retries_(max_retries), check_(std::move(check)) {}

  Task<pipeline::StepVerdict> after_step(pipeline::StepState& state, const pipeline::CallEnv& env) override {
    pipeline::StepVerdict verdict;
    if (!state.final) co_return verdict;
    const std::string text = state.record["text"].get<std::string>();
    std::string problem;
    json errors = json::array();
    json value;
    try {
      value = protocol::parse_limited(json_body(text), "the reply");
    } catch (const protocol::LimitExceeded& e) {
      problem = e.what();
    } catch (const json::parse_error&) {
      problem = not_json(text);
    }
    if (problem.empty()) {
      if (auto result = validator_->validate(value); !result.valid) {
        problem = "the reply does not match the schema; " + schema::describe(result);
        errors = schema::issues_json(result);
      } else if (check_) {
        errors = co_await pipeline::host_check(env, *check_, value, "the response schema's check");
        if (!errors.empty()) problem = "the reply does not match the schema; " + pipeline::describe_refusals(errors);
      }
      if (problem.empty()) {
        state.value = std::move(value);
        co_return verdict;
      }
    }
    if (attempts_++ >= max_retries_)
      throw OpFailed(
          WireError{"validation", problem + " (after " + protocol::counted(attempts_, "attempt", "attempts") + ")", json{{"errors", errors}}});
    verdict.feedback = "Your reply was refused: " + problem + ". Reply again with only a JSON value that matches the required schema.";
    co_return verdict;
  }

 private:
  std::shared_ptr<const schema::Validator> validator_;
  int max_retries_;
  std::optional<std::string> check_;
  int attempts_ = 0;
};

std::unique_ptr<pipeline::StepSeam> make_response_schema(const pipeline::StepSeamContext& context) {
  // A prompt run's `responseSchema`, or a directive reply's `schema`.
  const char* field = context.directive ? "schema" : "responseSchema";
  if (!context.spec.has(field)) return nullptr;
  std::shared_ptr<const schema::Validator> validator;
  try {
    validator = schema::shared_validator(context.spec.at(field));
  } catch (const std::exception& e) {
    context.spec.fail(std::string("\"") + field + "\" is not a valid JSON Schema: " + e.what());
  }
  const int retries = context.spec.integer(context.directive ? "maxRetries" : "responseSchemaRetries", 0, 100).value_or(2);
  auto check = context.spec.optional_string(context.directive ? "check" : "responseCheck");
  return std::make_unique<ResponseSchemaSeam>(std::move(validator), retries, std::move(check));
}

}  // namespace

}  // namespace lmthing::agent

namespace lmthing::pipeline::registered {
extern const StepSeamType response_schema_seam{"response_schema", agent::make_response_schema};
}  // namespace lmthing::pipeline::registered

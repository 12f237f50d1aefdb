#include "policy/interaction.hpp"

#include "pipeline/host_callback.hpp"

#include <algorithm>
#include <stdexcept>

namespace lmthing::policy {

namespace {

[[noreturn]] void fail(const std::string& kind, const std::string& message) { throw OpFailed(protocol::WireError{kind, message, json::object()}); }

bool is_choice(const InteractionSpec& spec, const json& value) {
  return std::find(spec.choices.begin(), spec.choices.end(), value) != spec.choices.end();
}

std::string choices_text(const InteractionSpec& spec) {
  std::string out;
  for (const auto& c : spec.choices) out += (out.empty() ? "" : ", ") + c.dump();
  return out;
}

// The shape every answer must have, also checked for answers given by id.
void check_shape(const json& answer) {
  if (!answer.is_object() || (!answer.contains("value") && !answer.value("skipped", false)))
    throw std::invalid_argument("an answer must be {value} or {skipped: true}, got " + answer.dump().substr(0, 200));
}

}  // namespace

std::string check_answer(const InteractionSpec& spec, const json& answer) {
  try {
    check_shape(answer);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  if (answer.value("skipped", false)) return spec.allow_skip ? "" : "an answer is required (skipping is not allowed)";
  const json& value = answer["value"];
  if (spec.kind == "choice") {
    if (spec.multiple) {
      if (!value.is_array()) return "expected a list of choices (multiple), got " + value.dump();
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (!is_choice(spec, value[i])) return value[i].dump() + " is not one of the choices (" + choices_text(spec) + ")";
        for (std::size_t j = 0; j < i; ++j)
          if (value[j] == value[i]) return value[i].dump() + " is chosen twice";
      }
    } else if (!is_choice(spec, value)) {
      return value.dump() + " is not one of the choices (" + choices_text(spec) + ")";
    }
  }
  if (spec.validation) {
    auto verdict = spec.validation->validate(value);
    if (!verdict.valid) return "the answer is invalid; " + schema::describe(verdict);
  }
  return "";
}

Task<json> ask_interaction(const pipeline::CallEnv& env, InteractionSpec spec, json context) {
  Loop& loop = env.loop;
  const RunId run = env.run;
  HumanDesk& desk = env.desk;
  const std::string message = co_await render_message(loop, run, spec.message_fn, spec.message, context);
  if (spec.choices_fn) {
    // The choices come from the definition's function of the context, asked once per request.
    json payload{{"fn", *spec.choices_fn}, {"args", json::array({context})}};
    json choices = co_await loop.op(run, "callback.invoke", std::move(payload), 0, "the choices of interaction \"" + spec.name + "\"");
    if (!choices.is_array() || choices.empty())
      fail("callback", "interaction \"" + spec.name + "\": its choices function must return a non-empty array, got " + choices.dump().substr(0, 100));
    spec.choices = std::move(choices);
  }
  // A choice's default may be given as an index into its choices (the proposal's `default: 0`).
  if (spec.kind == "choice" && spec.default_value && spec.default_value->is_number_unsigned() &&
      std::find(spec.choices.begin(), spec.choices.end(), *spec.default_value) == spec.choices.end() &&
      spec.default_value->get<std::size_t>() < spec.choices.size())
    spec.default_value = spec.choices[spec.default_value->get<std::size_t>()];
  std::string problem;
  for (int attempt = 1; attempt <= spec.max_attempts; ++attempt) {
    OpenRequest request(desk, desk.open(run, env.host, "interaction", check_shape));
    json fields{{"request", request.id()},
                {"name", spec.name},
                {"kind", spec.kind},
                {"message", message},
                {"choices", spec.choices},
                {"multiple", spec.multiple},
                {"allowSkip", spec.allow_skip},
                {"attempt", attempt},
                {"error", problem.empty() ? json() : json(problem)},
                {"deadline", spec.timeout_ms > 0 ? json(loop.now_ms() + spec.timeout_ms) : json()},
                {"default", spec.default_value ? *spec.default_value : json()},
                {"context", context}};
    json event = fields;
    event["type"] = "interaction-request";
    env.emit(std::move(event));
    json payload = fields;
    payload["host"] = env.host;
    payload["path"] = env.path;

    json answer;
    std::string fallback_reason;
    try {
      answer = co_await loop.op(run, "interaction.ask", std::move(payload), spec.timeout_ms).tracked(&request.entry().op);
    } catch (const OpFailed& e) {
      if (e.error.kind == "aborted" || env.cancelled()) throw;  // the run's timeout is not the interaction's
      const bool timed_out = e.error.kind == "timeout";
      fallback_reason = timed_out ? "no answer in time" : "the interaction handler failed: " + e.error.message;
      if (!spec.default_value && !spec.allow_skip)
        fail(e.error.kind, "interaction \"" + spec.name + "\": " + fallback_reason + " and it has no default");
    }
    json result{{"request", request.id()}, {"attempts", attempt}};
    if (!fallback_reason.empty()) {
      result["value"] = spec.default_value ? *spec.default_value : json();
      result["skipped"] = !spec.default_value;
      result["reason"] = fallback_reason + (spec.default_value ? "; the default was used" : "; skipped");
    } else {
      problem = check_answer(spec, answer);
      if (problem.empty() && spec.validation_check && !answer.value("skipped", false)) {
        const json refused =
            co_await pipeline::host_check(env, *spec.validation_check, answer["value"], "the validation of interaction \"" + spec.name + "\"");
        if (!refused.empty()) problem = "the answer is invalid; " + pipeline::describe_refusals(refused);
      }
      if (!problem.empty()) {
        env.emit(json{{"type", "interaction-invalid"}, {"request", request.id()}, {"name", spec.name}, {"attempt", attempt}, {"error", problem}});
        continue;
      }
      const bool skipped = answer.value("skipped", false);
      result["skipped"] = skipped;
      result["value"] = skipped ? (spec.default_value ? *spec.default_value : json()) : answer["value"];
    }
    json done = result;
    done["type"] = "interaction-answer";
    done["name"] = spec.name;
    env.emit(std::move(done));
    co_return result;
  }
  fail("validation", "interaction \"" + spec.name + "\": no acceptable answer after " + protocol::counted(spec.max_attempts, "attempt", "attempts") +
                         " (last problem: " + problem + ")");
}

}  // namespace lmthing::policy

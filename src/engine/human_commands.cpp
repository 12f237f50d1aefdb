#include "engine/human_commands.hpp"

#include <algorithm>

#include "pipeline/run_tree.hpp"
#include "policy/approval.hpp"
#include "policy/interaction.hpp"
#include "protocol/fields.hpp"
#include "runtime/reply.hpp"

namespace lmthing {

using protocol::ProtocolError;
using protocol::require_field;
using value_t = json::value_t;

namespace {

// Each owns its environment for as long as the request is open.
Task<json> decide(pipeline::CallEnv env, policy::ApprovalSpec spec, json context) {
  policy::Decision decision = co_await policy::ask_approval(env, std::move(spec), std::move(context), json(), json::object());
  co_return decision.to_json();
}

Task<json> interact(pipeline::CallEnv env, policy::InteractionSpec spec, json context) {
  co_return co_await policy::ask_interaction(env, std::move(spec), std::move(context));
}

// ctx.requestHumanIntervention(event): an interaction without a definition, asked of the run's
// interaction handler. `intervention` is {message, choices?, timeoutMs?, default?}; a skip is
// always acceptable (the handler may have nothing to say), and its answer is anything JSON.
policy::InteractionSpec intervention_spec(const json& intervention, const std::string& type) {
  protocol::FieldReader fields(intervention, type + ": intervention");
  fields.only({"message", "choices", "timeoutMs", "default"}, "field");
  policy::InteractionSpec spec;
  spec.name = "humanIntervention";
  spec.message = fields.string("message");
  if (const json* choices = fields.optional_array("choices")) {
    if (choices->empty() || !std::all_of(choices->begin(), choices->end(), [](const json& c) { return c.is_string(); }))
      fields.bad("choices", "a non-empty array of strings");
    spec.choices = *choices;
  }
  spec.kind = spec.choices.empty() ? "question" : "choice";
  spec.timeout_ms = fields.ms("timeoutMs", true).value_or(0);
  if (fields.has("default")) spec.default_value = fields.at("default");
  spec.allow_skip = true;
  spec.max_attempts = 3;
  return spec;
}

}  // namespace

bool handle_human_command(Loop& loop, policy::HumanDesk& desk, const EnvOfRun& env_of, const std::string& type, const json& id, const json& message) {
  if (type == "approval.respond" || type == "interaction.respond") {
    const std::string kind = type.substr(0, type.find('.'));
    const std::string request = require_field(message, "request", value_t::string, type).get<std::string>();
    const char* field = kind == "approval" ? "decision" : "answer";
    if (!message.contains(field)) throw ProtocolError(type + ": missing field \"" + field + "\"");
    // A run's desk names its host: it answers that run tree's requests only.
    const std::optional<std::string> host = protocol::FieldReader(message, type).optional_string("host", true);
    desk.respond(loop, kind, request, message[field], host ? &*host : nullptr);
    loop.emit(protocol::reply_ok(id, json{{"request", request}}));
    return true;
  }
  if (type == "approval.request" || type == "interaction.request") {
    const RunId run = protocol::require_id(message, "run", type);
    pipeline::CallEnv env = env_of(run, type);
    const bool intervention = type == "interaction.request" && message.contains("intervention");
    const std::string name = intervention ? std::string() : require_field(message, "name", value_t::string, type).get<std::string>();
    const json context = message.contains("context") ? message["context"] : json();
    try {
      if (type == "approval.request")
        loop.spawn(reply_when_done(loop, id, decide(env, env.tree->definitions().get<policy::ApprovalSpec>("approval", name), context)));
      else if (message.contains("intervention"))
        loop.spawn(reply_when_done(loop, id, interact(env, intervention_spec(message["intervention"], type), context)));
      else
        loop.spawn(reply_when_done(loop, id, interact(env, env.tree->definitions().get<policy::InteractionSpec>("interaction", name), context)));
    } catch (const ProtocolError& e) {
      throw e.prefixed(type + ": ");
    }
    return true;
  }
  return false;
}

}  // namespace lmthing

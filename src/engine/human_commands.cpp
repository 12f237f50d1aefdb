#include "engine/human_commands.hpp"

#include "pipeline/run_tree.hpp"
#include "policy/approval.hpp"
#include "policy/interaction.hpp"
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

}  // namespace

bool handle_human_command(Loop& loop, policy::HumanDesk& desk, const EnvOfRun& env_of, const std::string& type, const json& id, const json& message) {
  if (type == "approval.respond" || type == "interaction.respond") {
    const std::string kind = type.substr(0, type.find('.'));
    const std::string request = require_field(message, "request", value_t::string, type).get<std::string>();
    const char* field = kind == "approval" ? "decision" : "answer";
    if (!message.contains(field)) throw ProtocolError(type + ": missing field \"" + field + "\"");
    desk.respond(loop, kind, request, message[field]);
    loop.emit(protocol::reply_ok(id, json{{"request", request}}));
    return true;
  }
  if (type == "approval.request" || type == "interaction.request") {
    const RunId run = protocol::require_id(message, "run", type);
    pipeline::CallEnv env = env_of(run, type);
    const std::string name = require_field(message, "name", value_t::string, type).get<std::string>();
    const json context = message.contains("context") ? message["context"] : json();
    try {
      if (type == "approval.request")
        loop.spawn(reply_when_done(loop, id, decide(env, env.tree->definitions().get<policy::ApprovalSpec>("approval", name), context)));
      else
        loop.spawn(reply_when_done(loop, id, interact(env, env.tree->definitions().get<policy::InteractionSpec>("interaction", name), context)));
    } catch (const ProtocolError& e) {
      throw ProtocolError(type + ": " + e.what());
    }
    return true;
  }
  return false;
}

}  // namespace lmthing

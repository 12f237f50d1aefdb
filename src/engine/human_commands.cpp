#include "engine/human_commands.hpp"

#include "policy/approval.hpp"
#include "policy/interaction.hpp"

namespace lmthing {

using protocol::ProtocolError;
using protocol::require_field;
using value_t = json::value_t;

namespace {

Task<void> decide(Loop& loop, policy::HumanDesk& desk, json id, RunId run, std::string host, policy::ApprovalSpec spec, json context) {
  json reply;
  try {
    policy::Decision decision = co_await policy::ask_approval(loop, desk, run, host, std::move(spec), context, json(), json::object());
    reply = protocol::reply_ok(id, decision.to_json());
  } catch (const OpFailed& e) {
    reply = protocol::reply_error(id, e.error);
  }
  loop.emit(reply);
}

Task<void> interact(Loop& loop, policy::HumanDesk& desk, json id, RunId run, std::string host, policy::InteractionSpec spec, json context) {
  json reply;
  try {
    json answer = co_await policy::ask_interaction(loop, desk, run, host, std::move(spec), context);
    reply = protocol::reply_ok(id, std::move(answer));
  } catch (const OpFailed& e) {
    reply = protocol::reply_error(id, e.error);
  }
  loop.emit(reply);
}

std::shared_ptr<const policy::HumanPolicy> live_policy(const policy::HumanDesk& desk, const json& message, const std::string& type, RunId& run) {
  run = protocol::require_id(message, "run", type);
  auto policy = desk.policy_of(run);
  if (!policy) throw ProtocolError(type + ": no active prompt run with id " + std::to_string(run));
  return policy;
}

}  // namespace

bool handle_human_command(Loop& loop, policy::HumanDesk& desk, const std::string& type, const json& id, const json& message) {
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
    RunId run = 0;
    auto policy = live_policy(desk, message, type, run);
    const std::string name = require_field(message, "name", value_t::string, type).get<std::string>();
    const json context = message.contains("context") ? message["context"] : json();
    if (type == "approval.request") {
      auto it = policy->approvals.find(name);
      if (it == policy->approvals.end())
        throw ProtocolError(type + ": unknown approval \"" + name + "\" (defined approvals: " + policy::defined_names(policy->approvals) + ")");
      loop.spawn(decide(loop, desk, id, run, policy->host, it->second, context));
    } else {
      auto it = policy->interactions.find(name);
      if (it == policy->interactions.end())
        throw ProtocolError(type + ": unknown interaction \"" + name + "\" (defined interactions: " + policy::defined_names(policy->interactions) +
                            ")");
      loop.spawn(interact(loop, desk, id, run, policy->host, it->second, context));
    }
    return true;
  }
  return false;
}

}  // namespace lmthing

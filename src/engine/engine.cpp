#include "engine/engine.hpp"

#include "engine/human_commands.hpp"
#include "engine/run_kinds.hpp"
#include "schema/validator.hpp"

namespace lmthing {

using protocol::ProtocolError;
using protocol::WireError;

Engine::Engine(Host& host) : loop_(host) {
  loop_.set_command_handler([this](const json& message) { handle_command(message); });
}

void Engine::handle_command(const json& message) {
  const std::string type = message["type"].get<std::string>();
  auto id_it = message.find("id");
  if (id_it == message.end() || !(id_it->is_number() || id_it->is_string()))
    throw ProtocolError("command " + type + " needs an \"id\" (number or string) to reply to");
  const json& id = *id_it;
  try {
    if (type == "run.start")
      start_run(id, message);
    else if (type == "run.cancel")
      cancel_run(id, message);
    else if (type == "schema.validate")
      validate(id, message);
    else if (type == "circuit.admit" || type == "circuit.record" || type == "constraints.check")
      policy_command(type, id, message);
    else if (type.rfind("conversation.", 0) == 0)
      directives_.handle(id, type, message);
    else if (type == "engine.info")
      loop_.emit(protocol::reply_ok(id, json{{"protocol", protocol::kVersion},
                                             {"version", kEngineVersion},
                                             {"activeRuns", runs_.size()},
                                             {"pendingOps", loop_.pending_op_count()}}));
    else if (!handle_human_command(loop_, desk_, type, id, message))
      throw ProtocolError("unknown command type \"" + type +
                          "\" (expected one of run.start, run.cancel, conversation.*, schema.validate, engine.info, circuit.admit, "
                          "circuit.record, constraints.check, approval.request, approval.respond, interaction.request, "
                          "interaction.respond, op.done)");
  } catch (const ProtocolError& e) {
    loop_.emit(protocol::reply_error(id, WireError{"protocol", e.what(), json::object()}));
  }
}

void Engine::start_run(const json& command_id, const json& message) {
  const RunId run = protocol::require_id(message, "id", "run.start");
  if (runs_.count(run)) throw ProtocolError("run.start: a run with id " + std::to_string(run) + " is already active");
  const json& spec = message.contains("spec") ? message["spec"] : json();
  // Directive runs need the engine's table of conversations; every other kind is self-contained.
  const bool directive = spec.is_object() && spec.value("kind", json()) == "conversation";
  Task<json> body = directive ? directives_.open(loop_, run, spec) : prepare_run(loop_, run, spec, policies_, desk_);
  runs_.emplace(run, spec["kind"].get<std::string>());
  loop_.spawn(run_main(command_id, run, std::move(body)));
}

void Engine::validate(const json& command_id, const json& message) {
  if (!message.contains("schema")) throw ProtocolError("schema.validate: missing field \"schema\"");
  const json value = message.contains("value") ? message["value"] : json();
  schema::ValidationResult result;
  try {
    result = schema::validate(message["schema"], value);
  } catch (const schema::SchemaError& e) {
    throw ProtocolError(std::string("schema.validate: not a valid JSON Schema: ") + e.what());
  }
  loop_.emit(protocol::reply_ok(command_id, json{{"valid", result.valid}, {"errors", schema::issues_json(result)}}));
}

void Engine::cancel_run(const json& command_id, const json& message) {
  const RunId run = protocol::require_id(message, "run", "run.cancel");
  if (!runs_.count(run)) throw ProtocolError("run.cancel: no active run with id " + std::to_string(run));
  std::string reason = message.value("reason", std::string("the run was cancelled"));
  const std::size_t cancelled = loop_.cancel_run(run, reason);
  loop_.emit(protocol::reply_ok(command_id, json{{"cancelledOps", cancelled}}));
}

void Engine::policy_command(const std::string& type, const json& command_id, const json& message) {
  const RunId run = protocol::require_id(message, "run", type);
  auto policies = policies_.find(run);
  if (!policies) throw ProtocolError(type + ": no active prompt run with id " + std::to_string(run));
  const double now = loop_.now_ms();
  if (type == "constraints.check") {
    if (auto violation = policies->ledger().exceeded(now))
      loop_.emit(protocol::reply_error(command_id, violation->error()));
    else
      loop_.emit(protocol::reply_ok(command_id, policies->ledger().totals(now)));
    return;
  }
  const std::string name = protocol::require_field(message, "name", json::value_t::string, type).get<std::string>();
  policy::CircuitBreaker* breaker = nullptr;
  try {
    breaker = &policies->breaker(name);
  } catch (const std::invalid_argument& e) {
    throw ProtocolError(type + ": " + e.what());
  }
  if (type == "circuit.admit") {
    auto admission = breaker->admit(now);
    if (admission)
      loop_.emit(protocol::reply_ok(command_id, json{{"state", policy::to_string(breaker->state(now))}}));
    else
      loop_.emit(protocol::reply_error(command_id, policy::circuit_open_error(name, admission.retry_in_ms)));
    return;
  }
  const std::string outcome = protocol::require_field(message, "outcome", json::value_t::string, type).get<std::string>();
  if (outcome == "success")
    breaker->record_success(now);
  else if (outcome == "failure")
    breaker->record_failure(now);
  else if (outcome == "cancelled")
    breaker->record_cancelled(now);
  else
    throw ProtocolError(type + ": \"outcome\" must be success, failure or cancelled, got \"" + outcome + "\"");
  loop_.emit(protocol::reply_ok(command_id, json{{"state", policy::to_string(breaker->state(now))}}));
}

Task<void> Engine::run_main(json command_id, RunId run, Task<json> body) {
  json reply;
  try {
    json value = co_await std::move(body);
    reply = protocol::reply_ok(command_id, std::move(value));
  } catch (const OpFailed& e) {
    reply = protocol::reply_error(command_id, e.error);
  } catch (const ProtocolError& e) {
    reply = protocol::reply_error(command_id, WireError{"protocol", e.what(), json::object()});
  } catch (const std::exception& e) {
    reply = protocol::reply_error(command_id, WireError{"engine", e.what(), json{{"code", "ENGINE_ERROR"}}});
  }
  runs_.erase(run);
  policies_.release(run);
  loop_.forget_run(run);
  loop_.emit(reply);
}

}  // namespace lmthing

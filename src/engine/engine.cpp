#include "engine/engine.hpp"

#include <algorithm>

#include "agent/prompt_run.hpp"
#include "engine/context_commands.hpp"
#include "engine/flow_commands.hpp"
#include "engine/human_commands.hpp"
#include "engine/observe_commands.hpp"
#include "engine/resource_commands.hpp"
#include "engine/role_commands.hpp"
#include "engine/run_kinds.hpp"
#include "engine/state_commands.hpp"
#include "engine/template_commands.hpp"
#include "flow/resource_scope.hpp"
#include "memory/memory_run.hpp"
#include "pipeline/registry.hpp"
#include "policy/circuit_breaker.hpp"
#include "protocol/events.hpp"
#include "runtime/reply.hpp"
#include "schema/validator.hpp"

namespace lmthing {

using protocol::ProtocolError;
using protocol::WireError;

namespace {

const std::vector<std::string> kRunKinds = {"prompt", "conversation", "memory", "call", "map", "sleep", "storage", "fault"};

}  // namespace

Engine::Engine(Host& host) : loop_(host) {
  loop_.set_command_handler([this](const json& message) { handle_command(message); });
  trees_.observe_with(observatory_);
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
      loop_.emit(protocol::reply_ok(id, info()));
    else if (is_flow_command(type))
      handle_flow_command(
          loop_, [this](RunId run, const std::string& where) { return env_of(run, where); }, type, id, message);
    else if (type.rfind("resource.", 0) == 0)
      handle_resource_command(
          loop_, [this](RunId run, const std::string& where) { return env_of(run, where); }, type, id, message);
    else if (type.rfind("state.", 0) == 0)
      handle_state_command(
          loop_, [this](RunId run, const std::string& where) { return env_of(run, where); }, type, id, message);
    else if (type == "context.summarize")
      handle_context_command(
          loop_, [this](RunId run, const std::string& where) { return env_of(run, where); }, type, id, message);
    else if (type == "template.render")
      handle_template_command(
          loop_, [this](RunId run, const std::string& where) { return env_of(run, where); }, type, id, message);
    else if (type == "role.assume")
      handle_role_command(
          loop_, [this](RunId run, const std::string& where) { return env_of(run, where); }, type, id, message);
    else if (const EnvOfRun env = [this](RunId run, const std::string& where) { return env_of(run, where); };
             !handle_observe_command(loop_, observatory_, env, type, id, message) && !handle_human_command(loop_, desk_, env, type, id, message))
      throw ProtocolError("unknown command type \"" + type +
                          "\" (expected one of run.start, run.cancel, conversation.*, schema.validate, engine.info, circuit.admit, "
                          "circuit.record, constraints.check, approval.request, approval.respond, interaction.request, "
                          "interaction.respond, state.view, state.change, state.save, state.update, template.render, role.assume, context.summarize, "
                          "workflow.run, workflow.tool, "
                          "workflow.emit, pipeline.run, parallel.run, batch.add, resource.get, resource.acquire, resource.release, metrics.read, "
                          "metric.record, event.emit, op.done)");
  } catch (const ProtocolError& e) {
    loop_.emit(protocol::reply_error(id, WireError{e.kind(), e.what(), json::object()}));
  } catch (const OpFailed& e) {
    loop_.emit(protocol::reply_error(id, e.error));
  }
}

json Engine::info() const {
  std::vector<std::string> kinds;
  for (const auto* kind : pipeline::definition_kinds()) kinds.push_back(kind->kind);
  return json{{"protocol", protocol::kVersion},
              {"version", kEngineVersion},
              {"activeRuns", runs_.size()},
              {"pendingOps", loop_.pending_op_count()},
              {"definitionKinds", kinds},
              {"toolOptions", pipeline::known_tool_options()},
              {"modelOptions", pipeline::known_model_options()},
              {"eventTypes", protocol::run_event_types()}};
}

namespace {

// A memory run's `path`: the branch path of the place that asked, e.g. ["root", "0"].
json place_path(const json& path) {
  const bool ok = path.is_array() && !path.empty() && std::all_of(path.begin(), path.end(), [](const json& p) { return p.is_string(); });
  if (!ok)
    throw ProtocolError("run.start spec (memory): \"path\" must be a non-empty array of strings (a branch path such as [\"root\", \"0\"]), got " +
                        path.dump());
  return path;
}

}  // namespace

void Engine::start_run(const json& command_id, const json& message) {
  const RunId run = protocol::require_id(message, "id", "run.start");
  if (runs_.count(run)) throw ProtocolError("run.start: a run with id " + std::to_string(run) + " is already active");
  const json& spec = message.contains("spec") ? message["spec"] : json();
  if (!spec.is_object()) throw ProtocolError("run.start: \"spec\" must be an object with a \"kind\" (one of " + protocol::joined(kRunKinds) + ")");
  protocol::FieldReader fields(spec, "run.start spec");
  const std::string kind = fields.string("kind");
  if (std::find(kRunKinds.begin(), kRunKinds.end(), kind) == kRunKinds.end()) {
    std::string hint;
    if (auto guess = protocol::nearest(kind, kRunKinds)) hint = "did you mean \"" + *guess + "\"? ";
    throw ProtocolError("run.start: unknown spec kind \"" + kind + "\" (" + hint + "expected one of " + protocol::joined(kRunKinds) + ")");
  }
  LiveRun live{kind, fields.optional_string("host", true).value_or(""), json::array({"root"})};
  Task<json> body;
  if (kind == "prompt" || kind == "conversation" || kind == "memory") {
    // Both carry definitions and join a run tree; a bad spec must leave nothing behind.
    try {
      auto tree = trees_.attach(loop_, run, spec);
      const std::shared_ptr<pipeline::RunTree> own_tree = tree;
      if (kind == "memory") {
        // Its events (memory-store, ...) belong to the run that asked.
        if (spec.contains("parentRun") && runs_.count(spec["parentRun"].get<RunId>())) live.path = runs_.at(spec["parentRun"].get<RunId>()).path;
        // Or to the place in it that asked (a directive branch): `path`.
        if (spec.contains("path")) live.path = place_path(spec["path"]);
        tree->scope().path = live.path;
        body = memory::prepare_memory_run(loop_, run, spec, std::move(tree), desk_);
      } else if (kind == "prompt") {
        agent::PromptSpec parsed = agent::parse_prompt_spec(spec);
        live.path = parsed.path;
        body = agent::prepare_prompt_run(loop_, run, std::move(parsed), std::move(tree), desk_);
      } else {
        body = directives_.open(loop_, run, spec, std::move(tree), desk_);
      }
      // The resources and pools the run defines end with it, before its reply.
      body = flow::with_resources(pipeline::CallEnv{loop_, run, own_tree, desk_, live.host, live.path, nullptr}, std::move(body));
    } catch (...) {
      trees_.release(run);
      loop_.forget_run(run);
      throw;
    }
  } else {
    body = prepare_simple_run(loop_, run, kind, spec);
  }
  runs_.emplace(run, std::move(live));
  // A sub-agent started by a tool call: cancelling that call's op cancels the run (Loop::link_run).
  if (spec.contains("parentOp")) loop_.link_run(protocol::require_id(spec, "parentOp", "run.start spec"), run);
  // A memory run a tool or directive asked for: cancelling the run that asked cancels it too.
  if (kind == "memory" && spec.contains("parentRun") && runs_.count(spec["parentRun"].get<RunId>()))
    loop_.link_child_run(spec["parentRun"].get<RunId>(), run);
  loop_.spawn(reply_when_done(loop_, command_id, std::move(body), [this, run] { finish_run(run); }));
}

void Engine::finish_run(RunId run) {
  runs_.erase(run);
  trees_.release(run);
  loop_.forget_run(run);
}

pipeline::CallEnv Engine::env_of(RunId run, const std::string& where) {
  auto live = runs_.find(run);
  auto tree = trees_.find(run);
  if (live == runs_.end() || !tree) throw ProtocolError(where + ": no active prompt or directive run with id " + std::to_string(run));
  return pipeline::CallEnv{loop_, run, tree, desk_, live->second.host, live->second.path, nullptr};
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
  auto tree = trees_.find(run);
  if (!tree) throw ProtocolError(type + ": no active prompt or directive run with id " + std::to_string(run));
  const double now = loop_.now_ms();
  if (type == "constraints.check") {
    if (auto violation = tree->ledger().exceeded(now))
      loop_.emit(protocol::reply_error(command_id, violation->error()));
    else
      loop_.emit(protocol::reply_ok(command_id, tree->ledger().totals(now)));
    return;
  }
  const std::string name = protocol::require_field(message, "name", json::value_t::string, type).get<std::string>();
  policy::CircuitBreaker* breaker = nullptr;
  try {
    breaker = &tree->definitions().get<policy::CircuitBreaker>("circuitBreaker", name);
  } catch (const ProtocolError& e) {
    throw e.prefixed(type + ": ");
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

}  // namespace lmthing

#include "engine/state_commands.hpp"

#include "pipeline/run_tree.hpp"
#include "runtime/reply.hpp"
#include "state/json_changes.hpp"
#include "state/state_store.hpp"

namespace lmthing {

using protocol::ProtocolError;
using protocol::require_field;
using value_t = json::value_t;

namespace {

// Each owns its environment until the work is done.
Task<json> view(pipeline::CallEnv env) {
  json states = co_await state::load_visible(env);
  co_return json{{"tree", env.tree->root()}, {"states", std::move(states)}};
}

Task<json> save_reply(pipeline::CallEnv env, std::shared_ptr<state::StateInstance> instance) {
  co_await state::save(env, instance);
  co_return json{{"saved", true}};
}

Task<json> update_reply(pipeline::CallEnv env, std::shared_ptr<state::StateInstance> instance, std::string fn) {
  json value = co_await state::update(env, instance, std::move(fn));
  co_return json{{"value", std::move(value)}};
}

}  // namespace

bool handle_state_command(Loop& loop, const EnvOfRun& env_of, const std::string& type, const json& id, const json& message) {
  if (type.rfind("state.", 0) != 0) return false;
  protocol::FieldReader fields(message, type);
  const bool named = type != "state.view";
  if (type == "state.view")
    fields.only({"type", "id", "run"}, "field");
  else if (type == "state.change")
    fields.only({"type", "id", "run", "name", "changes"}, "field");
  else if (type == "state.save")
    fields.only({"type", "id", "run", "name"}, "field");
  else if (type == "state.update")
    fields.only({"type", "id", "run", "name", "fn"}, "field");
  else
    throw ProtocolError("unknown command type \"" + type + "\" (expected state.view, state.change, state.save or state.update)");
  const RunId run = protocol::require_id(message, "run", type);
  pipeline::CallEnv env = env_of(run, type);
  if (!named) {
    loop.spawn(reply_when_done(loop, id, view(std::move(env))));
    return true;
  }
  const std::string name = fields.string("name");
  std::shared_ptr<state::StateInstance> instance;
  try {
    instance = state::store_of(*env.tree).instance(*env.tree, name);
  } catch (const ProtocolError& e) {
    throw e.prefixed(type + ": ");
  }
  if (type == "state.change") {
    const json& changes = require_field(message, "changes", value_t::array, type);
    state::check_changes(changes, type + " \"" + name + "\"");
    if (!instance->loaded) throw ProtocolError(type + ": state \"" + name + "\" is not loaded yet (ask state.view first)");
    state::change(*instance, changes);
    loop.emit(protocol::reply_ok(id, json::object()));
  } else if (type == "state.save") {
    loop.spawn(reply_when_done(loop, id, save_reply(std::move(env), std::move(instance))));
  } else {
    loop.spawn(reply_when_done(loop, id, update_reply(std::move(env), std::move(instance), fields.string("fn"))));
  }
  return true;
}

}  // namespace lmthing

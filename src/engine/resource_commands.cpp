#include "engine/resource_commands.hpp"

#include <algorithm>

#include "flow/resource.hpp"
#include "flow/resource_pool.hpp"
#include "pipeline/run_tree.hpp"
#include "protocol/fields.hpp"
#include "runtime/reply.hpp"

namespace lmthing {

using protocol::ProtocolError;

namespace {

// For a name defined as the other kind (a pool asked for with get, a resource with acquire): which
// method fits it, since the caller meant that definition.
std::string other_kind_hint(const pipeline::CallEnv& env, const char* kind, const std::string& name) {
  const bool pool = std::string_view(kind) == "resourcePool";
  const auto others = env.tree->definitions().names(pool ? "resource" : "resourcePool");
  if (std::find(others.begin(), others.end(), name) == others.end()) return "";
  return pool ? "; \"" + name + "\" is a resource (defResource): read it with resources.get"
              : "; \"" + name + "\" is a resource pool (defResourcePool): borrow a value with resources.acquire or resources.use";
}

template <class T>
std::shared_ptr<T> definition(const pipeline::CallEnv& env, const char* kind, const std::string& name, const std::string& type) {
  try {
    return env.tree->definitions().get<T>(kind, name).shared_from_this();
  } catch (const ProtocolError& e) {
    const std::string hint = other_kind_hint(env, kind, name);
    if (hint.empty()) throw e.prefixed(type + ": ");
    throw protocol::config_error(type + ": " + e.what() + hint);
  }
}

// Each keeps its environment and definition alive until the work is done.
Task<json> get(pipeline::CallEnv env, std::shared_ptr<flow::Resource> resource) { co_return co_await resource->get(env); }
Task<json> acquire(pipeline::CallEnv env, std::shared_ptr<flow::Pool> pool) { co_return co_await pool->acquire(env); }

}  // namespace

bool handle_resource_command(Loop& loop, const EnvOfRun& env_of, const std::string& type, const json& id, const json& message) {
  if (type.rfind("resource.", 0) != 0) return false;
  protocol::FieldReader fields(message, type);
  if (type == "resource.get" || type == "resource.acquire")
    fields.only({"type", "id", "run", "scope", "name"}, "field");
  else if (type == "resource.release")
    fields.only({"type", "id", "run", "name", "handle"}, "field");
  else
    throw ProtocolError("unknown command type \"" + type + "\" (expected resource.get, resource.acquire or resource.release)");
  const RunId run = protocol::require_id(message, "run", type);
  const std::string name = fields.string("name");
  pipeline::CallEnv env = env_of(run, type);
  // `scope`: the callback op that asks (a tool's, a workflow step's). Cancelling it (its timeout, a
  // lost race) cancels the wait too, so a value released later is not handed to a caller that left.
  if (message.contains("scope")) env.scope = protocol::require_id(message, "scope", type);
  if (type == "resource.get") {
    loop.spawn(reply_when_done(loop, id, get(env, definition<flow::Resource>(env, "resource", name, type))), env.scope);
  } else if (type == "resource.acquire") {
    loop.spawn(reply_when_done(loop, id, acquire(env, definition<flow::Pool>(env, "resourcePool", name, type))), env.scope);
  } else {
    if (!message.contains("handle")) throw ProtocolError(type + ": missing field \"handle\" (what resource.acquire answered)");
    definition<flow::Pool>(env, "resourcePool", name, type)->release(message["handle"]);
    loop.emit(protocol::reply_ok(id, json::object()));
  }
  return true;
}

}  // namespace lmthing

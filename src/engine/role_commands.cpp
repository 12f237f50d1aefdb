#include "engine/role_commands.hpp"

#include "pipeline/run_tree.hpp"
#include "prompt/role.hpp"

namespace lmthing {

bool handle_role_command(Loop& loop, const EnvOfRun& env_of, const std::string& type, const json& id, const json& message) {
  if (type != "role.assume") return false;
  protocol::FieldReader fields(message, type);
  fields.only({"type", "id", "run", "name"}, "field");
  const std::string name = fields.string("name");
  const pipeline::CallEnv env = env_of(protocol::require_id(message, "run", type), type);
  json event = prompt::assume_role(*env.tree, env.run, name);
  env.emit(std::move(event));
  loop.emit(protocol::reply_ok(id, json{{"role", name}}));
  return true;
}

}  // namespace lmthing

#include "engine/context_commands.hpp"

#include "memory/context_requests.hpp"
#include "pipeline/run_tree.hpp"

namespace lmthing {

bool handle_context_command(Loop& loop, const EnvOfRun& env_of, const std::string& type, const json& id, const json& message) {
  if (type != "context.summarize") return false;
  protocol::FieldReader fields(message, type);
  fields.only({"type", "id", "run"}, "field");
  const pipeline::CallEnv env = env_of(protocol::require_id(message, "run", type), type);
  const std::vector<std::string> contexts = env.tree->definitions().names("context");
  if (contexts.empty()) throw protocol::ProtocolError(type + ": the run defines no context to summarize (defContext)");
  ++env.tree->tree_services().get<memory::ContextRequests>().summarize;
  loop.emit(protocol::reply_ok(id, json{{"contexts", contexts}}));
  return true;
}

}  // namespace lmthing

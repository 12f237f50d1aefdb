#include "engine/flow_commands.hpp"

#include "flow/run_tools.hpp"
#include "flow/workflow.hpp"
#include "pipeline/run_tree.hpp"
#include "protocol/fields.hpp"
#include "runtime/reply.hpp"

namespace lmthing {

using protocol::ProtocolError;

namespace {

// The environment of live run `run`, with its tools.
pipeline::CallEnv env_in(const EnvOfRun& env_of, RunId run, const std::string& where) {
  pipeline::CallEnv env = env_of(run, where);
  env.tools = flow::tools_of(*env.tree, run);
  return env;
}

// Each owns its environment until the work is done.
Task<json> run_workflow(pipeline::CallEnv env, std::string name, json input, std::optional<json> state) {
  flow::Workflow& workflow = env.tree->definitions().get<flow::Workflow>("workflow", name);
  co_return co_await flow::run_workflow(env, workflow, std::move(input), std::move(state));
}

Task<json> call_tool(pipeline::CallEnv env, const pipeline::ToolBox::Entry* entry, json args, std::string call_id) {
  pipeline::Call call;
  call.kind = pipeline::CallKind::Tool;
  call.env = &env;
  call.target = entry->spec.name;
  call.input = std::move(args);
  call.context = json{{"toolCallId", std::move(call_id)}, {"toolName", entry->spec.name}, {"stepNumber", nullptr}};
  co_return co_await entry->chain->call(std::move(call));
}

std::uint64_t next_tool_call = 1;

}  // namespace

bool handle_flow_command(Loop& loop, const EnvOfRun& env_of, const std::string& type, const json& id, const json& message) {
  if (type.rfind("workflow.", 0) != 0) return false;
  protocol::FieldReader fields(message, type);
  if (type == "workflow.run")
    fields.only({"type", "id", "run", "name", "input", "state"}, "field");
  else if (type == "workflow.tool")
    fields.only({"type", "id", "run", "name", "args"}, "field");
  else if (type == "workflow.emit")
    fields.only({"type", "id", "run", "workflow", "execution", "step", "data"}, "field");
  else
    throw ProtocolError("unknown command type \"" + type + "\" (expected workflow.run, workflow.tool or workflow.emit)");
  const RunId run = protocol::require_id(message, "run", type);
  pipeline::CallEnv env = env_in(env_of, run, type);
  if (type == "workflow.emit") {
    env.emit(json{{"type", "workflow-event"},
                  {"workflow", fields.string("workflow")},
                  {"execution", message.value("execution", json())},
                  {"step", fields.string("step")},
                  {"data", message.value("data", json())}});
    loop.emit(protocol::reply_ok(id, json::object()));
    return true;
  }
  const std::string name = fields.string("name");
  if (type == "workflow.run") {
    try {
      env.tree->definitions().get<flow::Workflow>("workflow", name);
    } catch (const ProtocolError& e) {
      throw ProtocolError(type + ": " + e.what());
    }
    std::optional<json> state;
    if (message.contains("state")) state = message["state"];
    loop.spawn(reply_when_done(loop, id, run_workflow(std::move(env), name, message.value("input", json()), std::move(state))));
    return true;
  }
  if (!env.tools)
    throw ProtocolError(type + ": run " + std::to_string(run) + " has no tools to call (workflow steps call the tools of a prompt run)");
  const pipeline::ToolBox::Entry* entry = env.tools->find(name);
  if (!entry) {
    std::string message_text = type + ": unknown tool or agent \"" + name + "\" (";
    const auto names = env.tools->names();
    if (auto guess = protocol::nearest(name, names)) message_text += "did you mean \"" + *guess + "\"? ";
    throw ProtocolError(message_text + "defined: " + (names.empty() ? std::string("none") : protocol::joined(names)) + ")");
  }
  json args = message.value("args", json::object());
  loop.spawn(reply_when_done(loop, id, call_tool(std::move(env), entry, std::move(args), "workflow-" + std::to_string(next_tool_call++))));
  return true;
}

}  // namespace lmthing

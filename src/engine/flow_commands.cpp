#include "engine/flow_commands.hpp"

#include "flow/batcher.hpp"
#include "flow/parallel.hpp"
#include "flow/pipeline.hpp"
#include "flow/run_tools.hpp"
#include "flow/workflow.hpp"
#include "pipeline/run_tree.hpp"
#include "protocol/fields.hpp"
#include "runtime/reply.hpp"

namespace lmthing {

using protocol::ProtocolError;

namespace {

// The environment of live run `run`, with its tools, in the cancellation scope the command names:
// `scope`, the id of the callback op whose callback sent it (a workflow step's, a parallel task's),
// so that what it starts is cancelled with that op (Loop::cancel_scope).
pipeline::CallEnv env_in(const EnvOfRun& env_of, RunId run, const std::string& where, const json& message) {
  pipeline::CallEnv env = env_of(run, where);
  if (const flow::RunTools::Entry* tools = flow::tools_of(*env.tree, run)) env.tools = tools->tools;
  if (message.contains("scope")) {
    env.scope = protocol::require_id(message, "scope", where);
    env.span = env.loop.span_of(env.scope);
  }
  return env;
}

// Spawns `body` (replying to `id`) in the scope of `env`.
void spawn_scoped(Loop& loop, const pipeline::CallEnv& env, const json& id, Task<json> body) {
  loop.spawn(reply_when_done(loop, id, std::move(body)), env.scope);
}

// Each owns its environment until the work is done.
Task<json> run_workflow(pipeline::CallEnv env, std::string name, json input, std::optional<json> state) {
  flow::Workflow& workflow = env.tree->definitions().get<flow::Workflow>("workflow", name);
  co_return co_await flow::run_workflow(env, workflow, std::move(input), std::move(state));
}

// A call from a workflow step, pipeline stage or parallel task (runTool / runAgent): the same
// tool-call and tool-result / tool-error events as a call the model makes (so onToolStart and
// onToolEnd see it), with no step number; a failure still goes to the caller. Its arguments are
// checked against the tool's parameters as the model's are (agent/tool_calls.cpp): the tool never
// sees arguments its schema refuses.
Task<json> call_tool(pipeline::CallEnv env, const pipeline::ToolBox::Entry* entry, json args, std::string call_id, json context) {
  json event{{"type", "tool-call"}, {"stepNumber", nullptr}, {"toolCallId", call_id}, {"toolName", entry->spec.name}, {"args", args}};
  env.emit(event);
  pipeline::Call call;
  call.kind = pipeline::CallKind::Tool;
  call.env = &env;
  call.target = entry->spec.name;
  call.input = std::move(args);
  context.update(json{{"toolCallId", std::move(call_id)}, {"toolName", entry->spec.name}, {"stepNumber", nullptr}});
  call.context = std::move(context);
  json value;
  try {
    const auto verdict = entry->spec.validator->validate(call.input);
    if (!verdict.valid)
      throw OpFailed(
          WireError{"validation", "invalid arguments for tool \"" + entry->spec.name + "\": " + schema::describe(verdict), json::object()});
    value = co_await entry->chain->call(std::move(call));
  } catch (const OpFailed& e) {
    if (e.error.kind != "aborted" && !env.cancelled()) {
      event["type"] = "tool-error";
      event["error"] = e.error.message;
      env.emit(std::move(event));
    }
    throw;
  }
  event["type"] = "tool-result";
  event["result"] = value;
  env.emit(std::move(event));
  co_return value;
}

// (`env` holds the tree, and so the definition, while the work runs.)
Task<json> run_pipeline(pipeline::CallEnv env, const flow::Pipeline* p, json input) {
  co_return co_await flow::run_pipeline(env, *p, std::move(input));
}

Task<json> run_parallel(pipeline::CallEnv env, const flow::Parallel* p, json input) {
  co_return co_await flow::run_parallel(env, *p, std::move(input));
}

Task<json> add_to_batch(pipeline::CallEnv env, std::shared_ptr<flow::Batcher> batcher, json item) {
  co_return co_await batcher->add(env, std::move(item));
}

std::uint64_t next_tool_call = 1;

// The definition `name` of `kind`, or a ProtocolError naming the command and the defined ones.
template <class T>
T& definition(const pipeline::CallEnv& env, const std::string& type, const char* kind, const std::string& name) {
  try {
    return env.tree->definitions().get<T>(kind, name);
  } catch (const ProtocolError& e) {
    throw e.prefixed(type + ": ");
  }
}

// pipeline.run, parallel.run and batch.add: each replies with the definition's result.
void handle_flow_run(Loop& loop, pipeline::CallEnv env, const std::string& type, const json& id, const json& message) {
  protocol::FieldReader fields(message, type);
  const bool batch = type == "batch.add";
  fields.only({"type", "id", "run", "scope", "name", batch ? "item" : "input"}, "field");
  const std::string name = fields.string("name");
  json value = message.value(batch ? "item" : "input", json());
  if (type == "pipeline.run")
    spawn_scoped(loop, env, id, run_pipeline(env, &definition<flow::Pipeline>(env, type, "pipeline", name), std::move(value)));
  else if (type == "parallel.run")
    spawn_scoped(loop, env, id, run_parallel(env, &definition<flow::Parallel>(env, type, "parallel", name), std::move(value)));
  else
    spawn_scoped(loop, env, id, add_to_batch(env, definition<flow::Batcher>(env, type, "batcher", name).shared_from_this(), std::move(value)));
}

}  // namespace

bool is_flow_command(const std::string& type) {
  return type.rfind("workflow.", 0) == 0 || type == "pipeline.run" || type == "parallel.run" || type == "batch.add";
}

bool handle_flow_command(Loop& loop, const EnvOfRun& env_of, const std::string& type, const json& id, const json& message) {
  if (!is_flow_command(type)) return false;
  if (type.rfind("workflow.", 0) != 0) {
    handle_flow_run(loop, env_in(env_of, protocol::require_id(message, "run", type), type, message), type, id, message);
    return true;
  }
  // `caller`: the API that sent the command (`runTool`), named in its errors instead of the command.
  const auto caller = message.find("caller");
  const std::string where = type == "workflow.tool" && caller != message.end() && caller->is_string() ? caller->get<std::string>() : type;
  protocol::FieldReader fields(message, where);
  if (type == "workflow.run")
    fields.only({"type", "id", "run", "scope", "name", "input", "state"}, "field");
  else if (type == "workflow.tool")
    fields.only({"type", "id", "run", "scope", "name", "args", "caller"}, "field");
  else if (type == "workflow.emit")
    fields.only({"type", "id", "run", "scope", "workflow", "execution", "step", "data"}, "field");
  else
    throw ProtocolError("unknown command type \"" + type + "\" (expected workflow.run, workflow.tool or workflow.emit)");
  const RunId run = protocol::require_id(message, "run", type);
  pipeline::CallEnv env = env_in(env_of, run, type, message);
  if (type == "workflow.emit") {
    // A step that was cancelled (its scope) emits nothing more.
    if (!env.cancelled())
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
      throw e.prefixed(type + ": ");
    }
    std::optional<json> state;
    if (message.contains("state")) state = message["state"];
    json input = message.value("input", json());
    spawn_scoped(loop, env, id, run_workflow(env, name, std::move(input), std::move(state)));
    return true;
  }
  const flow::RunTools::Entry* tools = flow::tools_of(*env.tree, run);
  if (!tools)
    throw ProtocolError(where + ": run " + std::to_string(run) +
                        " has no tools to call (the tools of a prompt run, or those enabled in a directive run's root conversation)");
  const pipeline::ToolBox::Entry* entry = env.tools->find(name);
  if (!entry) {
    std::string message_text = where + ": unknown tool or agent \"" + name + "\" (";
    const auto names = env.tools->names();
    if (auto guess = protocol::nearest(name, names)) message_text += "did you mean \"" + *guess + "\"? ";
    throw ProtocolError(message_text + "defined: " + (names.empty() ? std::string("none") : protocol::joined(names)) + ")");
  }
  json args = message.value("args", json::object());
  spawn_scoped(loop, env, id, call_tool(env, entry, std::move(args), "workflow-" + std::to_string(next_tool_call++), tools->context));
  return true;
}

}  // namespace lmthing

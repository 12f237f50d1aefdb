// repairToolCall as a step seam (the AI SDK's hook of that name): a tool call of the model's answer
// that failed its checks goes to the run's callback with the AI SDK's arguments, which answers the
// mended call {toolName, input} or null. The loop (agent_loop.cpp, `mend`) applies the mended call
// and checks it again. Prompt runs (the root's spec) and directive replies (the reply command) name
// the callback in `repairToolCall`.
#include "pipeline/host_callback.hpp"

namespace lmthing::agent {

namespace {

std::string describe_fix(const json& fix) {
  if (!fix.is_object()) return fix.type_name();
  std::string keys;
  for (const auto& [key, value] : fix.items()) keys += (keys.empty() ? "" : ", ") + key;
  return "an object with " + (keys.empty() ? std::string("no fields") : keys);
}

class RepairToolCallSeam : public pipeline::StepSeam {
 public:
  explicit RepairToolCallSeam(std::string callback) : callback_(std::move(callback)) {}

  Task<std::optional<json>> mend_call(const pipeline::WrongCall& call, const pipeline::CallEnv& env) override {
    json tools = json::object();
    for (const auto* tool : call.offered)
      tools[tool->spec.name] = json{{"description", tool->spec.description}, {"inputSchema", tool->spec.parameters}};
    json request{{"stepNumber", call.step},   {"toolCall", call.tool_call}, {"error", call.error},
                 {"tools", std::move(tools)}, {"system", call.system},      {"messages", call.messages}};
    json fix = co_await pipeline::call_host_callback(env, callback_, std::move(request), "repairToolCall");
    if (fix.is_null()) co_return std::nullopt;
    const bool shaped = fix.is_object() && fix.contains("toolName") && fix["toolName"].is_string() && fix.contains("input") &&
                        (fix["input"].is_string() || fix["input"].is_object());
    if (!shaped)
      throw OpFailed(protocol::WireError{
          "callback", "repairToolCall must return {toolName, input} (input: JSON text or an object) or null, got " + describe_fix(fix),
          json::object()});
    co_return fix;
  }

 private:
  std::string callback_;
};

std::unique_ptr<pipeline::StepSeam> make_repair_tool_call(const pipeline::StepSeamContext& context) {
  auto callback = context.spec.optional_string("repairToolCall");
  if (!callback || callback->empty()) return nullptr;
  return std::make_unique<RepairToolCallSeam>(*callback);
}

}  // namespace

}  // namespace lmthing::agent

namespace lmthing::pipeline::registered {
extern const StepSeamType repair_tool_call_seam{"repair_tool_call", agent::make_repair_tool_call};
}  // namespace lmthing::pipeline::registered

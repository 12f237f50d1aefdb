// The AI SDK 7's experimental_refineToolInput as a step seam: a valid call of one of the named
// tools goes to the run's callback ({stepNumber, toolCallId, toolName, input}), which answers the
// arguments to run it with. The loop (agent_loop.cpp, `refine`) checks them against the tool's
// schema again; the transcript, the tool-call event and the tool get the refined arguments.
#include <set>

#include "pipeline/host_callback.hpp"

namespace lmthing::agent {

namespace {

class RefineToolInputSeam : public pipeline::StepSeam {
 public:
  RefineToolInputSeam(std::string callback, std::set<std::string> tools) : callback_(std::move(callback)), tools_(std::move(tools)) {}

  bool refines(const std::string& tool) const override { return tools_.count(tool) != 0; }

  Task<std::optional<json>> refine_call(const pipeline::RightCall& call, const pipeline::CallEnv& env) override {
    json request{{"stepNumber", call.step}, {"toolCallId", call.tool_call_id}, {"toolName", call.tool_name}, {"input", call.args}};
    json refined = co_await pipeline::call_host_callback(env, callback_, std::move(request), "refineToolInput");
    if (!refined.is_object())
      throw OpFailed(protocol::WireError{
          "callback", "refineToolInput of tool \"" + call.tool_name + "\" must return the arguments object, got " + refined.type_name(),
          json::object()});
    co_return refined;
  }

 private:
  std::string callback_;
  std::set<std::string> tools_;
};

std::unique_ptr<pipeline::StepSeam> make_refine_tool_input(const pipeline::StepSeamContext& context) {
  auto callback = context.spec.optional_string("refineToolInput");
  if (!callback || callback->empty()) return nullptr;
  const auto names = context.spec.strings("refineTools");
  return std::make_unique<RefineToolInputSeam>(std::move(*callback), std::set<std::string>(names.begin(), names.end()));
}

}  // namespace

}  // namespace lmthing::agent

namespace lmthing::pipeline::registered {
extern const StepSeamType refine_tool_input_seam{"refine_tool_input", agent::make_refine_tool_input};
}  // namespace lmthing::pipeline::registered

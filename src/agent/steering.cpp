// The AI SDK 7's steering (experimental_steering) as a step seam: after each step the host's
// steering callback gives the user messages sent to the run meanwhile (after a final answer, a
// queued one too); they join the conversation and the loop goes on with them, also after a final
// answer, unless something ends the run first (a stop condition, a budget, the step limit, a
// deferred approval). The host tells the senders which step received their message.
#include "pipeline/host_callback.hpp"

namespace lmthing::agent {

namespace {

[[noreturn]] void bad_answer(const std::string& message) { throw OpFailed(protocol::WireError{"callback", "steering: " + message, json::object()}); }

class SteeringSeam : public pipeline::StepSeam {
 public:
  explicit SteeringSeam(std::string callback) : callback_(std::move(callback)) {}

  Task<pipeline::StepVerdict> after_step(pipeline::StepState& state, const pipeline::CallEnv& env) override {
    json messages = co_await pipeline::call_host_callback(env, callback_, json{{"stepNumber", state.step}, {"final", state.final}}, "steering");
    pipeline::StepVerdict verdict;
    if (messages.is_null()) co_return verdict;
    if (!messages.is_array()) bad_answer("expected an array of user messages, got " + std::string(messages.type_name()));
    for (const auto& message : messages)
      if (!message.is_object() || message.value("role", "") != "user" || !(message["content"].is_string() || message["content"].is_array()))
        bad_answer("expected user messages {role: \"user\", content}, got " + message.dump());
    if (!messages.empty()) verdict.steer = std::move(messages);
    co_return verdict;
  }

 private:
  std::string callback_;
};

std::unique_ptr<pipeline::StepSeam> make_steering(const pipeline::StepSeamContext& context) {
  auto callback = context.spec.optional_string("steering");
  if (!callback) return nullptr;
  return std::make_unique<SteeringSeam>(std::move(*callback));
}

}  // namespace

}  // namespace lmthing::agent

namespace lmthing::pipeline::registered {
extern const StepSeamType steering_seam{"steering", agent::make_steering};
}  // namespace lmthing::pipeline::registered

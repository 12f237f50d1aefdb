// stopWhen as a step seam: after every step that made tool calls, the run's stopWhen callback gets
// the step's record; a true (or any non-null) answer ends the loop.
#include "pipeline/registry.hpp"

namespace lmthing::agent {

namespace {

class StopWhenSeam : public pipeline::StepSeam {
 public:
  explicit StopWhenSeam(std::string callback) : callback_(std::move(callback)) {}

  Task<pipeline::StepVerdict> after_step(pipeline::StepState& state, const pipeline::CallEnv& env) override {
    pipeline::StepVerdict verdict;
    if (state.final) co_return verdict;
    json payload{{"fn", callback_}, {"args", json::array({state.record})}};
    json answer;
    try {
      answer = co_await env.loop.op(env.run, "callback.invoke", std::move(payload), 0, "stopWhen");
    } catch (const OpFailed& e) {
      if (e.error.kind != "callback") throw;
      throw OpFailed(protocol::WireError{"callback", "stopWhen failed: " + e.error.message, e.error.extra});
    }
    verdict.stop = answer.is_boolean() ? answer.get<bool>() : !answer.is_null();
    co_return verdict;
  }

 private:
  std::string callback_;
};

std::unique_ptr<pipeline::StepSeam> make_stop_when(const pipeline::StepSeamContext& context) {
  auto callback = context.spec.optional_string("stopWhen");
  if (!callback) return nullptr;
  return std::make_unique<StopWhenSeam>(*callback);
}

}  // namespace

}  // namespace lmthing::agent

namespace lmthing::pipeline::registered {
extern const StepSeamType stop_when_seam{"stop_when", agent::make_stop_when};
}  // namespace lmthing::pipeline::registered

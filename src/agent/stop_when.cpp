// stopWhen as a step seam: after every step that made tool calls, the run's stopWhen callback gets
// the step's record; a true (or any non-null) answer ends the loop.
#include "agent/step_callback.hpp"

namespace lmthing::agent {

namespace {

class StopWhenSeam : public pipeline::StepSeam {
 public:
  explicit StopWhenSeam(std::string callback) : callback_(std::move(callback)) {}

  Task<pipeline::StepVerdict> after_step(pipeline::StepState& state, const pipeline::CallEnv& env) override {
    pipeline::StepVerdict verdict;
    if (state.final) co_return verdict;
    const json answer = co_await call_step_callback(env, callback_, state.record, "stopWhen");
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

// onStepFinish as a step seam: after every step of a prompt run (its last one too), the run's
// onStepFinish callback gets the step's record, and the next step waits until it has returned, as
// the AI SDK's does. It runs before the response checks, so a step they refuse is reported too.
#include "pipeline/host_callback.hpp"

namespace lmthing::agent {

namespace {

class StepFinishSeam : public pipeline::StepSeam {
 public:
  explicit StepFinishSeam(std::string callback) : callback_(std::move(callback)) {}

  Task<pipeline::StepVerdict> after_step(pipeline::StepState& state, const pipeline::CallEnv& env) override {
    co_await pipeline::call_host_callback(env, callback_, state.record, "onStepFinish");
    co_return pipeline::StepVerdict{};
  }

 private:
  std::string callback_;
};

std::unique_ptr<pipeline::StepSeam> make_step_finish(const pipeline::StepSeamContext& context) {
  auto callback = context.spec.optional_string("onStepFinish");
  if (!callback) return nullptr;
  return std::make_unique<StepFinishSeam>(*callback);
}

}  // namespace

}  // namespace lmthing::agent

namespace lmthing::pipeline::registered {
extern const StepSeamType step_finish_seam{"step_finish", agent::make_step_finish};
}  // namespace lmthing::pipeline::registered

// stopWhen as a step seam: after every step that made tool calls, the run's stopWhen callback gets
// the step's record; a true (or any non-null) answer ends the loop. A directive reply's callback also
// gets the reply's earlier steps (`steps`): the host cannot count them from events, which a run may
// mute and a durable replay answers from the journal.
#include "pipeline/host_callback.hpp"

namespace lmthing::agent {

namespace {

class StopWhenSeam : public pipeline::StepSeam {
 public:
  StopWhenSeam(std::string callback, bool with_steps) : callback_(std::move(callback)), with_steps_(with_steps) {}

  Task<pipeline::StepVerdict> after_step(pipeline::StepState& state, const pipeline::CallEnv& env) override {
    pipeline::StepVerdict verdict;
    if (state.final) co_return verdict;
    json argument = state.record;
    if (with_steps_) argument["steps"] = state.steps;
    const json answer = co_await pipeline::call_host_callback(env, callback_, std::move(argument), "stopWhen");
    verdict.stop = answer.is_boolean() ? answer.get<bool>() : !answer.is_null();
    co_return verdict;
  }

 private:
  std::string callback_;
  bool with_steps_;
};

std::unique_ptr<pipeline::StepSeam> make_stop_when(const pipeline::StepSeamContext& context) {
  auto callback = context.spec.optional_string("stopWhen");
  if (!callback) return nullptr;
  return std::make_unique<StopWhenSeam>(*callback, context.directive);
}

}  // namespace

}  // namespace lmthing::agent

namespace lmthing::pipeline::registered {
extern const StepSeamType stop_when_seam{"stop_when", agent::make_stop_when};
}  // namespace lmthing::pipeline::registered

// The AI SDK 7's onStart, onStepStart and onStepError as a step seam. onStart: once per loop (a
// prompt run, a directive reply), before its first step's hooks, with the run's own settings.
// onStepStart: before every step's model call, with the request as the seams before it left it.
// onStepError: when that call failed (not when the run was cancelled), with the step's start and
// the error, before the run fails with it. Each is a host callback the loop waits for.
#include "pipeline/host_callback.hpp"

namespace lmthing::agent {

namespace {

// The settings of a model.generate payload a callback reports: the offered tools by name.
json settings_of(const json& request, const json& messages) {
  json view{{"system", request.value("system", json())}, {"messages", messages}, {"activeTools", json::array()}};
  for (const auto& tool : request.value("tools", json::array())) view["activeTools"].push_back(tool.value("name", ""));
  for (const char* key : {"model", "params", "toolChoice", "providerOptions"})
    if (request.contains(key)) view[key] = request[key];
  return view;
}

class StepStartSeam : public pipeline::StepSeam {
 public:
  StepStartSeam(std::optional<std::string> on_start, std::optional<std::string> on_step_start, std::optional<std::string> on_step_error,
                bool with_steps)
      : on_start_(std::move(on_start)), on_step_start_(std::move(on_step_start)), on_step_error_(std::move(on_step_error)), with_steps_(with_steps) {}

  Task<void> before_step(pipeline::StepState& state, const pipeline::CallEnv& env) override {
    if (!on_start_ || state.step != 0 || !state.preview) co_return;
    co_await pipeline::call_host_callback(env, *on_start_, settings_of(state.preview(pipeline::StepOverrides{}), state.messages), "onStart");
  }

  Task<void> step_started(const pipeline::StepStart& start, const pipeline::CallEnv& env) override {
    json view = settings_of(start.request, start.messages);
    view["model"] = start.model;
    view["stepNumber"] = start.step;
    if (with_steps_) view["steps"] = start.steps;
    if (on_step_error_) started_ = view;  // kept only for onStepError (a copy of the conversation)
    if (on_step_start_) co_await pipeline::call_host_callback(env, *on_step_start_, std::move(view), "onStepStart");
  }

  Task<void> step_failed(int step, const protocol::WireError& error, const pipeline::CallEnv& env) override {
    if (!on_step_error_ || !started_.is_object() || started_.value("stepNumber", -1) != step) co_return;
    json argument = std::move(started_);
    argument["error"] = error.to_json();
    try {
      co_await pipeline::call_host_callback(env, *on_step_error_, std::move(argument), "onStepError");
    } catch (const OpFailed&) {
      // the step's own error is what the run fails with
    }
  }

 private:
  std::optional<std::string> on_start_, on_step_start_, on_step_error_;
  bool with_steps_;
  json started_;  // the current step's start, as its onStepError reports it
};

std::unique_ptr<pipeline::StepSeam> make_step_start(const pipeline::StepSeamContext& context) {
  auto on_start = context.spec.optional_string("onStart");
  auto on_step_start = context.spec.optional_string("onStepStart");
  auto on_step_error = context.spec.optional_string("onStepError");
  if (!on_start && !on_step_start && !on_step_error) return nullptr;
  // A directive reply's host cannot count the reply's earlier steps from events (see stop_when.cpp).
  return std::make_unique<StepStartSeam>(std::move(on_start), std::move(on_step_start), std::move(on_step_error), context.directive);
}

}  // namespace

}  // namespace lmthing::agent

namespace lmthing::pipeline::registered {
extern const StepSeamType step_start_seam{"step_start", agent::make_step_start};
}  // namespace lmthing::pipeline::registered

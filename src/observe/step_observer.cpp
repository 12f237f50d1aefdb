// The observing step seam (runs first, so its after_step always runs): counts steps in the metrics
// and, when the tree is traced, opens a span per step under the run (or branch) and closes it
// with the step's finish reason and usage.
#include "observe/tree_observer.hpp"
#include "pipeline/registry.hpp"

namespace lmthing::observe {

namespace {

class StepObserver : public pipeline::StepSeam {
 public:
  Task<void> before_step(pipeline::StepState& state, const pipeline::CallEnv& env) override {
    if (Tracer* tracer = env.tree->observer().tracer()) {
      const std::string key = Tracer::step_key(env.run, env.path);
      if (SpanId stale = tracer->recall(key)) tracer->end(stale, "", json::object(), env.loop.now_ms());  // a step another seam cut short
      const SpanId span = tracer->start(env.run, env.path, tracer->recall(Tracer::scope_key(env.run, env.path)), "step " + std::to_string(state.step),
                                        "step", json{{"lmthing.step.number", state.step}}, env.loop.now_ms());
      tracer->remember(key, span);
    }
    co_return;
  }

  Task<pipeline::StepVerdict> after_step(pipeline::StepState& state, const pipeline::CallEnv& env) override {
    TreeObserver& observer = env.tree->observer();
    const std::string model = state.record.value("model", std::string());
    observer.record(*observer.builtins().steps, {model}, 1, env.run, env.path);
    if (Tracer* tracer = observer.tracer()) {
      const std::string key = Tracer::step_key(env.run, env.path);
      const SpanId span = tracer->recall(key);
      const json usage = state.record.value("usage", json::object());
      tracer->forget(key, span);
      tracer->end(span, "",
                  json{{"lmthing.step.finish_reason", state.record.value("finishReason", "other")},
                       {"lmthing.step.tool_calls", state.record.value("toolCalls", json::array()).size()},
                       {"gen_ai.usage.input_tokens", usage.value("inputTokens", 0.0)},
                       {"gen_ai.usage.output_tokens", usage.value("outputTokens", 0.0)}},
                  env.loop.now_ms());
    }
    co_return pipeline::StepVerdict{};
  }
};

std::unique_ptr<pipeline::StepSeam> make_step_observer(const pipeline::StepSeamContext&) { return std::make_unique<StepObserver>(); }

}  // namespace

}  // namespace lmthing::observe

namespace lmthing::pipeline::registered {
extern const StepSeamType observe_seam{"observe", observe::make_step_observer};
}

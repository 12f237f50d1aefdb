#include "flow/pipeline.hpp"

#include "flow/flow_error.hpp"
#include "pipeline/registry.hpp"

namespace lmthing::flow {

using protocol::FieldReader;
using protocol::WireError;

namespace {

void define_pipeline(pipeline::RunTree& tree, const std::string& name, const FieldReader& config) {
  auto p = std::make_shared<Pipeline>();
  p->name = name;
  const json& stages = config.array_field("stages");
  if (stages.empty()) config.fail("\"stages\" must list at least one stage");
  for (std::size_t i = 0; i < stages.size(); ++i) {
    FieldReader s(stages[i], config.where() + ": stages[" + std::to_string(i) + "]");
    s.only({"stage", "fn", "retries", "retry", "timeout"}, "field");
    PipelineStage stage;
    stage.name = s.string("stage");
    for (const auto& other : p->stages)
      if (other.name == stage.name) s.fail("stage \"" + stage.name + "\" is defined twice");
    stage.fn = s.string("fn");
    stage.call = read_call_policy(s);
    p->stages.push_back(std::move(stage));
  }
  tree.definitions().add("pipeline", name, std::move(p));
}

void link_pipelines(pipeline::RunTree& tree) {
  for (auto& [name, p] : tree.definitions().all<Pipeline>("pipeline")) {
    if (!tree.definitions().own("pipeline", name)) continue;
    for (auto& stage : p->stages) resolve_call_policy(stage.call, tree, "pipeline \"" + name + "\": stage \"" + stage.name + "\"");
  }
}

}  // namespace

Task<json> run_pipeline(const pipeline::CallEnv& env, const Pipeline& p, json input) {
  json value = std::move(input);
  for (std::size_t i = 0; i < p.stages.size(); ++i) {
    const PipelineStage& stage = p.stages[i];
    env.emit(json{{"type", "pipeline-stage-start"}, {"pipeline", p.name}, {"stage", stage.name}, {"index", i}});
    std::optional<WireError> failure;
    try {
      const UserCall call{p.name + "." + stage.name, "pipeline \"" + p.name + "\" stage \"" + stage.name + "\"", stage.fn, &stage.call};
      value = co_await call_user(env, call, [&](int) {
        return json::array({value, json{{"pipeline", p.name}, {"stage", stage.name}, {"index", i}}});
      });
    } catch (const OpFailed& e) {
      failure = e.error;
    }
    if (failure) {
      env.emit(json{{"type", "pipeline-stage-finish"}, {"pipeline", p.name}, {"stage", stage.name}, {"index", i}, {"status", "error"}, {"error", failure->message}});
      if (const WireError* cancelled = env.loop.cancellation(env.run)) throw OpFailed(*cancelled);
      throw OpFailed(flow_error("pipeline", "PIPELINE_STAGE_FAILED", "pipeline \"" + p.name + "\": stage \"" + stage.name + "\" failed: " + failure->message,
                                json{{"pipeline", p.name}, {"stage", stage.name}, {"cause", cause_of(*failure)}}));
    }
    env.emit(json{{"type", "pipeline-stage-finish"}, {"pipeline", p.name}, {"stage", stage.name}, {"index", i}, {"status", "success"}});
  }
  co_return value;
}

}  // namespace lmthing::flow

namespace lmthing::pipeline::registered {
extern const DefinitionKind pipeline_kind{"pipeline", "pipeline", {"stages"}, flow::define_pipeline, flow::link_pipelines};
}  // namespace lmthing::pipeline::registered

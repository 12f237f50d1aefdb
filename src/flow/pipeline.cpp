#include "flow/pipeline.hpp"

#include "flow/flow_error.hpp"
#include "pipeline/registry.hpp"

namespace lmthing::flow {

using protocol::FieldReader;
using protocol::WireError;

namespace {

using protocol::in_quotes;

void define_pipeline(pipeline::RunTree& tree, const std::string& name, const FieldReader& config) {
  auto p = std::make_shared<Pipeline>();
  p->name = name;
  const json& stages = config.array_field("stages");
  if (stages.empty()) config.fail("\"stages\" must list at least one stage");
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const FieldReader s(stages[i], config.where() + ": stages[" + std::to_string(i) + "]");
    s.only({"stage", "fn", "retries", "retry", "timeout"}, "field");
    PipelineStage stage;
    stage.name = s.string("stage");
    for (std::size_t j = 0; j < p->stages.size(); ++j)
      if (p->stages[j].name == stage.name) s.fail("stage " + in_quotes(stage.name) + " is already used by stages[" + std::to_string(j) + "]");
    stage.fn = s.string("fn");
    stage.call = read_call_policy(s);
    p->stages.push_back(std::move(stage));
  }
  tree.definitions().add("pipeline", name, std::move(p));
}

void link_pipelines(pipeline::RunTree& tree) {
  for (auto& [name, p] : tree.definitions().all<Pipeline>("pipeline")) {
    if (!tree.definitions().own("pipeline", name)) continue;
    for (auto& stage : p->stages) resolve_call_policy(stage.call, tree, "pipeline " + in_quotes(name) + ": stage " + in_quotes(stage.name));
  }
}

}  // namespace

Task<json> run_pipeline(const pipeline::CallEnv& env, const Pipeline& p, json input) {
  json value = std::move(input);
  for (std::size_t i = 0; i < p.stages.size(); ++i) {
    const PipelineStage& stage = p.stages[i];
    const json where{{"pipeline", p.name}, {"stage", stage.name}, {"index", i}};
    json started = where;
    started["type"] = "pipeline-stage-start";
    env.emit(std::move(started));
    std::optional<WireError> failure;
    try {
      const UserCall call{p.name + "." + stage.name, "pipeline " + in_quotes(p.name) + " stage " + in_quotes(stage.name), stage.fn, &stage.call};
      value = co_await call_user(env, call, [&](int) { return json::array({value, where}); });
    } catch (const OpFailed& e) {
      failure = e.error;
    }
    json finished = where;
    finished["type"] = "pipeline-stage-finish";
    finished["status"] = failure ? "error" : "success";
    if (failure) finished["error"] = failure->message;
    env.emit(std::move(finished));
    if (!failure) continue;
    if (env.cancelled()) throw OpFailed(*failure);  // the run was cancelled: not the stage's fault
    throw OpFailed(flow_error("pipeline", "PIPELINE_STAGE_FAILED",
                              "pipeline " + in_quotes(p.name) + ": stage " + in_quotes(stage.name) + " failed: " + failure->message,
                              json{{"pipeline", p.name}, {"stage", stage.name}, {"index", i}, {"cause", cause_of(*failure)}}));
  }
  co_return value;
}

}  // namespace lmthing::flow

namespace lmthing::pipeline::registered {
extern const DefinitionKind pipeline_kind{"pipeline", "pipeline", {"stages"}, flow::define_pipeline, flow::link_pipelines};
}  // namespace lmthing::pipeline::registered

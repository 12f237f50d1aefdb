// Pipelines (defPipeline): stages in a line, each a host callback that gets the previous stage's
// output (the first gets the input) and the stage's context {pipeline, stage, index, attempt};
// per-stage retries (through the retry interceptor) and timeouts as for workflow steps. A failing
// stage fails the pipeline with kind `pipeline` (code PIPELINE_STAGE_FAILED) naming the stage, its
// error as `cause`. Events: pipeline-stage-start / pipeline-stage-finish.
#pragma once

#include <string>
#include <vector>

#include "flow/user_call.hpp"

namespace lmthing::flow {

struct PipelineStage {
  std::string name;
  std::string fn;  // callback
  CallPolicy call;
};

struct Pipeline {
  std::string name;
  std::vector<PipelineStage> stages;
};

// Resolves with the last stage's output.
Task<json> run_pipeline(const pipeline::CallEnv& env, const Pipeline& p, json input);

}  // namespace lmthing::flow

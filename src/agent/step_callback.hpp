// The user's callbacks that the agent loop's step seams call (defHook, prepareStep, stopWhen,
// onStepFinish): one op each, and a callback that fails fails the run, its message prefixed with
// which callback it was ("hook #2 failed: ...").
#pragma once

#include "pipeline/registry.hpp"

namespace lmthing::agent {

Task<json> call_step_callback(const pipeline::CallEnv& env, const std::string& callback, json argument, const std::string& who);

}  // namespace lmthing::agent

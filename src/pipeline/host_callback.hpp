// The user's callbacks the engine's policies and step seams call on the host (defHook, prepareStep,
// stopWhen, onStepFinish, the response schema's and an interaction's zod check): one
// `callback.invoke` op each. A callback that fails fails the call with its message prefixed by
// which callback it was ("hook #2 failed: ...").
#pragma once

#include "pipeline/registry.hpp"

namespace lmthing::pipeline {

Task<json> call_host_callback(const CallEnv& env, const std::string& callback, json argument, const std::string& who);

// A host check of a value the engine's JSON Schema has accepted: for a schema written with zod, the
// host runs zod's own parse (refinements, transforms) and refuses what it refuses. The callback
// answers null (accepted) or {errors: [{instancePath, message}, ...]}. Resolves to the refusals, as
// the validator's issues ({instancePath, schemaPath: "", message}); empty when the value is accepted.
Task<json> host_check(const CallEnv& env, const std::string& callback, json value, const std::string& who);

// The validator's wording of refusals: "/a: message; (root): message".
std::string describe_refusals(const json& errors);

}  // namespace lmthing::pipeline

// A host check of a value the engine's JSON Schema has accepted: for a schema written with zod, the
// host runs zod's own parse (refinements, transforms) and refuses what it refuses. The callback
// answers null (accepted) or {errors: [{instancePath, message}, ...]}.
#pragma once

#include "pipeline/registry.hpp"

namespace lmthing::pipeline {

// Resolves to the refusals, as the validator's issues ({instancePath, schemaPath: "", message});
// empty when the value is accepted. A callback that fails or answers something else fails with a
// `callback` error that starts with `who`.
Task<json> host_check(const CallEnv& env, const std::string& callback, json value, const std::string& who);

// The validator's wording of refusals: "/a: message; (root): message".
std::string describe_refusals(const json& errors);

}  // namespace lmthing::pipeline

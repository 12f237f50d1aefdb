// The registrations of the extension seam (DESIGN.md §12): the definition kinds a run spec may carry,
// the interceptor types of the call pipeline in their order, and the step seams of the agent loop.
// The lists themselves are in registry.def, one line per entry.
#pragma once

#include <string>
#include <vector>

#include "pipeline/call.hpp"
#include "pipeline/run_tree.hpp"
#include "pipeline/step.hpp"

namespace lmthing::pipeline {

// A kind of definition (`retry`, `approval` ...): parsed from spec.definitions[i] = {kind, name, config}.
struct DefinitionKind {
  const char* kind;                 // on the wire and in config: "retry"
  const char* noun;                 // in messages: "retry policy"
  std::vector<std::string> fields;  // the config keys it accepts
  // Parses `config` (already checked against `fields`) and adds the definition to `tree`.
  void (*define)(RunTree& tree, const std::string& name, const protocol::FieldReader& config);
  // Checks references between definitions once all are in (may be null).
  void (*link)(RunTree& tree);
};

// A type of interceptor in the call pipeline.
struct InterceptorType {
  const char* name;
  std::vector<std::string> tool_options;   // tool option keys it reads
  std::vector<std::string> model_options;  // run model option keys it reads
  // The interceptor for `target`, or null when it does not apply. Throws ProtocolError for bad options.
  std::unique_ptr<Interceptor> (*make)(const Target& target);
};

// A step seam of the agent loop (hooks, response validation, budget stop, stopWhen ...).
struct StepSeamType {
  const char* name;
  std::unique_ptr<StepSeam> (*make)(const StepSeamContext& context);
};

const std::vector<const DefinitionKind*>& definition_kinds();
const DefinitionKind* find_kind(std::string_view kind);
const std::vector<const InterceptorType*>& interceptor_types();  // outermost first
const std::vector<const StepSeamType*>& step_seam_types();       // in the order they run
// Every tool option any interceptor reads (for checking a tool's options).
const std::vector<std::string>& known_tool_options();
const std::vector<std::string>& known_model_options();

// Reads spec.definitions ([{kind, name, config}]) into `tree`, then links them.
void define_all(RunTree& tree, const json& definitions);

}  // namespace lmthing::pipeline

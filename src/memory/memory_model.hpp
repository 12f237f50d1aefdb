// Model calls a memory makes for itself (docs/memory.md): a hierarchical memory's summaries and a
// graph memory's extraction. Each is one call through a model chain built for the memory run's tree
// (pipeline/call.hpp), so the tree's budgets (defConstraint), the default retry rule and the
// observation interceptors (model-call events, spans) apply to it as to a defContext summary. The
// host answers the op as any model.generate, with `purpose` telling it the text is not the run's.
#pragma once

#include <string>

#include "pipeline/call.hpp"
#include "pipeline/run_tree.hpp"

namespace lmthing::memory {

// What a memory run can reach for model calls: the engine's desk (call environments carry it) and
// the model of the run that started it (`runModel` in the run spec), the default when the memory's
// definition names none.
struct ModelAccess {
  policy::HumanDesk* desk = nullptr;
  std::string run_model;  // empty: the memory run was started outside a run
};

// The model a memory uses: its definition's `model`, else the run's. Throws OpFailed (kind memory,
// INVALID_CONFIG) naming the memory and `what` needs it when there is neither.
std::string model_for(const std::string& configured, const ModelAccess& access, const std::string& memory, const std::string& what);

// One call of `model` with `input` {system, messages, params?} and purpose `purpose`; resolves the
// answer's text. A provider failure keeps its own typed error.
Task<std::string> memory_model_text(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, const ModelAccess& access, std::string model,
                                    json input, std::string purpose);

}  // namespace lmthing::memory

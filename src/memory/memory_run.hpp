// The `memory` run kind (PROTOCOL.md §2): one memory operation or one embedding, started by the
// host for ctx.memory(name).store/search/delete/clear and ctx.embed. It joins the run tree of
// `parentRun` when the host starts it from a live run (so the tree's definitions and ledger apply),
// or gets a tree of its own with the spec's `definitions` (the prompt function, before its run).
#pragma once

#include "pipeline/call.hpp"
#include "pipeline/run_tree.hpp"
#include "runtime/loop.hpp"

namespace lmthing::memory {

// Checks `spec` completely (throws protocol::ProtocolError naming the bad field) and returns the
// run's body.
// `desk` is the engine's: the model calls of hierarchical and graph memories carry it in their call
// environment (spec.runModel names the model of the run that asked, their default model).
Task<json> prepare_memory_run(Loop& loop, RunId run, const json& spec, std::shared_ptr<pipeline::RunTree> tree, policy::HumanDesk& desk);

}  // namespace lmthing::memory

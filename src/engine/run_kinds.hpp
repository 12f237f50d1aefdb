// The kinds of run a host can start with run.start {spec: {kind, ...}}. Each kind checks its spec
// up front (so a bad spec is rejected before anything runs) and then executes as a coroutine.
#pragma once

#include "runtime/loop.hpp"

namespace lmthing {

// Throws protocol::ProtocolError naming the bad field if `spec` cannot be run.
void check_run_spec(const json& spec);

// Executes a checked spec; the value becomes the run's result.
Task<json> execute_run(Loop& loop, RunId run, const json& spec);

}  // namespace lmthing

// The kinds of run a host can start with run.start {spec: {kind, ...}}. A spec is checked
// completely before anything runs, so a bad spec is refused without side effects.
#pragma once

#include "runtime/loop.hpp"

namespace lmthing {

// The self-contained kinds (call, map, sleep, fault): checks `spec` (throws protocol::ProtocolError
// naming the bad field) and returns the run's body, a lazy task; its value becomes the run's result.
Task<json> prepare_simple_run(Loop& loop, RunId run, const std::string& kind, const json& spec);

}  // namespace lmthing

// The kinds of run a host can start with run.start {spec: {kind, ...}}. A spec is checked
// completely before anything runs, so a bad spec is refused without side effects.
#pragma once

#include "policy/human_desk.hpp"
#include "policy/run_policies.hpp"
#include "runtime/loop.hpp"

namespace lmthing {

// Checks `spec` (throws protocol::ProtocolError naming the bad field) and returns the run's body,
// a lazy task that has not started; its value becomes the run's result. A prompt run registers its
// policies in `policies` (released by the caller when the run ends) and asks people through `desk`.
Task<json> prepare_run(Loop& loop, RunId run, const json& spec, policy::PolicyRegistry& policies, policy::HumanDesk& desk);

}  // namespace lmthing

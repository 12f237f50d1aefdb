// The diagnostic run kind "storage" (PROTOCOL.md, run specs): runs a list of storage ops through
// the engine's storage client, in order, so a host can test its storage.* handlers end to end
// (and measure them) without a prompt run. Not meant for applications.
#pragma once

#include "runtime/loop.hpp"

namespace lmthing::state {

// Checks a spec {kind: "storage", storage, ops: [...], timeoutMs?}; throws protocol::ProtocolError
// naming the bad field.
void check_storage_script(const json& spec);
// Runs the checked spec's ops one after another; the result is the array of their answers.
Task<json> run_storage_script(Loop& loop, RunId run, json spec);

}  // namespace lmthing::state

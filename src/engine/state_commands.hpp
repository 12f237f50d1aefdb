// The state commands (PROTOCOL.md "State commands"): what a live run's host side does with its
// states (ctx.getState / setState / saveState / updateState and the live objects behind them).
// `state.view` loads and returns every state a run sees; `state.change` applies the changes the host
// recorded on a live object; `state.save` and `state.update` write through the storage ops.
#pragma once

#include <string>

#include "engine/human_commands.hpp"

namespace lmthing {

// Handles `message` when `type` is a state.* command and returns true (the reply is sent now, or
// when the storage work is done); false for any other type. Throws protocol::ProtocolError for bad
// fields, a run that is not live, or an unknown state.
bool handle_state_command(Loop& loop, const EnvOfRun& env_of, const std::string& type, const json& id, const json& message);

}  // namespace lmthing

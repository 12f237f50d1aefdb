// The human-in-the-loop commands (PROTOCOL.md §2): asking from the host side
// (`approval.request`, `interaction.request`, used by ctx.requestApproval / ctx.interact while a
// run is live) and answering an open request by id (`approval.respond`, `interaction.respond`).
#pragma once

#include <functional>
#include <string>

#include "pipeline/call.hpp"
#include "policy/human_desk.hpp"

namespace lmthing {

// Where a command about a live run happens (throws ProtocolError for a run that is not live).
using EnvOfRun = std::function<pipeline::CallEnv(RunId run, const std::string& where)>;

// Handles `message` when `type` is one of the commands above and returns true (the reply is sent
// now, or when the request is decided); false for any other type. Throws protocol::ProtocolError
// for bad fields, unknown runs, names or request ids.
bool handle_human_command(Loop& loop, policy::HumanDesk& desk, const EnvOfRun& env_of, const std::string& type, const json& id, const json& message);

}  // namespace lmthing

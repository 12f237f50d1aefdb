// The resource commands (PROTOCOL.md "Resource commands"): what a tool or workflow step's host side
// asks while it runs. `resource.get` answers a defResource's handle (initializing it first);
// `resource.acquire` answers a handle from a defResourcePool (waiting in line when all are out);
// `resource.release` gives one back.
#pragma once

#include <string>

#include "engine/human_commands.hpp"

namespace lmthing {

// Handles `message` when `type` is a resource.* command and returns true (get and acquire reply
// when they are done); false for any other type. Throws protocol::ProtocolError for bad fields, a
// run that is not live, or an unknown resource or pool.
bool handle_resource_command(Loop& loop, const EnvOfRun& env_of, const std::string& type, const json& id, const json& message);

}  // namespace lmthing

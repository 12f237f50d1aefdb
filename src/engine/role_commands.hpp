// `role.assume` (PROTOCOL.md "Roles"): a live run (prompt or directive) assumes a defRole role;
// ctx.assumeRole from a hook or tool, and L.role, send it. It takes effect from the next step (the
// next model call, for maxTokens and approvals: the next call).
#pragma once

#include <string>

#include "engine/human_commands.hpp"

namespace lmthing {

// Handles `message` when `type` is role.assume and returns true (the reply is sent now); false for
// any other type. Throws protocol::ProtocolError for bad fields or a run that is not live; an
// unknown role or a tool list naming tools the run lacks is the reply's error (kind "role").
bool handle_role_command(Loop& loop, const EnvOfRun& env_of, const std::string& type, const json& id, const json& message);

}  // namespace lmthing

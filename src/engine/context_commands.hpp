// `context.summarize` (PROTOCOL.md §2, ctx.summarizeContext()): asks every context of a live run's
// tree to summarize before its next model call.
#pragma once

#include <string>

#include "engine/human_commands.hpp"

namespace lmthing {

// Handles `message` when `type` is context.summarize and returns true; false for any other type.
// Throws protocol::ProtocolError for a run that is not live or defines no context.
bool handle_context_command(Loop& loop, const EnvOfRun& env_of, const std::string& type, const json& id, const json& message);

}  // namespace lmthing

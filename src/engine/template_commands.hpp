// `template.render` (PROTOCOL.md "Templates"): renders a defTemplate template with values and def
// references, either from a live run's tree (`run`) or from definitions sent with the command
// (`definitions`, what a prompt function defined before its run starts).
#pragma once

#include <string>

#include "engine/human_commands.hpp"

namespace lmthing {

// Handles `message` when `type` is template.render and returns true (the reply is sent now); false
// for any other type. Throws protocol::ProtocolError for bad fields or a run that is not live; a
// template error is the reply's error (kind "template").
bool handle_template_command(Loop& loop, const EnvOfRun& env_of, const std::string& type, const json& id, const json& message);

}  // namespace lmthing

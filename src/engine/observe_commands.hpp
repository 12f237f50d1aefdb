// The observability commands (PROTOCOL.md §2): reading metrics (`metrics.read`, engine-wide or one
// run tree's, as JSON or Prometheus text), recording a user metric (`metric.record`, from
// ctx.recordMetric) and raising a custom event in a live run (`event.emit`, from ctx.emit).
#pragma once

#include <string>

#include "engine/human_commands.hpp"
#include "observe/observatory.hpp"

namespace lmthing {

// Handles `message` when `type` is one of the commands above and returns true; false otherwise.
// Throws protocol::ProtocolError for bad fields and unknown runs; a bad recording is an error reply
// of kind `metric` with its code.
bool handle_observe_command(Loop& loop, observe::Observatory& observatory, const EnvOfRun& env_of, const std::string& type, const json& id,
                            const json& message);

}  // namespace lmthing

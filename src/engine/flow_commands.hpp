// The flow commands (PROTOCOL.md "Flow commands"): what a live run's host side asks of the
// engine's orchestration. `workflow.run` runs a defWorkflow (ctx.runWorkflow); from inside a
// step's callback (`run` is then the step's scope), `workflow.tool` calls one of the run's tools
// or agents through its chain (wctx.runTool / runAgent) and `workflow.emit` emits a
// `workflow-event` (wctx.emit). `pipeline.run`, `parallel.run` and `batch.add` run a defPipeline,
// a defParallel and add an item to a defBatcher (ctx.executePipeline, executeParallel, batch).
#pragma once

#include <string>

#include "engine/human_commands.hpp"

namespace lmthing {

// workflow.*, pipeline.run, parallel.run or batch.add.
bool is_flow_command(const std::string& type);

// Handles `message` when `type` is a flow command and returns true (the reply is sent when
// the work is done); false for any other type. Throws protocol::ProtocolError for bad fields, a run
// or scope that is not live, or an unknown workflow or tool.
bool handle_flow_command(Loop& loop, const EnvOfRun& env_of, const std::string& type, const json& id, const json& message);

}  // namespace lmthing

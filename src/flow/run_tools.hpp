// The tools of each live prompt run of a tree, so that a workflow step can call one
// (`wctx.runTool` / `wctx.runAgent`, the `workflow.tool` command) through that tool's own chain:
// its guards, approval, retry, timeout ... exactly as when the model calls it. Kept as a tree
// service; a run registers its tool box while it lives (RunToolsEntry is the RAII handle).
#pragma once

#include <map>
#include <memory>

#include "pipeline/call.hpp"
#include "pipeline/run_tree.hpp"

namespace lmthing::flow {

struct RunTools {
  std::map<RunId, std::shared_ptr<const pipeline::ToolBox>> by_run;
};

// Registers `tools` as the tools of `run` in `tree` until destroyed.
class RunToolsEntry {
 public:
  RunToolsEntry(pipeline::RunTree& tree, RunId run, std::shared_ptr<const pipeline::ToolBox> tools) : tree_(tree), run_(run) {
    tree_.tree_services().get<RunTools>().by_run[run_] = std::move(tools);
  }
  ~RunToolsEntry() { tree_.tree_services().get<RunTools>().by_run.erase(run_); }
  RunToolsEntry(const RunToolsEntry&) = delete;
  RunToolsEntry& operator=(const RunToolsEntry&) = delete;

 private:
  pipeline::RunTree& tree_;
  RunId run_;
};

// The tools of live run `run` of `tree` (null when it registered none).
inline std::shared_ptr<const pipeline::ToolBox> tools_of(pipeline::RunTree& tree, RunId run) {
  auto& by_run = tree.tree_services().get<RunTools>().by_run;
  auto it = by_run.find(run);
  return it == by_run.end() ? nullptr : it->second;
}

}  // namespace lmthing::flow

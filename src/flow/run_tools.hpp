// The tools of each live run of a tree, so that a workflow step can call one (`wctx.runTool` /
// `wctx.runAgent`, the `workflow.tool` command) through that tool's own chain: its guards,
// approval, retry, timeout ... exactly as when the model calls it. A prompt run registers its tools
// while it lives; a directive run registers the tools enabled in its root conversation, updated as
// `L.tool` enables and disables them. Kept as a tree service (RunToolsEntry is the RAII handle).
#pragma once

#include <map>
#include <memory>

#include "pipeline/call.hpp"
#include "pipeline/run_tree.hpp"

namespace lmthing::flow {

struct RunTools {
  struct Entry {
    std::shared_ptr<const pipeline::ToolBox> tools;
    json context = json::object();  // added to each call's context (a directive run: its conversation)
  };
  std::map<RunId, Entry> by_run;
};

// Registers `tools` as the tools of `run` in `tree` until destroyed.
class RunToolsEntry {
 public:
  RunToolsEntry(pipeline::RunTree& tree, RunId run, std::shared_ptr<const pipeline::ToolBox> tools, json context = json::object())
      : tree_(tree), run_(run) {
    tree_.tree_services().get<RunTools>().by_run[run_] = RunTools::Entry{std::move(tools), std::move(context)};
  }
  ~RunToolsEntry() { tree_.tree_services().get<RunTools>().by_run.erase(run_); }
  RunToolsEntry(const RunToolsEntry&) = delete;
  RunToolsEntry& operator=(const RunToolsEntry&) = delete;

  // The run's tools from now on (a reply in flight keeps the box it found).
  void update(std::shared_ptr<const pipeline::ToolBox> tools) { tree_.tree_services().get<RunTools>().by_run[run_].tools = std::move(tools); }

 private:
  pipeline::RunTree& tree_;
  RunId run_;
};

// The tools of live run `run` of `tree` (null when it registered none).
inline const RunTools::Entry* tools_of(pipeline::RunTree& tree, RunId run) {
  auto& by_run = tree.tree_services().get<RunTools>().by_run;
  auto it = by_run.find(run);
  return it == by_run.end() ? nullptr : &it->second;
}

}  // namespace lmthing::flow

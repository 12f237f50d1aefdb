// The work a flow callback started through the engine while its op ran (wctx.runTool / runAgent:
// `workflow.tool` with the callback's `op`): each such call runs in its own loop scope inside the
// run, registered under the op that asked for it, so that when that op ends (its timeout, the
// workflow's maxDuration, the run's end, or simply its answer) whatever it left running is
// cancelled with it. Kept as a tree service.
#pragma once

#include <map>
#include <set>

#include "pipeline/run_tree.hpp"

namespace lmthing::flow {

struct StepScopes {
  std::map<OpId, std::set<RunId>> by_op;
};

// Registers `scope` as work started by callback op `op` until destroyed (then closes the scope).
class StepScopeEntry {
 public:
  StepScopeEntry(pipeline::RunTree& tree, OpId op, RunId scope) : tree_(tree), op_(op), scope_(scope) {
    tree_.tree_services().get<StepScopes>().by_op[op_].insert(scope_);
  }
  ~StepScopeEntry() {
    auto& by_op = tree_.tree_services().get<StepScopes>().by_op;
    if (auto it = by_op.find(op_); it != by_op.end()) {
      it->second.erase(scope_);
      if (it->second.empty()) by_op.erase(it);
    }
    tree_.loop().close_scope(scope_);
  }
  StepScopeEntry(const StepScopeEntry&) = delete;
  StepScopeEntry& operator=(const StepScopeEntry&) = delete;

 private:
  pipeline::RunTree& tree_;
  OpId op_;
  RunId scope_;
};

// Cancels the work callback op `op` started and left running, with `error`.
inline void cancel_started_by(pipeline::RunTree& tree, OpId op, const protocol::WireError& error) {
  auto& by_op = tree.tree_services().get<StepScopes>().by_op;
  auto it = by_op.find(op);
  if (it == by_op.end()) return;
  const std::set<RunId> scopes = it->second;  // cancelling resumes nothing now, but copy to be safe
  for (RunId scope : scopes) tree.loop().cancel_run(scope, error);
}

}  // namespace lmthing::flow

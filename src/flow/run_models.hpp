// The model chain of each live run of a tree (prompt runs and directive runs), so that engine work
// outside the agent loop can make a model call of that run — the judge model of a parallel group or
// a branch group (flow/aggregate.cpp) — through the run's own chain: retries, fallback, budgets,
// tracing and usage apply as to the run's turns. A tree service; a run registers while it lives.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "pipeline/call.hpp"
#include "pipeline/run_tree.hpp"

namespace lmthing::flow {

struct RunModel {
  std::shared_ptr<const pipeline::Chain> chain;
  std::string model;  // the run's own model reference (the default of a directive run)
};

struct RunModels {
  std::map<RunId, RunModel> by_run;
};

// Registers `model` as the model chain of `run` in `tree` until destroyed.
class RunModelEntry {
 public:
  RunModelEntry(pipeline::RunTree& tree, RunId run, RunModel model) : tree_(tree), run_(run) {
    tree_.tree_services().get<RunModels>().by_run[run_] = std::move(model);
  }
  ~RunModelEntry() { tree_.tree_services().get<RunModels>().by_run.erase(run_); }
  RunModelEntry(const RunModelEntry&) = delete;
  RunModelEntry& operator=(const RunModelEntry&) = delete;

 private:
  pipeline::RunTree& tree_;
  RunId run_;
};

// The model chain of live run `run` of `tree`, else of the tree's root run (a callback of a run
// that registered none), else null.
inline const RunModel* model_of(pipeline::RunTree& tree, RunId run) {
  auto& by_run = tree.tree_services().get<RunModels>().by_run;
  auto it = by_run.find(run);
  if (it == by_run.end()) it = by_run.find(tree.root());
  return it == by_run.end() ? nullptr : &it->second;
}

}  // namespace lmthing::flow

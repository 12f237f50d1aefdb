#include "pipeline/run_tree.hpp"

#include "observe/tree_observer.hpp"
#include "pipeline/registry.hpp"

namespace lmthing::pipeline {

void RunTree::count_step() {
  RunTree& tree = state();
  if (++tree.steps_ <= tree.limits_.max_steps) return;
  throw OpFailed(protocol::WireError{"limit",
                                     "the run tree took more than " + std::to_string(tree.limits_.max_steps) +
                                         " model calls (limits.maxSteps); sub-agents and branches count towards it",
                                     json{{"code", "LIMIT_EXCEEDED"}, {"limit", "maxSteps"}}});
}

RunTree::~RunTree() = default;

void RunTree::emit(json event) const { observe::emit_observed(loop_, const_cast<RunTree*>(this), root_, std::move(event)); }

observe::TreeObserver& RunTree::observer() {
  RunTree& tree = state();
  if (!tree.observer_) {
    if (!tree.own_observatory_) tree.own_observatory_ = std::make_unique<observe::Observatory>();
    tree.observer_ = std::make_unique<observe::TreeObserver>(loop_, *tree.own_observatory_);
  }
  return *tree.observer_;
}

void RunTree::observe_with(observe::Observatory& observatory) {
  RunTree& tree = state();
  if (!tree.observer_) tree.observer_ = std::make_unique<observe::TreeObserver>(loop_, observatory);
}

namespace {

// spec.agent, spec.sessionId, spec.storage and spec.providerOptions over what the run inherits.
void read_scope(const protocol::FieldReader& fields, RunScope& scope) {
  if (auto agent = fields.optional_string("agent")) scope.agent = *agent;
  if (auto session = fields.optional_string("sessionId")) scope.session = *session;
  if (auto storage = fields.optional_string("storage")) scope.storage = *storage;
  if (const json* options = fields.optional_object("providerOptions")) scope.provider_options = *options;
}

}  // namespace

std::shared_ptr<RunTree> TreeRegistry::attach(Loop& loop, RunId run, const json& spec) {
  protocol::FieldReader fields(spec, "run.start spec");
  if (spec.contains("parentRun")) {
    const RunId parent_id = protocol::require_id(spec, "parentRun", "run.start spec");
    auto parent = runs_.find(parent_id);
    if (parent == runs_.end()) fields.fail("\"parentRun\": no active run with id " + std::to_string(parent_id));
    const int depth = parent->second.depth + 1;
    auto tree = std::make_shared<RunTree>(parent->second.tree);
    if (depth > tree->limits().max_depth)
      throw OpFailed(protocol::WireError{"limit",
                                         "sub-agents nested more than " + std::to_string(tree->limits().max_depth) +
                                             " levels deep (limits.maxDepth); an agent that delegates to itself needs a way to stop",
                                         json{{"code", "LIMIT_EXCEEDED"}, {"limit", "maxDepth"}}});
    tree->scope() = parent->second.tree->scope();
    read_scope(fields, tree->scope());
    define_all(*tree, spec.contains("definitions") ? spec["definitions"] : json());
    runs_[run] = Member{tree, depth};
    return tree;
  }
  const std::uint64_t seed = spec.contains("seed") && spec["seed"].is_number_unsigned() ? spec["seed"].get<std::uint64_t>() : run;
  auto tree = std::make_shared<RunTree>(loop, run, seed);
  if (observatory_) tree->observe_with(*observatory_);
  if (const json* limits = fields.optional_object("limits")) {
    protocol::FieldReader l(*limits, "run.start spec: limits");
    l.only({"maxDepth", "maxSteps"});
    tree->limits().max_depth = l.integer("maxDepth", 0, 1000).value_or(tree->limits().max_depth);
    tree->limits().max_steps = l.integer("maxSteps", 1, 100000000).value_or(tree->limits().max_steps);
  }
  tree->set_engine_services(&engine_services_);
  read_scope(fields, tree->scope());
  define_all(*tree, spec.contains("definitions") ? spec["definitions"] : json());
  tree->ledger().start(loop.now_ms());
  runs_[run] = Member{tree, 0};
  return tree;
}

std::shared_ptr<RunTree> TreeRegistry::find(RunId run) const {
  auto it = runs_.find(run);
  return it == runs_.end() ? nullptr : it->second.tree;
}

void TreeRegistry::release(RunId run) { runs_.erase(run); }

}  // namespace lmthing::pipeline

// A run tree: a root run and the sub-agent runs it starts (spec.parentRun), which share its
// definitions and the state those keep — circuit breakers, the constraint ledger (one budget for the
// whole tree), the PRNG for jitter — and its limits: how deep sub-agents may nest and how many steps
// the whole tree may take. A directive run and all its branches are one tree too.
#pragma once

#include <map>
#include <memory>
#include <typeindex>
#include <utility>

#include "observe/tree_observer.hpp"
#include "pipeline/definitions.hpp"
#include "policy/constraints.hpp"
#include "runtime/loop.hpp"
#include "runtime/random.hpp"

namespace lmthing::pipeline {

struct TreeLimits {
  int max_depth = 8;      // sub-agents within sub-agents: a root run is depth 0
  int max_steps = 10000;  // model calls of every run of the tree together
};

// State that a feature keeps per run tree (the state store) or per engine (caches that outlive a
// run), one object per type, created on first use.
class Services {
 public:
  template <class T, class... Args>
  T& get(Args&&... args) {
    auto& slot = items_[std::type_index(typeid(T))];
    if (!slot) slot = std::make_shared<T>(std::forward<Args>(args)...);
    return *static_cast<T*>(slot.get());
  }

 private:
  std::map<std::type_index, std::shared_ptr<void>> items_;
};

// What state and caches are keyed on: the agent a run is (a sub-agent's defAgent name, "root" for
// a root run: spec.agent), its tree's session and default storage (spec.sessionId, spec.storage),
// and the provider options its model calls are made with (spec.providerOptions).
struct RunScope {
  std::string agent = "root";
  std::string session;             // empty: the run has no sessionId
  std::string storage = "memory";  // a storage name registered on the host
  // The run's own providerOptions (spec.providerOptions; null: none). The host adds them to each
  // request; the engine reads them only for a model cache's key.
  json provider_options;
  // The run's place in the tree as its events name it (a memory run: the caller's).
  json path = json::array({"root"});
};

// The definitions a run sees and the state of its tree. A root run's RunTree holds the tree's state;
// a sub-run gets its own RunTree for the definitions it makes (which shadow its parent's), and every
// call on the tree's state goes to the root's.
class RunTree {
 public:
  RunTree(Loop& loop, RunId root, std::uint64_t seed) : loop_(loop), root_(root), rng_(seed) {}
  // A sub-run's scope inside `parent`'s tree.
  explicit RunTree(std::shared_ptr<RunTree> parent)
      : loop_(parent->loop_), root_(parent->root_), rng_(0), definitions_(&parent->definitions_), parent_(std::move(parent)) {}
  RunTree(const RunTree&) = delete;
  RunTree& operator=(const RunTree&) = delete;
  ~RunTree();

  Definitions& definitions() { return definitions_; }
  const Definitions& definitions() const { return definitions_; }
  bool is_root() const { return !parent_; }
  policy::Ledger& ledger() { return state().ledger_; }
  Random& rng() { return state().rng_; }
  Loop& loop() const { return loop_; }
  RunId root() const { return root_; }
  TreeLimits& limits() { return state().limits_; }

  // Counts one more model call of the tree; throws OpFailed (kind limit) past limits().max_steps.
  void count_step();
  // Tree-wide events (breaker state changes, constraint warnings) go to the root run.
  void emit(json event) const;

  // Metrics, spans and derived events of the whole tree (observe/tree_observer.hpp); values also go
  // to `observatory`, the engine's (a tree made without one gets its own).
  observe::TreeObserver& observer();
  void observe_with(observe::Observatory& observatory);
  // This run's agent name, and its tree's session and storage.
  const RunScope& scope() const { return scope_; }
  RunScope& scope() { return scope_; }
  // Kept for the whole tree (in the root), or for every tree of the engine (the root's tree when the
  // tree was made outside an engine, as tests do).
  Services& tree_services() { return state().tree_services_; }
  Services& engine_services() {
    RunTree& root = state();
    return root.engine_services_ ? *root.engine_services_ : root.tree_services_;
  }
  void set_engine_services(Services* services) { state().engine_services_ = services; }

 private:
  RunTree& state() { return parent_ ? parent_->state() : *this; }

  Loop& loop_;
  RunId root_;
  Random rng_;
  Definitions definitions_;
  std::shared_ptr<RunTree> parent_;  // null for the root
  policy::Ledger ledger_;
  TreeLimits limits_;
  int steps_ = 0;
  std::unique_ptr<observe::Observatory> own_observatory_;
  std::unique_ptr<observe::TreeObserver> observer_;
  RunScope scope_;
  Services tree_services_;
  Services* engine_services_ = nullptr;
};

// Which tree each live run belongs to. Owned by the engine.
class TreeRegistry {
 public:
  // A root run (no spec.parentRun) gets a new tree with spec.definitions (and spec.limits); a run
  // with spec.parentRun joins its parent's tree one level deeper, with its own definitions (which
  // see and may shadow its parent's).
  // Throws protocol::ProtocolError for bad definitions, an unknown parent, or too deep a nesting
  // (as OpFailed kind limit).
  std::shared_ptr<RunTree> attach(Loop& loop, RunId run, const json& spec);
  std::shared_ptr<RunTree> find(RunId run) const;
  void release(RunId run);
  // The engine-wide observatory root trees report to.
  void observe_with(observe::Observatory& observatory) { observatory_ = &observatory; }

 private:
  observe::Observatory* observatory_ = nullptr;
  Services engine_services_;  // shared by every tree (declared first: trees may outlive a release)
  struct Member {
    std::shared_ptr<RunTree> tree;
    int depth = 0;
  };
  std::map<RunId, Member> runs_;
};

}  // namespace lmthing::pipeline

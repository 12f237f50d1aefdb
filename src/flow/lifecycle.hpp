// What resources and pools share: they belong to the run that defined them, are set up on first use
// (numbered in the tree's setup order) and are ended when that run ends, newest first
// (resource_scope.hpp). Their values live in the host; the engine holds opaque handles.
#pragma once

#include <cstdint>

#include "pipeline/call.hpp"

namespace lmthing::flow {

// The run of the engine's own clean-up ops (cleanup, pool destroy): a cancelled run fails its ops at
// once, and a resource must still be cleaned up after its run was aborted. Hosts number runs from 1.
constexpr RunId kCleanupRun = 0;
// A clean-up callback that hangs must not keep the run from ending.
constexpr double kCleanupTimeoutMs = 30000;

// The tree-wide counter of setups, for tearing them down in reverse.
struct SetupOrder {
  std::uint64_t next = 1;
};

class Lifecycle {
 public:
  virtual ~Lifecycle() = default;
  // The run whose definitions hold this one: its events go there. The tree is held weakly (the
  // tree's definitions hold this object).
  void bind(const pipeline::CallEnv& owner) {
    owner_.emplace(owner);
    owner_->tree.reset();
    tree_ = owner.tree;
  }
  // 0 until set up (then its place in the tree's setup order).
  std::uint64_t setup_order() const { return order_; }
  // The owner run ended: fail what waits, clean every value up; never throws. Later uses fail.
  virtual Task<void> end() = 0;

 protected:
  // Emits a run event of the owner run.
  void emit(json event) const {
    pipeline::CallEnv env = *owner_;
    env.tree = tree_.lock();
    env.emit(std::move(event));
  }

  std::optional<pipeline::CallEnv> owner_;  // without its tree (see bind)
  std::weak_ptr<pipeline::RunTree> tree_;
  std::uint64_t order_ = 0;
  bool ended_ = false;
};

}  // namespace lmthing::flow

// The ops of one place of a run that are cancelled together while the run goes on: a directive
// branch that lost its group's race or outlived the group's timeout (directive/branch_group.hpp).
// A place registers its scope in the tree (by run and branch path) while it lives; every op a
// chain starts there is tracked while in flight. cancel() settles those at once (the host is told to
// cancel them; the chain throws the scope's error) and makes later ops of the place fail at once.
#pragma once

#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/call.hpp"
#include "pipeline/run_tree.hpp"

namespace lmthing::pipeline {

class CancelScope {
 public:
  bool cancelled() const { return error_.has_value(); }
  const protocol::WireError& error() const { return *error_; }

  // Cancels the ops in flight with `error` (kind `aborted`, so no retry policy tries again).
  void cancel(Loop& loop, protocol::WireError error) {
    if (error_) return;
    error_ = std::move(error);
    std::vector<OpId> in_flight;
    for (OpId op : ops_)
      if (op != 0) in_flight.push_back(op);
    for (OpId op : in_flight) loop.settle_early(op, nullptr, error_->message);
  }

  // Runs `op` as an op of this scope: throws the scope's error if it is or becomes cancelled.
  Task<json> run(OpAwaiter op) {
    if (error_) throw OpFailed(*error_);
    auto slot = ops_.insert(ops_.end(), 0);
    json value;
    try {
      value = co_await op.tracked(&*slot);
    } catch (...) {
      ops_.erase(slot);
      throw;
    }
    ops_.erase(slot);
    if (error_) throw OpFailed(*error_);
    co_return value;
  }

 private:
  std::optional<protocol::WireError> error_;
  std::list<OpId> ops_;  // ids of the ops in flight (0 until started)
};

// The scopes of a tree's places, by run and path (a tree service).
struct CancelScopes {
  std::map<std::pair<RunId, std::string>, std::shared_ptr<CancelScope>> by_place;
};

// Registers `scope` for the place (`run`, `path`) of `tree` until destroyed.
class CancelScopeEntry {
 public:
  CancelScopeEntry(RunTree& tree, RunId run, const json& path, std::shared_ptr<CancelScope> scope) : tree_(tree), key_(run, path.dump()) {
    tree_.tree_services().get<CancelScopes>().by_place[key_] = std::move(scope);
  }
  ~CancelScopeEntry() { tree_.tree_services().get<CancelScopes>().by_place.erase(key_); }
  CancelScopeEntry(const CancelScopeEntry&) = delete;
  CancelScopeEntry& operator=(const CancelScopeEntry&) = delete;

 private:
  RunTree& tree_;
  std::pair<RunId, std::string> key_;
};

// The scope of the place `env` calls from, or null (most places have none).
inline std::shared_ptr<CancelScope> scope_of(const CallEnv& env) {
  if (!env.tree) return nullptr;
  auto& by_place = env.tree->tree_services().get<CancelScopes>().by_place;
  if (by_place.empty()) return nullptr;
  auto it = by_place.find({env.run, env.path.dump()});
  return it == by_place.end() ? nullptr : it->second;
}

// Waits `ms` on an engine timer as an op of the place `env` calls from, so that a directive branch
// its group cancels stops waiting too (a retry's backoff, a rate limit's slot, a cascade's delay).
inline Task<void> pause(const CallEnv& env, double ms) {
  auto timer = env.loop.sleep(env.run, ms);
  auto scope = scope_of(env);
  if (scope)
    co_await scope->run(std::move(timer));
  else
    co_await std::move(timer);
}

}  // namespace lmthing::pipeline

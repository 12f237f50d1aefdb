// A reference to a scope of the loop (Loop::open_scope): the scope stays open while a reference
// lives, and is forgotten (with anything still pending in it cancelled) when the last one goes.
// Coroutines that start ops in a scope hold one, so a scope never disappears under them.
#pragma once

#include <utility>

#include "runtime/loop.hpp"

namespace lmthing {

class ScopeRef {
 public:
  ScopeRef() = default;
  // A new scope inside run or scope `parent`.
  static ScopeRef open(Loop& loop, RunId parent) { return ScopeRef(loop, loop.open_scope(parent)); }
  // A new scope of `host_run` that its cancellation does not reach (clean-up after the run).
  static ScopeRef detached(Loop& loop, RunId host_run) { return ScopeRef(loop, loop.open_detached_scope(host_run)); }
  // Another reference to open scope `id`.
  static ScopeRef share(Loop& loop, RunId id) {
    loop.retain_scope(id);
    return ScopeRef(loop, id);
  }

  ScopeRef(const ScopeRef& other) : loop_(other.loop_), id_(other.id_) {
    if (loop_) loop_->retain_scope(id_);
  }
  ScopeRef(ScopeRef&& other) noexcept : loop_(std::exchange(other.loop_, nullptr)), id_(other.id_) {}
  ScopeRef& operator=(ScopeRef other) noexcept {
    std::swap(loop_, other.loop_);
    std::swap(id_, other.id_);
    return *this;
  }
  ~ScopeRef() {
    if (loop_) loop_->release_scope(id_);
  }

  RunId id() const { return id_; }
  explicit operator bool() const { return loop_ != nullptr; }

 private:
  ScopeRef(Loop& loop, RunId id) : loop_(&loop), id_(id) {}
  Loop* loop_ = nullptr;
  RunId id_ = 0;
};

}  // namespace lmthing

// Concurrent children whose parent reacts to each one finishing: a DAG that starts a step as soon
// as its dependencies are done, a parallel group that stops at the first success. Like when_all,
// every child must have finished before the group goes away (call wait_all before leaving, on
// every path); unlike it, the parent can wake after each completion and start more children.
// Children report their own outcomes (they catch what they throw); the group only counts them.
#pragma once

#include <list>

#include "runtime/loop.hpp"

namespace lmthing::flow {

class TaskGroup {
 public:
  // `scope`: the cancellation scope of the parent (co_await current_scope()), which its children share.
  explicit TaskGroup(Loop& loop, std::uint64_t scope = 0) : loop_(loop), scope_(scope) {}
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  // Starts `child` on the loop (it runs from the next turn of the ready queue).
  void start(Task<void> child) {
    ++running_;
    children_.push_back(wrap(std::move(child)).in_scope(scope_));
    loop_.schedule(children_.back().handle());
  }

  std::size_t running() const { return running_; }

  // Resumes once a child has finished since the previous wait (at once if one already has).
  auto wait_any() { return Awaiter{*this, false}; }
  // Resumes once no child is running.
  auto wait_all() { return Awaiter{*this, true}; }

 private:
  struct Awaiter {
    TaskGroup& group;
    bool all;
    bool await_ready() const noexcept { return all ? group.running_ == 0 : (group.finished_ > 0 || group.running_ == 0); }
    void await_suspend(coro::coroutine_handle<> parent) noexcept {
      group.parent_ = parent;
      group.waiting_all_ = all;
    }
    void await_resume() const noexcept {
      group.finished_ = 0;
      group.reap();
    }
  };

  Task<void> wrap(Task<void> child) {
    try {
      co_await std::move(child);
    } catch (...) {
      // Children report their own failures; nothing may escape into the group.
    }
    --running_;
    ++finished_;
    if (parent_ && (!waiting_all_ || running_ == 0)) loop_.schedule(std::exchange(parent_, {}));
  }

  // Frees the frames of finished children (never the one that is finishing right now).
  void reap() {
    for (auto it = children_.begin(); it != children_.end();) it = it->done() ? children_.erase(it) : std::next(it);
  }

  Loop& loop_;
  std::uint64_t scope_;
  std::list<Task<void>> children_;
  std::size_t running_ = 0;
  std::size_t finished_ = 0;
  bool waiting_all_ = false;
  coro::coroutine_handle<> parent_;
};

}  // namespace lmthing::flow

// Structured fan-out: run a set of tasks concurrently on the loop and resume the caller when every
// one has finished. Children that throw do not stop their siblings; the first error (in index
// order) is rethrown once all are done, so no child is left running behind the caller's back.
#pragma once

#include <exception>
#include <vector>

#include "runtime/loop.hpp"

namespace lmthing {

namespace detail {

struct JoinState {
  std::size_t remaining = 0;
  coro::coroutine_handle<> parent;
  Loop* loop = nullptr;
  std::vector<std::exception_ptr> errors;
};

inline Task<void> joined_child(Task<void> child, JoinState& state, std::size_t index) {
  try {
    co_await std::move(child);
  } catch (...) {
    state.errors[index] = std::current_exception();
  }
  if (--state.remaining == 0) state.loop->schedule(state.parent);
}

struct JoinAwaiter {
  std::vector<Task<void>>& children;
  JoinState& state;
  bool await_ready() const noexcept { return children.empty(); }
  template <typename P>
  void await_suspend(coro::coroutine_handle<P> parent) {
    state.parent = parent;
    for (auto& child : children) {
      // The children are the parent's work: they share its cancellation scope.
      if constexpr (std::is_base_of_v<PromiseBase, P>) child.handle().promise().scope = parent.promise().scope;
      state.loop->schedule(child.handle());
    }
  }
  void await_resume() const noexcept {}
};

}  // namespace detail

inline Task<void> when_all(Loop& loop, std::vector<Task<void>> tasks) {
  detail::JoinState state;
  state.loop = &loop;
  state.remaining = tasks.size();
  state.errors.resize(tasks.size());
  std::vector<Task<void>> children;
  children.reserve(tasks.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) children.push_back(detail::joined_child(std::move(tasks[i]), state, i));
  co_await detail::JoinAwaiter{children, state};
  for (auto& error : state.errors)
    if (error) std::rethrow_exception(error);
}

}  // namespace lmthing

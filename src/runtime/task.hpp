// Task<T>: a lazily started coroutine that produces a T (or throws). Awaiting a Task queues it on
// the current Scheduler and the awaiter is queued again when it finishes (see scheduler.hpp for
// why this is not symmetric transfer). A Task owns its coroutine frame; destroying an unfinished
// Task destroys the frame.
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "runtime/coro.hpp"
#include "runtime/scheduler.hpp"

namespace lmthing {

template <typename T>
class Task;

namespace detail {

// Queues whoever awaited the finished task (nobody, for a root driven by the loop).
struct FinalAwaiter {
  bool await_ready() const noexcept { return false; }
  template <typename Promise>
  void await_suspend(coro::coroutine_handle<Promise> done) noexcept {
    if (auto next = done.promise().continuation) Scheduler::current().schedule(next);
  }
  void await_resume() const noexcept {}
};

struct PromiseBase {
  coro::coroutine_handle<> continuation;
  // The cancellation scope of this work: the id of the callback op whose callback started it (a
  // workflow step calling wctx.runTool), or 0. Inherited by every task it awaits and by the ops they
  // start, so that cancelling that op cancels them too (Loop::cancel_scope).
  std::uint64_t scope = 0;
  std::exception_ptr error;
  coro::suspend_always initial_suspend() const noexcept { return {}; }
  FinalAwaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }
};

template <typename T>
struct Promise : PromiseBase {
  std::optional<T> value;
  Task<T> get_return_object() noexcept;
  template <typename U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
  T take() {
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
};

template <>
struct Promise<void> : PromiseBase {
  Task<void> get_return_object() noexcept;
  void return_void() const noexcept {}
  void take() const {
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace detail

template <typename T = void>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::Promise<T>;
  using Handle = coro::coroutine_handle<promise_type>;

  Task() = default;
  explicit Task(Handle h) noexcept : handle_(h) {}
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  bool valid() const noexcept { return static_cast<bool>(handle_); }
  bool done() const noexcept { return handle_ && handle_.done(); }

  // co_await task: start it, resume the awaiter when it completes, yield its value or rethrow.
  struct Awaiter {
    Handle handle;
    bool await_ready() const noexcept { return !handle || handle.done(); }
    template <typename P>
    void await_suspend(coro::coroutine_handle<P> awaiter) noexcept {
      if constexpr (std::is_base_of_v<detail::PromiseBase, P>)
        if (handle.promise().scope == 0) handle.promise().scope = awaiter.promise().scope;
      handle.promise().continuation = awaiter;
      Scheduler::current().schedule(handle);
    }
    T await_resume() { return handle.promise().take(); }
  };
  Awaiter operator co_await() && noexcept { return Awaiter{handle_}; }

  // For roots driven by the event loop: the raw handle and the outcome once done.
  Handle handle() const noexcept { return handle_; }
  T result() { return handle_.promise().take(); }
  // Puts the task (not yet started) in cancellation scope `scope` (see PromiseBase::scope).
  Task&& in_scope(std::uint64_t scope) && noexcept {
    if (handle_ && scope != 0) handle_.promise().scope = scope;
    return std::move(*this);
  }

 private:
  void reset() noexcept {
    if (handle_) handle_.destroy();
    handle_ = {};
  }
  Handle handle_;
};

// co_await current_scope(): the cancellation scope of the awaiting task (0 for none).
struct current_scope {
  std::uint64_t scope = 0;
  bool await_ready() const noexcept { return false; }
  template <typename P>
  bool await_suspend(coro::coroutine_handle<P> self) noexcept {
    if constexpr (std::is_base_of_v<detail::PromiseBase, P>) scope = self.promise().scope;
    return false;  // never suspends: only reads the promise
  }
  std::uint64_t await_resume() const noexcept { return scope; }
};

namespace detail {
template <typename T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>(coro::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object() noexcept { return Task<void>(coro::coroutine_handle<Promise<void>>::from_promise(*this)); }
}  // namespace detail

}  // namespace lmthing

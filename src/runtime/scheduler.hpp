// The ready queue that every coroutine resumption goes through.
//
// Why not symmetric transfer: clang lowers a handle-returning await_suspend to a wasm tail call,
// which Binaryen's asyncify (Emscripten 3.1.6) could not process when the loop used it, and which
// needs the tail-call feature Emscripten 3.1.6 does not enable. So a Task starts its child
// and wakes its awaiter by queueing them here; the loop drains the queue. No resumption nests
// inside another, so the native stack never grows with await depth, natively and in wasm alike.
#pragma once

#include <cassert>
#include <deque>

#include "runtime/coro.hpp"

namespace lmthing {

class Scheduler {
 public:
  void schedule(coro::coroutine_handle<> h) { ready_.push_back(h); }
  bool empty() const noexcept { return ready_.empty(); }

  // Resume queued coroutines until none is left, with this scheduler as the current one.
  void run() {
    Scheduler* previous = current_;
    current_ = this;
    while (!ready_.empty()) {
      auto h = ready_.front();
      ready_.pop_front();
      h.resume();
    }
    current_ = previous;
  }

  // The scheduler whose run() is on the stack: coroutines only ever execute inside run().
  static Scheduler& current() noexcept {
    assert(current_ != nullptr && "coroutines must be resumed through Scheduler::run");
    return *current_;
  }

 private:
  std::deque<coro::coroutine_handle<>> ready_;
  static inline thread_local Scheduler* current_ = nullptr;
};

}  // namespace lmthing

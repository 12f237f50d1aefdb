// AsyncMutex: one holder at a time for work that spans ops (a state's load, save or update must not
// interleave with another on the same state, or its compare-and-set would conflict with itself).
//
//   auto guard = co_await mutex.lock();   // released when `guard` goes
//
// Waiters are served in arrival order. Cancellation-safe: a waiter whose coroutine is destroyed
// while it waits leaves the queue; one destroyed after it was handed the lock but before it resumed
// passes the lock on.
#pragma once

#include <list>
#include <utility>

#include "runtime/loop.hpp"

namespace lmthing {

class AsyncMutex {
  struct Waiter {
    coro::coroutine_handle<> handle;
    bool* granted;
  };

 public:
  explicit AsyncMutex(Loop& loop) : loop_(&loop) {}
  AsyncMutex(const AsyncMutex&) = delete;
  AsyncMutex& operator=(const AsyncMutex&) = delete;

  class Guard {
   public:
    Guard() = default;
    explicit Guard(AsyncMutex* mutex) : mutex_(mutex) {}
    Guard(Guard&& other) noexcept : mutex_(std::exchange(other.mutex_, nullptr)) {}
    Guard& operator=(Guard&& other) noexcept {
      if (this != &other) {
        release();
        mutex_ = std::exchange(other.mutex_, nullptr);
      }
      return *this;
    }
    ~Guard() { release(); }
    void release() {
      if (mutex_) std::exchange(mutex_, nullptr)->unlock();
    }

   private:
    AsyncMutex* mutex_ = nullptr;
  };

  class LockAwaiter {
   public:
    explicit LockAwaiter(AsyncMutex& mutex) : mutex_(mutex) {}
    LockAwaiter(const LockAwaiter&) = delete;
    LockAwaiter& operator=(const LockAwaiter&) = delete;
    ~LockAwaiter() {
      if (queued_ && !granted_) mutex_.waiters_.erase(self_);
      if (granted_ && !taken_) mutex_.unlock();  // handed the lock, destroyed before it resumed
    }
    bool await_ready() {
      if (mutex_.locked_) return false;
      mutex_.locked_ = true;
      granted_ = true;
      return true;
    }
    void await_suspend(coro::coroutine_handle<> handle) {
      self_ = mutex_.waiters_.insert(mutex_.waiters_.end(), Waiter{handle, &granted_});
      queued_ = true;
    }
    Guard await_resume() {
      taken_ = true;
      return Guard(&mutex_);
    }

   private:
    AsyncMutex& mutex_;
    bool queued_ = false;
    bool granted_ = false;
    bool taken_ = false;
    std::list<Waiter>::iterator self_;
  };

  [[nodiscard]] LockAwaiter lock() { return LockAwaiter(*this); }
  bool locked() const { return locked_; }
  std::size_t waiting() const { return waiters_.size(); }

 private:
  void unlock() {
    if (waiters_.empty()) {
      locked_ = false;
      return;
    }
    Waiter next = waiters_.front();
    waiters_.pop_front();
    *next.granted = true;  // the lock passes straight to it
    loop_->schedule(next.handle);
  }

  Loop* loop_;
  bool locked_ = false;
  std::list<Waiter> waiters_;
};

}  // namespace lmthing

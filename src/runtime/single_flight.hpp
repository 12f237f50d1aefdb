// SingleFlight: concurrent calls with the same key share one execution. The first caller's work
// runs; callers that arrive while it is in flight wait for it, and every one of them gets its
// value or the same exception. Once it has finished, the next call for the key runs again (a cache
// in front of it is what makes later calls hits).
//
// Cancellation-safe in both directions:
// - a waiter whose coroutine is destroyed while it waits simply leaves (the others are unaffected);
//   a caller that joined a flight already in flight waits on a timer op of its own run, so its
//   run's abort or timeout (or its cancel scope) makes it leave at once with that error;
// - the execution is a loop root, not part of any caller. When it fails because the run it
//   executed for was cancelled (aborted, timed out, out of budget), only that run's waiters get the
//   error, and the work is started again for a waiter whose run is still alive, so one cancelled
//   caller never fails the others.
#pragma once

#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>

#include "runtime/loop.hpp"

namespace lmthing {

class SingleFlight {
 public:
  // The work of one caller, executed on behalf of `run` (its ops belong to that run).
  using Work = std::function<Task<json>(RunId run)>;

  struct Stats {
    std::uint64_t executions = 0;  // times work was started (a restart after a cancellation counts)
    std::uint64_t coalesced = 0;   // calls that joined an execution already in flight
  };

  explicit SingleFlight(Loop& loop);

  // The value of `work` for `key`, shared with every concurrent call for the same key.
  Task<json> run(RunId run, std::string key, Work work);

  std::size_t in_flight() const;
  Stats stats() const;

 private:
  struct Waiter {
    RunId run;
    Work work;
    coro::coroutine_handle<> handle;  // resumed when settled, or
    OpId timer = 0;                   // the timer op it waits on, settled early (a joiner)
    std::optional<json>* value;
    std::exception_ptr* error;
  };
  struct Flight {
    std::string key;
    std::list<Waiter> waiters;
  };
  struct State {
    Loop* loop;
    std::unordered_map<std::string, std::shared_ptr<Flight>> flights;
    Stats stats;
  };
  class JoinAwaiter;
  class Parked;

  // A caller that joined `flight`: waits on a timer op of `run` until the flight settles it.
  Task<json> join(std::shared_ptr<Flight> flight, RunId run, Work work);

  static Task<void> execute(std::shared_ptr<State> state, std::shared_ptr<Flight> flight);

  // Shared with the executions, which are loop roots and may outlive this object.
  std::shared_ptr<State> state_;
};

}  // namespace lmthing

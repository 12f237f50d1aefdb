#include "runtime/single_flight.hpp"

namespace lmthing {

// Suspends a caller until its flight settles; leaves the flight if its coroutine is destroyed first.
class SingleFlight::JoinAwaiter {
 public:
  JoinAwaiter(std::shared_ptr<Flight> flight, RunId run, Work work) : flight_(std::move(flight)), run_(run), work_(std::move(work)) {}
  JoinAwaiter(const JoinAwaiter&) = delete;
  JoinAwaiter& operator=(const JoinAwaiter&) = delete;
  ~JoinAwaiter() {
    if (registered_ && !value_ && !error_) flight_->waiters.erase(self_);
  }

  bool await_ready() const noexcept { return false; }
  void await_suspend(coro::coroutine_handle<> handle) {
    self_ = flight_->waiters.insert(flight_->waiters.end(), Waiter{run_, std::move(work_), handle, &value_, &error_});
    registered_ = true;
  }
  json await_resume() {
    if (error_) std::rethrow_exception(error_);
    return std::move(*value_);
  }

 private:
  std::shared_ptr<Flight> flight_;
  RunId run_;
  Work work_;
  std::list<Waiter>::iterator self_;
  bool registered_ = false;
  std::optional<json> value_;
  std::exception_ptr error_;
};

SingleFlight::SingleFlight(Loop& loop) : state_(std::make_shared<State>(State{&loop, {}, {}})) {}

std::size_t SingleFlight::in_flight() const { return state_->flights.size(); }
SingleFlight::Stats SingleFlight::stats() const { return state_->stats; }

Task<json> SingleFlight::run(RunId run, std::string key, Work work) {
  std::shared_ptr<Flight> flight;
  if (auto found = state_->flights.find(key); found != state_->flights.end()) {
    flight = found->second;
    ++state_->stats.coalesced;
  } else {
    flight = std::make_shared<Flight>(Flight{key, {}});
    state_->flights.emplace(key, flight);
    // The execution starts on the next turn of the ready queue, after this caller has joined.
    state_->loop->spawn(execute(state_, flight));
  }
  co_return co_await JoinAwaiter(flight, run, std::move(work));
}

namespace {

bool cancelled_by_its_run(const Loop& loop, RunId run, const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const OpFailed& e) {
    return e.error.kind == "aborted" && loop.run_cancelled(run);
  } catch (...) {
    return false;
  }
}

}  // namespace

Task<void> SingleFlight::execute(std::shared_ptr<State> state, std::shared_ptr<Flight> flight) {
  Loop& loop = *state->loop;
  auto settle = [&](auto&& matches, const std::optional<json>& value, const std::exception_ptr& error) {
    for (auto it = flight->waiters.begin(); it != flight->waiters.end();) {
      if (!matches(*it)) {
        ++it;
        continue;
      }
      if (error)
        *it->error = error;
      else
        *it->value = value;
      loop.schedule(it->handle);
      it = flight->waiters.erase(it);
    }
  };
  while (!flight->waiters.empty()) {
    // Execute for the first waiter whose run is still alive (or the first, whose error it will get).
    auto leader = flight->waiters.begin();
    for (auto it = flight->waiters.begin(); it != flight->waiters.end(); ++it)
      if (!loop.run_cancelled(it->run)) {
        leader = it;
        break;
      }
    const RunId run = leader->run;
    Work work = leader->work;
    ++state->stats.executions;
    std::optional<json> value;
    std::exception_ptr error;
    try {
      value = co_await work(run);
    } catch (...) {
      error = std::current_exception();
    }
    if (error && cancelled_by_its_run(loop, run, error)) {
      settle([&](const Waiter& w) { return w.run == run; }, std::nullopt, error);
      continue;  // the others still want the value: start again for one of them
    }
    settle([](const Waiter&) { return true; }, value, error);
  }
  if (auto found = state->flights.find(flight->key); found != state->flights.end() && found->second == flight) state->flights.erase(found);
}

}  // namespace lmthing

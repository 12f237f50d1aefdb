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
    self_ = flight_->waiters.insert(flight_->waiters.end(), Waiter{run_, std::move(work_), handle, 0, &value_, &error_});
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

// A joiner's place in its flight: leaves it when destroyed unsettled (its coroutine ended early).
class SingleFlight::Parked {
 public:
  Parked(std::shared_ptr<Flight> flight, RunId run, Work work) : flight_(std::move(flight)) {
    self_ = flight_->waiters.insert(flight_->waiters.end(), Waiter{run, std::move(work), {}, 0, &value, &error});
  }
  Parked(const Parked&) = delete;
  Parked& operator=(const Parked&) = delete;
  ~Parked() {
    if (!settled()) flight_->waiters.erase(self_);
  }
  bool settled() const { return value.has_value() || error != nullptr; }
  OpId* timer() { return &self_->timer; }

  std::optional<json> value;
  std::exception_ptr error;

 private:
  std::shared_ptr<Flight> flight_;
  std::list<Waiter>::iterator self_;
};

Task<json> SingleFlight::run(RunId run, std::string key, Work work) {
  if (auto found = state_->flights.find(key); found != state_->flights.end()) {
    ++state_->stats.coalesced;
    co_return co_await join(found->second, run, std::move(work));
  }
  auto flight = std::make_shared<Flight>(Flight{key, {}});
  state_->flights.emplace(key, flight);
  // The execution starts on the next turn of the ready queue, after this caller has joined. It
  // runs for this caller's run first, so this caller's cancellation reaches it through that work.
  state_->loop->spawn(execute(state_, flight));
  co_return co_await JoinAwaiter(flight, run, std::move(work));
}

Task<json> SingleFlight::join(std::shared_ptr<Flight> flight, RunId run, Work work) {
  constexpr double kParkMs = 2147483647.0;  // the longest host timer; waited again if it ever ends
  Parked parked(std::move(flight), run, std::move(work));
  std::optional<protocol::WireError> left;
  while (!parked.settled()) {
    try {
      co_await state_->loop->sleep(run, kParkMs).tracked(parked.timer());
    } catch (const OpFailed& e) {
      left = e.error;  // its run (or its cancel scope) was cancelled
      break;
    }
  }
  if (parked.error) std::rethrow_exception(parked.error);
  if (parked.value) co_return std::move(*parked.value);
  throw OpFailed(*left);
}

namespace {

// The failure is the run's (its abort, its timeout, its budget), not the call's: the others retry.
bool cancelled_by_its_run(const Loop& loop, RunId run, const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const OpFailed&) {
    return loop.run_cancelled(run);
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
      if (it->handle)
        loop.schedule(it->handle);
      else
        loop.settle_early(it->timer, nullptr, "the call it waited for is done");
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

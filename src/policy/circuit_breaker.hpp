// A circuit breaker: after enough consecutive failures it stops admitting calls for a while, then
// lets a few trial calls through to decide whether to close again. Time is passed in (engine clock),
// so the breaker is deterministic and replayable.
#pragma once

#include <functional>

#include "protocol/json.hpp"

namespace lmthing::policy {

struct CircuitBreakerConfig {
  int failure_threshold = 5;        // consecutive failures that open the circuit, >= 1
  double reset_timeout_ms = 30000;  // how long it stays open before trials, > 0
  int half_open_requests = 1;       // trial calls in half-open; all must succeed to close, >= 1
};

// Parses {failureThreshold, resetTimeout, halfOpenRequests}; fields optional (defaults above), unknown
// keys ignored. Throws std::invalid_argument naming the field and the accepted values.
CircuitBreakerConfig parse_circuit_breaker(const lmthing::Json& spec);

enum class CircuitState { Closed, Open, HalfOpen };
const char* to_string(CircuitState state) noexcept;  // "closed", "open", "half-open"

class CircuitBreaker {
 public:
  using State = CircuitState;
  // Called after every state change (the breaker is already in `to`), e.g. to emit an engine event.
  // It must not call back into the breaker's record_* / admit.
  using Listener = std::function<void(State from, State to, double now_ms)>;

  struct Admission {
    bool allowed = false;
    // When rejected: ms until the breaker may admit again. In open that is the rest of the reset
    // timeout; in half-open (trial slots taken) it is unknown, so the full reset timeout is a
    // conservative hint. 0 when allowed.
    double retry_in_ms = 0;
    explicit operator bool() const noexcept { return allowed; }
  };

  explicit CircuitBreaker(CircuitBreakerConfig config, Listener listener = {});

  // Asks to start a call. An allowed call must later be reported exactly once through
  // record_success, record_failure or (if it never ran to an outcome) record_cancelled.
  Admission admit(double now_ms);
  void record_success(double now_ms);
  void record_failure(double now_ms);
  // An admitted call was abandoned (e.g. cancelled) without an outcome: frees its half-open trial
  // slot so the breaker cannot get stuck waiting for it. Counts as neither success nor failure.
  void record_cancelled(double now_ms);

  // Current state; moves open -> half-open once the reset timeout has elapsed (so it may notify).
  State state(double now_ms);

  const CircuitBreakerConfig& config() const noexcept { return config_; }

 private:
  void advance(double now_ms);  // open -> half-open when due
  void transition(State to, double now_ms);

  CircuitBreakerConfig config_;
  Listener listener_;
  State state_ = State::Closed;
  int consecutive_failures_ = 0;  // closed
  double opened_at_ms_ = 0;       // open
  int trials_started_ = 0;        // half-open: admitted trial calls (cancelled ones given back)
  int trials_in_flight_ = 0;      // half-open: admitted, no outcome yet
  int trials_succeeded_ = 0;      // half-open
};

}  // namespace lmthing::policy

namespace lmthing::protocol {
struct WireError;
}

namespace lmthing::policy {
// The error of a call refused by an open breaker (kind circuit_open, code CIRCUIT_OPEN).
protocol::WireError circuit_open_error(const std::string& name, double retry_in_ms);
}  // namespace lmthing::policy

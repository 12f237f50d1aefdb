#include "policy/circuit_breaker.hpp"

#include <climits>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

namespace lmthing::policy {

namespace {

[[noreturn]] void bad_breaker(const std::string& what, const lmthing::Json& got) {
  throw std::invalid_argument("circuitBreaker: " + what + ", got " + got.dump());
}

int count_field(const lmthing::Json& spec, const char* key, int fallback) {
  const auto it = spec.find(key);
  if (it == spec.end()) return fallback;
  const double v = it->is_number() ? it->get<double>() : 0;
  // Integral-valued floats (3.0) are accepted: JSON from JavaScript does not distinguish them.
  if (!it->is_number() || !(v >= 1 && v <= INT_MAX) || std::floor(v) != v) bad_breaker(std::string("'") + key + "' must be an integer >= 1", *it);
  return static_cast<int>(v);
}

}  // namespace

CircuitBreakerConfig parse_circuit_breaker(const lmthing::Json& spec) {
  if (!spec.is_object()) bad_breaker("expected an object {failureThreshold, resetTimeout, halfOpenRequests}", spec);
  CircuitBreakerConfig config;
  config.failure_threshold = count_field(spec, "failureThreshold", config.failure_threshold);
  config.half_open_requests = count_field(spec, "halfOpenRequests", config.half_open_requests);
  if (const auto it = spec.find("resetTimeout"); it != spec.end()) {
    if (!it->is_number() || !std::isfinite(it->get<double>()) || it->get<double>() <= 0)
      bad_breaker("'resetTimeout' must be a number > 0 (milliseconds)", *it);
    config.reset_timeout_ms = it->get<double>();
  }
  return config;
}

const char* to_string(CircuitState state) noexcept {
  switch (state) {
    case CircuitState::Closed: return "closed";
    case CircuitState::Open: return "open";
    case CircuitState::HalfOpen: return "half-open";
  }
  return "unknown";
}

CircuitBreaker::CircuitBreaker(CircuitBreakerConfig config, Listener listener) : config_(config), listener_(std::move(listener)) {}

void CircuitBreaker::transition(State to, double now_ms) {
  const State from = state_;
  state_ = to;
  // Every state starts with fresh counters, so no stale count leaks across a cycle.
  consecutive_failures_ = 0;
  trials_started_ = trials_in_flight_ = trials_succeeded_ = 0;
  if (to == State::Open) opened_at_ms_ = now_ms;
  if (listener_) listener_(from, to, now_ms);
}

void CircuitBreaker::advance(double now_ms) {
  if (state_ == State::Open && now_ms - opened_at_ms_ >= config_.reset_timeout_ms) transition(State::HalfOpen, now_ms);
}

CircuitBreaker::State CircuitBreaker::state(double now_ms) {
  advance(now_ms);
  return state_;
}

CircuitBreaker::Admission CircuitBreaker::admit(double now_ms) {
  advance(now_ms);
  switch (state_) {
    case State::Closed: return {true, 0};
    case State::Open: return {false, opened_at_ms_ + config_.reset_timeout_ms - now_ms};
    case State::HalfOpen:
      if (trials_started_ >= config_.half_open_requests) return {false, config_.reset_timeout_ms};
      ++trials_started_;
      ++trials_in_flight_;
      return {true, 0};
  }
  return {false, 0};
}

void CircuitBreaker::record_success(double now_ms) {
  advance(now_ms);
  if (state_ == State::Closed) {
    consecutive_failures_ = 0;
  } else if (state_ == State::HalfOpen && trials_in_flight_ > 0) {
    --trials_in_flight_;
    if (++trials_succeeded_ >= config_.half_open_requests) transition(State::Closed, now_ms);
  }
  // Open, or half-open with no trial outstanding: the outcome belongs to a call admitted before the
  // circuit opened; it says nothing about the service now, so it is ignored.
}

void CircuitBreaker::record_failure(double now_ms) {
  advance(now_ms);
  if (state_ == State::Closed) {
    if (++consecutive_failures_ >= config_.failure_threshold) transition(State::Open, now_ms);
  } else if (state_ == State::HalfOpen && trials_in_flight_ > 0) {
    transition(State::Open, now_ms);  // one failed trial is enough; the timer restarts from now
  }
  // Open: a late failure of a call admitted earlier must not extend the timeout (see record_success).
}

void CircuitBreaker::record_cancelled(double now_ms) {
  advance(now_ms);
  if (state_ == State::HalfOpen && trials_in_flight_ > 0) {
    --trials_in_flight_;
    --trials_started_;  // the slot goes back so another caller can run the trial
  }
}

}  // namespace lmthing::policy

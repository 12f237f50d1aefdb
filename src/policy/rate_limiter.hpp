// A sliding-window-log rate limiter: at most `requests` call starts in any half-open window
// [t, t + period). acquire() reserves the caller's start time immediately, so callers are served in
// call order (FIFO) and each then sleeps on an engine timer for the returned wait.
#pragma once

#include <deque>
#include <limits>

#include "protocol/json.hpp"

namespace lmthing::policy {

struct RateLimitConfig {
  int requests = 1;      // starts allowed per window, >= 1
  double period_ms = 1;  // window length, > 0
};

// Parses {requests, period}; both required, unknown keys ignored. Throws std::invalid_argument
// naming the field and the accepted values.
RateLimitConfig parse_rate_limit(const lmthing::Json& spec);

class RateLimiter {
 public:
  explicit RateLimiter(RateLimitConfig config) : config_(config) {}

  // Reserves the earliest start that keeps every window within the limit and is no earlier than any
  // previously reserved start (FIFO). Returns ms to wait from now_ms (0 = start now). now_ms is the
  // engine clock and must not go backwards.
  // `start_out` gets the reserved start itself (for release).
  double acquire(double now_ms, double* start_out = nullptr);
  // Gives back a start reserved by acquire() that was never used (its caller was cancelled while it
  // waited), if it is still ahead of now_ms: later callers may take it.
  void release(double start_ms, double now_ms);

  const RateLimitConfig& config() const noexcept { return config_; }

 private:
  RateLimitConfig config_;
  // Reserved starts still able to constrain a future start (newer than now - period), oldest first
  // (in order: each start is no earlier than the one before).
  std::deque<double> starts_;
  // Latest reservation ever made, kept for FIFO after the log is pruned.
  double last_start_ = -std::numeric_limits<double>::infinity();
};

}  // namespace lmthing::policy

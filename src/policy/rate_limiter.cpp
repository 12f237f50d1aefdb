#include "policy/rate_limiter.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <stdexcept>
#include <string>

namespace lmthing::policy {

namespace {

[[noreturn]] void bad_rate(const std::string& what, const lmthing::Json& got) {
  throw std::invalid_argument("rateLimit: " + what + ", got " + got.dump());
}

const lmthing::Json& required(const lmthing::Json& spec, const char* key, const std::string& expected) {
  const auto it = spec.find(key);
  if (it == spec.end()) throw std::invalid_argument(std::string("rateLimit: '") + key + "' is required: " + expected);
  return *it;
}

}  // namespace

RateLimitConfig parse_rate_limit(const lmthing::Json& spec) {
  if (!spec.is_object()) bad_rate("expected an object {requests, period}", spec);
  RateLimitConfig config;
  const auto& requests = required(spec, "requests", "an integer >= 1");
  const double r = requests.is_number() ? requests.get<double>() : 0;
  if (!requests.is_number() || !(r >= 1 && r <= INT_MAX) || std::floor(r) != r) bad_rate("'requests' must be an integer >= 1", requests);
  config.requests = static_cast<int>(r);
  const auto& period = required(spec, "period", "a number > 0 (milliseconds)");
  if (!period.is_number() || !std::isfinite(period.get<double>()) || period.get<double>() <= 0)
    bad_rate("'period' must be a number > 0 (milliseconds)", period);
  config.period_ms = period.get<double>();
  return config;
}

double RateLimiter::acquire(double now_ms, double* start_out) {
  // A start at or before now - period can never share a window with a start at >= now.
  while (!starts_.empty() && starts_.front() <= now_ms - config_.period_ms) starts_.pop_front();

  double start = std::max(now_ms, last_start_);
  if (starts_.size() >= static_cast<std::size_t>(config_.requests)) {
    // The `requests`-th most recent start; ours must be a full period after it, so that window
    // [it, it + period) keeps exactly `requests` starts. (The older ones stay until they age out:
    // a released reservation may make one of them the binding start again.)
    start = std::max(start, starts_[starts_.size() - config_.requests] + config_.period_ms);
  }
  starts_.push_back(start);
  last_start_ = start;
  if (start_out) *start_out = start;
  return start - now_ms;
}

void RateLimiter::release(double start_ms, double now_ms) {
  if (start_ms <= now_ms) return;  // its time came: the start counts as made
  for (auto it = starts_.end(); it != starts_.begin();) {
    if (*--it != start_ms) continue;
    starts_.erase(it);
    last_start_ = starts_.empty() ? now_ms : std::max(now_ms, starts_.back());
    return;
  }
}

}  // namespace lmthing::policy

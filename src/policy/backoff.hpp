// Retry delays: exponential / linear / constant backoff with seeded jitter, and how a server's
// Retry-After combines with them. Pure functions of (config, attempt, Random) so a replayed run
// waits exactly as long as the original did.
#pragma once

#include <optional>

#include "protocol/json.hpp"

#include "runtime/random.hpp"

namespace lmthing::policy {

struct BackoffConfig {
  enum Kind { Exponential, Linear, Constant };
  Kind kind = Exponential;
  double base_delay_ms = 1000;  // > 0
  double max_delay_ms = 30000;  // >= base_delay_ms
  double jitter = 0;            // fraction of the delay that is randomized, in [0, 1]
};

// Delay before retry number `attempt` (0-based: 0 is the first retry), before jitter:
//   Exponential base * 2^attempt, Linear base * (attempt + 1), Constant base; capped at max_delay_ms.
// Jitter is proportional and subtractive: d * (1 - jitter * u), u uniform in [0, 1). jitter = 1 is
// "full jitter" (uniform in [0, d)); subtracting keeps max_delay_ms a hard upper bound.
// Draws exactly one number from `rng` when jitter > 0 and none otherwise.
double backoff_delay(const BackoffConfig& config, int attempt, Random& rng);

// The longest Retry-After honoured (10 minutes): a server asking for more is retried after this
// long, so no event reports an absurd delay and no host timer overflows (docs/resilience.md).
inline constexpr double kMaxRetryAfterMs = 600000;

// Delay before a retry when the server may have sent Retry-After:
// max(min(retry_after_ms, kMaxRetryAfterMs), backoff).
// Retry-After is NOT capped by max_delay_ms (the server said when it will accept us; coming back
// earlier just fails again); callers bound the total with their own deadline. A negative or
// non-finite retry_after_ms is ignored. Consumes the same random draws as backoff_delay, whether or
// not Retry-After wins, so the generator's sequence does not depend on server headers.
double retry_delay(const BackoffConfig& config, int attempt, std::optional<double> retry_after_ms, Random& rng);

// Parses {backoff: 'exponential'|'linear'|'constant', baseDelay, maxDelay, jitter}; every field is
// optional (defaults as in BackoffConfig, except that when only one of baseDelay/maxDelay is given
// the other default yields to it) and unknown keys are ignored, so the object can be embedded in a
// larger retry policy. Throws std::invalid_argument naming the field and the accepted values.
BackoffConfig parse_backoff(const lmthing::Json& spec);

}  // namespace lmthing::policy

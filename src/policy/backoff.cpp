#include "policy/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace lmthing::policy {

double backoff_delay(const BackoffConfig& config, int attempt, Random& rng) {
  const int n = std::max(attempt, 0);
  double delay = config.base_delay_ms;
  switch (config.kind) {
    case BackoffConfig::Exponential:
      // ldexp overflows to +inf rather than wrapping, and min() below turns that into the cap.
      delay = std::ldexp(config.base_delay_ms, std::min(n, 4096));
      break;
    case BackoffConfig::Linear: delay = config.base_delay_ms * (static_cast<double>(n) + 1); break;
    case BackoffConfig::Constant: break;
  }
  delay = std::min(delay, config.max_delay_ms);
  if (config.jitter > 0) delay *= 1 - config.jitter * rng.uniform();
  return delay;
}

double retry_delay(const BackoffConfig& config, int attempt, std::optional<double> retry_after_ms, Random& rng) {
  const double backoff = backoff_delay(config, attempt, rng);  // always drawn: see header
  if (!retry_after_ms || !std::isfinite(*retry_after_ms) || *retry_after_ms < 0) return backoff;
  return std::max(std::min(*retry_after_ms, kMaxRetryAfterMs), backoff);
}

namespace {

[[noreturn]] void bad_backoff(const std::string& what, const lmthing::Json& got) {
  throw std::invalid_argument("backoff: " + what + ", got " + got.dump());
}

// Reads an optional finite number; `expected` describes the accepted values for the error message.
std::optional<double> number_field(const lmthing::Json& spec, const char* key, const std::string& expected, bool (*ok)(double)) {
  const auto it = spec.find(key);
  if (it == spec.end()) return std::nullopt;
  if (!it->is_number() || !std::isfinite(it->get<double>()) || !ok(it->get<double>()))
    bad_backoff(std::string("'") + key + "' must be " + expected, *it);
  return it->get<double>();
}

}  // namespace

BackoffConfig parse_backoff(const lmthing::Json& spec) {
  if (!spec.is_object()) bad_backoff("expected an object {backoff, baseDelay, maxDelay, jitter}", spec);
  BackoffConfig config;
  if (const auto it = spec.find("backoff"); it != spec.end()) {
    const std::string kind = it->is_string() ? it->get<std::string>() : "";
    if (kind == "exponential")
      config.kind = BackoffConfig::Exponential;
    else if (kind == "linear")
      config.kind = BackoffConfig::Linear;
    else if (kind == "constant")
      config.kind = BackoffConfig::Constant;
    else
      bad_backoff("'backoff' must be one of 'exponential', 'linear', 'constant'", *it);
  }
  const auto positive = [](double v) { return v > 0; };
  const auto base = number_field(spec, "baseDelay", "a number > 0 (milliseconds)", positive);
  const auto max = number_field(spec, "maxDelay", "a number > 0 (milliseconds)", positive);
  if (base && max && *max < *base) bad_backoff("'maxDelay' must be >= 'baseDelay' (" + spec.at("baseDelay").dump() + ")", spec.at("maxDelay"));
  // When only one is given, the other's default yields to it instead of failing.
  config.base_delay_ms = base ? *base : std::min(config.base_delay_ms, max.value_or(config.base_delay_ms));
  config.max_delay_ms = max ? *max : std::max(config.max_delay_ms, config.base_delay_ms);
  const auto unit = [](double v) { return v >= 0 && v <= 1; };
  // `jitter: true` (the proposal's spelling) randomizes half of each delay ("equal jitter").
  if (const auto it = spec.find("jitter"); it != spec.end() && it->is_boolean())
    config.jitter = it->get<bool>() ? 0.5 : 0;
  else if (const auto jitter = number_field(spec, "jitter", "a number in [0, 1] or a boolean", unit))
    config.jitter = *jitter;
  return config;
}

}  // namespace lmthing::policy

#include "policy/retry.hpp"

#include "policy/config_fields.hpp"

namespace lmthing::policy {

RetryPolicy parse_retry(const nlohmann::json& spec, const std::string& what) {
  ConfigReader config(spec, what);
  RetryPolicy policy;
  if (auto attempts = config.integer("maxAttempts", 1, 100)) policy.max_attempts = *attempts;
  try {
    policy.backoff = parse_backoff(spec);
  } catch (const std::invalid_argument& e) {
    config.fail(e.what());
  }
  policy.retryable_errors = config.strings("retryableErrors");
  return policy;
}

RetryPolicy default_model_retry(int max_retries) {
  RetryPolicy policy;
  policy.max_attempts = max_retries + 1;
  policy.backoff.kind = BackoffConfig::Exponential;
  policy.backoff.base_delay_ms = 2000;
  policy.backoff.max_delay_ms = 30000;
  policy.backoff.jitter = 0;
  return policy;
}

bool matches_error(const std::vector<std::string>& patterns, const protocol::WireError& error) {
  const std::string code = error.extra.value("code", std::string());
  for (const auto& pattern : patterns) {
    if (pattern == error.kind || (!code.empty() && pattern == code)) return true;
    if (error.message.find(pattern) != std::string::npos) return true;
  }
  return false;
}

bool model_error_retryable(const protocol::WireError& error) {
  if (error.kind == "rate_limit" || error.kind == "timeout") return true;
  if (error.kind != "provider" || !error.extra.value("retryable", false)) return false;
  auto partial = error.extra.find("partialText");
  return partial == error.extra.end() || !partial->is_string() || partial->get_ref<const std::string&>().empty();
}

bool retries(const RetryPolicy& policy, const protocol::WireError& error, bool (*fallback_rule)(const protocol::WireError&)) {
  if (error.kind == "aborted" || error.kind == "budget" || error.kind == "circuit_open") return false;
  if (!policy.retryable_errors.empty()) return matches_error(policy.retryable_errors, error);
  return fallback_rule(error);
}

std::optional<double> retry_after_ms(const protocol::WireError& error) {
  auto after = error.extra.find("retryAfterMs");
  if (after == error.extra.end() || !after->is_number()) return std::nullopt;
  return after->get<double>();
}

}  // namespace lmthing::policy

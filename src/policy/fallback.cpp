#include "policy/fallback.hpp"

#include "policy/config_fields.hpp"
#include "policy/retry.hpp"

namespace lmthing::policy {

FallbackPolicy parse_fallback(const nlohmann::json& spec, const std::string& what) {
  ConfigReader config(spec, what);
  FallbackPolicy policy;
  const auto strategy = config.choice("strategy", {"cascade", "alternative", "default"});
  if (!strategy) config.fail("'strategy' is required: one of 'cascade', 'alternative', 'default'");
  policy.errors = config.strings("errors");
  if (*strategy == "cascade") {
    policy.strategy = FallbackPolicy::Strategy::Cascade;
    policy.models = config.strings("models");
    if (policy.models.empty()) config.fail("a cascade needs 'models': the models to try, in order");
    for (std::size_t i = 0; i < policy.models.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (policy.models[i] == policy.models[j]) config.fail("'models' lists the same model twice (a cascade cannot revisit a model)");
  } else if (*strategy == "alternative") {
    policy.strategy = FallbackPolicy::Strategy::Alternative;
    policy.tools = config.strings("tools");
    if (policy.tools.empty()) config.fail("an alternative fallback needs 'tools': the tools to try, in order");
  } else {
    policy.strategy = FallbackPolicy::Strategy::Default;
    if (!config.has("value")) config.fail("a default fallback needs 'value': the result to use instead");
    policy.value = spec.at("value");
    policy.log = config.boolean("log").value_or(false);
  }
  return policy;
}

const char* to_string(FallbackPolicy::Strategy strategy) noexcept {
  switch (strategy) {
    case FallbackPolicy::Strategy::Cascade: return "cascade";
    case FallbackPolicy::Strategy::Alternative: return "alternative";
    case FallbackPolicy::Strategy::Default: return "default";
  }
  return "?";
}

bool falls_back(const FallbackPolicy& policy, const protocol::WireError& error, bool retryable) {
  if (error.kind == "aborted" || error.kind == "budget") return false;  // hard stops, not failures
  if (policy.strategy == FallbackPolicy::Strategy::Cascade) return retryable || error.kind == "circuit_open" || matches_error(policy.errors, error);
  return policy.errors.empty() || matches_error(policy.errors, error);
}

}  // namespace lmthing::policy

// Fallback policies (defFallback): what to do when a call has failed for good (after its retries).
//   cascade      the next model in the list takes over (runs and agents);
//   alternative  the same arguments go to other tools, in order;
//   default      a fixed value stands in for the result.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/messages.hpp"

namespace lmthing::policy {

struct FallbackPolicy {
  enum class Strategy { Cascade, Alternative, Default };
  Strategy strategy = Strategy::Default;
  std::vector<std::string> models;  // cascade: model references, tried in order after the failing one
  std::vector<std::string> tools;   // alternative: tool names, tried in order
  nlohmann::json value;             // default: the stand-in result
  bool log = false;                 // default: also report the substitution as a warning log event
  // Errors (kind, code or message substring) that trigger the fallback besides the retryable ones
  // (cascade); for alternative/default, when non-empty, ONLY these trigger it.
  std::vector<std::string> errors;
};

// Parses {strategy: 'cascade'|'alternative'|'default', models | tools | value, log, errors}.
// Throws std::invalid_argument naming `what` and the field.
FallbackPolicy parse_fallback(const nlohmann::json& spec, const std::string& what);

const char* to_string(FallbackPolicy::Strategy strategy) noexcept;

// Whether the policy takes over after `error`. `retryable` says whether the error was a retryable
// one (cascade moves on after retryable errors whose retries ran out).
bool falls_back(const FallbackPolicy& policy, const protocol::WireError& error, bool retryable);

}  // namespace lmthing::policy

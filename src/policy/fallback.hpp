// Fallback policies (defFallback): what to do when a call has failed for good (after its retries).
//   cascade      the next model in the list takes over (runs and agents);
//   alternative  the same arguments go to other tools, in order;
//   default      a fixed value stands in for the result.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "protocol/json.hpp"

#include "protocol/messages.hpp"

namespace lmthing::policy {

struct FallbackPolicy {
  enum class Strategy { Cascade, Alternative, Default };
  Strategy strategy = Strategy::Default;
  std::vector<std::string> models;  // cascade: model references, tried in order after the failing one
  double retry_delay_ms = 0;        // cascade: wait this long before the next model
  int max_attempts = 0;             // cascade: models tried in all, the first included (0 = all)
  std::vector<std::string> tools;   // alternative: tool names, tried in order
  // alternative: per-tool lists instead ({searchAPI: [searchBackup, searchCache]}); a tool not listed
  // falls back to `tools`.
  std::map<std::string, std::vector<std::string>> per_tool;
  lmthing::Json value;  // default: the stand-in result
  bool log = false;     // default: also report the substitution as a warning log event
  // Errors (kind, code or message substring) that trigger the fallback besides the retryable ones
  // (cascade); for alternative/default, when non-empty, ONLY these trigger it.
  std::vector<std::string> errors;
};

// Parses {strategy: 'cascade'|'alternative'|'default', models, retryDelay, maxAttempts | tools,
// alternatives | value, log, errors}. Throws protocol::ProtocolError naming `what` and the field.
FallbackPolicy parse_fallback(const lmthing::Json& spec, const std::string& what);

// The alternative tools of `tool` under `policy`, in order.
const std::vector<std::string>& alternatives_of(const FallbackPolicy& policy, const std::string& tool);

const char* to_string(FallbackPolicy::Strategy strategy) noexcept;

// Whether the policy takes over after `error`. `retryable` says whether the error was a retryable
// one (cascade moves on after retryable errors whose retries ran out).
bool falls_back(const FallbackPolicy& policy, const protocol::WireError& error, bool retryable);

}  // namespace lmthing::policy

namespace lmthing::pipeline {
class ToolBox;
class RunTree;
}  // namespace lmthing::pipeline

namespace lmthing::policy {
// Refuses alternative fallbacks that name tools not in `tools` or lead back to a tool already tried.
void check_fallback_cycles(const pipeline::ToolBox& tools, const pipeline::RunTree& tree);
}  // namespace lmthing::policy

// The named policies of a run tree (defRetry, defFallback, defCircuitBreaker, defConstraint) and the
// state they keep: breaker states, the constraint ledger, the PRNG for jitter. A root run parses
// them from its spec; its sub-agent runs (spec.parentRun) share the same object, so one breaker and
// one budget cover the whole tree.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "policy/circuit_breaker.hpp"
#include "policy/constraints.hpp"
#include "policy/fallback.hpp"
#include "policy/retry.hpp"
#include "runtime/loop.hpp"
#include "runtime/random.hpp"

namespace lmthing::policy {

class RunPolicies {
 public:
  RunPolicies(Loop& loop, RunId root, std::uint64_t seed) : loop_(loop), root_(root), rng_(seed) {}
  RunPolicies(const RunPolicies&) = delete;
  RunPolicies& operator=(const RunPolicies&) = delete;

  // Reads {retries: {name: cfg}, fallbacks: {name: cfg}, circuitBreakers: {name: cfg},
  // constraints: [{name, type, ...}]}. Throws std::invalid_argument naming the bad definition.
  void define(const nlohmann::json& definitions);

  // Lookups by name; an unknown name throws std::invalid_argument listing the defined ones.
  const RetryPolicy& retry(const std::string& name) const;
  const FallbackPolicy& fallback(const std::string& name) const;
  CircuitBreaker& breaker(const std::string& name);

  Ledger& ledger() { return ledger_; }
  Random& rng() { return rng_; }
  RunId root() const { return root_; }
  // Policy-wide events (breaker state changes, constraint warnings) go to the root run.
  void emit(nlohmann::json event) const;

 private:
  Loop& loop_;
  RunId root_;
  Random rng_;
  std::map<std::string, RetryPolicy> retries_;
  std::map<std::string, FallbackPolicy> fallbacks_;
  std::map<std::string, std::unique_ptr<CircuitBreaker>> breakers_;
  Ledger ledger_;
};

// The error of a call refused by an open breaker (kind circuit_open, code CIRCUIT_OPEN).
protocol::WireError circuit_open_error(const std::string& name, double retry_in_ms);

// Which policies each live run uses. Owned by the engine.
class PolicyRegistry {
 public:
  // A root run gets new policies from spec.policies; a run with spec.parentRun shares its parent's
  // (and may not define its own). Throws std::invalid_argument on bad definitions or an unknown parent.
  std::shared_ptr<RunPolicies> attach(Loop& loop, RunId run, const nlohmann::json& spec);
  std::shared_ptr<RunPolicies> find(RunId run) const;
  void release(RunId run) { runs_.erase(run); }

 private:
  std::map<RunId, std::shared_ptr<RunPolicies>> runs_;
};

}  // namespace lmthing::policy

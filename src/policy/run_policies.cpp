#include "policy/run_policies.hpp"

#include <stdexcept>

namespace lmthing::policy {

using nlohmann::json;

namespace {

template <typename Map>
[[noreturn]] void unknown(const char* what, const std::string& name, const Map& defined) {
  std::string list;
  for (const auto& [key, _] : defined) list += (list.empty() ? "\"" : ", \"") + key + "\"";
  throw std::invalid_argument(std::string("unknown ") + what + " \"" + name + "\" (defined: " + (list.empty() ? "none" : list) + ")");
}

// Each named section is an object {name: config}.
template <typename Fn>
void each_named(const json& definitions, const char* section, Fn&& fn) {
  auto it = definitions.find(section);
  if (it == definitions.end()) return;
  if (!it->is_object()) throw std::invalid_argument(std::string("policies.") + section + " must be an object {name: config}, got " + it->dump());
  for (const auto& [name, config] : it->items()) {
    if (name.empty()) throw std::invalid_argument(std::string("policies.") + section + ": a policy name must not be empty");
    fn(name, config);
  }
}

}  // namespace

void RunPolicies::define(const json& definitions) {
  if (definitions.is_null()) return;
  if (!definitions.is_object())
    throw std::invalid_argument("policies must be an object {retries, fallbacks, circuitBreakers, constraints}, got " + definitions.dump());
  for (const auto& [section, _] : definitions.items())
    if (section != "retries" && section != "fallbacks" && section != "circuitBreakers" && section != "constraints")
      throw std::invalid_argument("policies: unknown section \"" + section + "\" (expected retries, fallbacks, circuitBreakers, constraints)");
  each_named(definitions, "retries",
             [&](const std::string& name, const json& config) { retries_.emplace(name, parse_retry(config, "retry \"" + name + "\"")); });
  each_named(definitions, "fallbacks",
             [&](const std::string& name, const json& config) { fallbacks_.emplace(name, parse_fallback(config, "fallback \"" + name + "\"")); });
  each_named(definitions, "circuitBreakers", [&](const std::string& name, const json& config) {
    CircuitBreakerConfig parsed;
    try {
      parsed = parse_circuit_breaker(config);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("circuit breaker \"" + name + "\": " + e.what());
    }
    auto listener = [this, name](CircuitState from, CircuitState to, double now_ms) {
      emit(json{{"type", "circuit-state"}, {"name", name}, {"from", to_string(from)}, {"to", to_string(to)}, {"atMs", now_ms}});
    };
    breakers_.emplace(name, std::make_unique<CircuitBreaker>(parsed, listener));
  });
  if (auto it = definitions.find("constraints"); it != definitions.end()) {
    if (!it->is_array()) throw std::invalid_argument("policies.constraints must be an array of {name, type, ...}, got " + it->dump());
    for (const auto& item : *it) ledger_.add(parse_constraint(item));
  }
}

const RetryPolicy& RunPolicies::retry(const std::string& name) const {
  auto it = retries_.find(name);
  if (it == retries_.end()) unknown("retry policy", name, retries_);
  return it->second;
}

const FallbackPolicy& RunPolicies::fallback(const std::string& name) const {
  auto it = fallbacks_.find(name);
  if (it == fallbacks_.end()) unknown("fallback", name, fallbacks_);
  return it->second;
}

CircuitBreaker& RunPolicies::breaker(const std::string& name) {
  auto it = breakers_.find(name);
  if (it == breakers_.end()) unknown("circuit breaker", name, breakers_);
  return *it->second;
}

void RunPolicies::emit(json event) const { loop_.emit(json{{"type", "run.event"}, {"run", root_}, {"event", std::move(event)}}); }

protocol::WireError circuit_open_error(const std::string& name, double retry_in_ms) {
  return protocol::WireError{"circuit_open", "circuit breaker \"" + name + "\" is open; failing fast",
                             json{{"code", "CIRCUIT_OPEN"}, {"breaker", name}, {"retryInMs", retry_in_ms}}};
}

std::shared_ptr<RunPolicies> PolicyRegistry::attach(Loop& loop, RunId run, const json& spec) {
  if (auto parent = spec.find("parentRun"); parent != spec.end()) {
    if (!parent->is_number_unsigned()) throw std::invalid_argument("\"parentRun\" must be the id of an active run, got " + parent->dump());
    auto shared = find(parent->get<RunId>());
    if (!shared) throw std::invalid_argument("\"parentRun\": no active run with id " + parent->dump());
    if (spec.contains("policies"))
      throw std::invalid_argument("a sub-run shares its parent's policies and cannot define its own (\"policies\" given with \"parentRun\")");
    runs_[run] = shared;
    return shared;
  }
  const std::uint64_t seed = spec.contains("seed") && spec["seed"].is_number_unsigned() ? spec["seed"].get<std::uint64_t>() : run;
  auto policies = std::make_shared<RunPolicies>(loop, run, seed);
  policies->define(spec.contains("policies") ? spec["policies"] : json());
  policies->ledger().start(loop.now_ms());
  runs_[run] = policies;
  return policies;
}

std::shared_ptr<RunPolicies> PolicyRegistry::find(RunId run) const {
  auto it = runs_.find(run);
  return it == runs_.end() ? nullptr : it->second;
}

}  // namespace lmthing::policy

// defCircuitBreaker: the `circuitBreaker` definition kind and its interceptor. The breaker's state
// lives in the run tree, so one breaker covers every run and branch that names it.
#include <algorithm>

#include "pipeline/registry.hpp"
#include "policy/circuit_breaker.hpp"

namespace lmthing::policy {

namespace {

using pipeline::Call;
using pipeline::CallKind;
using pipeline::Next;

void record(CircuitBreaker& breaker, const std::optional<protocol::WireError>& failure, double now_ms) {
  if (!failure)
    breaker.record_success(now_ms);
  else if (failure->kind == "aborted")
    breaker.record_cancelled(now_ms);
  else
    breaker.record_failure(now_ms);
}

// Each attempt asks the breaker first (an open breaker fails fast with CIRCUIT_OPEN) and reports
// its outcome after.
class BreakerInterceptor : public pipeline::Interceptor {
 public:
  BreakerInterceptor(std::string name, CircuitBreaker& breaker, std::vector<std::string> guarded)
      : name_(std::move(name)), breaker_(breaker), guarded_(std::move(guarded)) {}

  Task<json> intercept(Call call, Next next) override {
    // A run's breaker guards the run's own models; cascade and hook models pass by.
    if (!guarded_.empty() && std::find(guarded_.begin(), guarded_.end(), call.target) == guarded_.end()) co_return co_await next(std::move(call));
    Loop& loop = call.env->loop;
    if (auto admission = breaker_.admit(loop.now_ms()); !admission) throw OpFailed(circuit_open_error(name_, admission.retry_in_ms));
    std::optional<protocol::WireError> failure;
    json value;
    try {
      value = co_await next(std::move(call));
    } catch (const OpFailed& e) {
      failure = e.error;
    }
    record(breaker_, failure, loop.now_ms());
    if (failure) throw OpFailed(*failure);
    co_return value;
  }

 private:
  std::string name_;
  CircuitBreaker& breaker_;
  std::vector<std::string> guarded_;  // model targets only: the models this breaker guards
};

void define_breaker(pipeline::RunTree& tree, const std::string& name, const protocol::FieldReader& config) {
  // `states` (the proposal lists them) is informational; anything but the three states is a mistake.
  for (const auto& state : config.strings("states"))
    if (state != "closed" && state != "open" && state != "half-open")
      config.fail("'states' may list only 'closed', 'open' and 'half-open', got \"" + state + "\"");
  json settings = config.object();
  settings.erase("states");
  CircuitBreakerConfig parsed;
  try {
    parsed = parse_circuit_breaker(settings);
  } catch (const std::invalid_argument& e) {
    config.fail(e.what());
  }
  pipeline::RunTree* owner = &tree;  // the tree owns the breaker, so it outlives the listener
  auto listener = [owner, name](CircuitState from, CircuitState to, double now_ms) {
    owner->emit(json{{"type", "circuit-state"}, {"name", name}, {"from", to_string(from)}, {"to", to_string(to)}, {"atMs", now_ms}});
  };
  tree.definitions().add("circuitBreaker", name, std::make_shared<CircuitBreaker>(parsed, listener));
}

std::unique_ptr<pipeline::Interceptor> make_breaker(const pipeline::Target& target) {
  const bool model = target.kind == CallKind::Model;
  protocol::FieldReader options(target.options, model ? std::string("the run's model options") : "tool \"" + target.tool->name + "\"");
  auto name = options.optional_string("circuitBreaker");
  if (!name) return nullptr;
  CircuitBreaker& breaker = target.tree.definitions().get<CircuitBreaker>("circuitBreaker", *name);
  return std::make_unique<BreakerInterceptor>(*name, breaker, model ? target.run.primary_models : std::vector<std::string>{});
}

}  // namespace

protocol::WireError circuit_open_error(const std::string& name, double retry_in_ms) {
  return protocol::WireError{"circuit_open", "circuit breaker \"" + name + "\" is open; failing fast",
                             json{{"code", "CIRCUIT_OPEN"}, {"breaker", name}, {"retryInMs", retry_in_ms}}};
}

}  // namespace lmthing::policy

namespace lmthing::pipeline::registered {
extern const DefinitionKind circuit_breaker_kind{
    "circuitBreaker", "circuit breaker", {"failureThreshold", "resetTimeout", "halfOpenRequests", "states"}, policy::define_breaker, nullptr};
extern const InterceptorType breaker_interceptor{"breaker", {"circuitBreaker"}, {"circuitBreaker"}, policy::make_breaker};
}  // namespace lmthing::pipeline::registered

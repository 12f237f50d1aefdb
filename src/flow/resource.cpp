#include "flow/resource.hpp"

#include "flow/flow_error.hpp"
#include "pipeline/registry.hpp"

namespace lmthing::flow {

using protocol::FieldReader;
using protocol::WireError;

namespace {

// Clean-up callbacks run after the run; one that hangs must not keep the run from ending.
constexpr double kTearDownTimeoutMs = 30000;

bool truthy(const json& v) { return v.is_boolean() ? v.get<bool>() : !v.is_null(); }

WireError resource_error(const std::string& code, const std::string& name, std::string message, const WireError* cause = nullptr) {
  json extra{{"resource", name}};
  if (cause) extra["cause"] = cause_of(*cause);
  return flow_error("resource", code, std::move(message), std::move(extra));
}

pipeline::CallEnv inside(const pipeline::CallEnv& env, RunId run) {
  pipeline::CallEnv out = env;
  out.run = run;
  return out;
}

}  // namespace

// ------------------------------------------------------------------------------------------ Resource

class Resource::Wait {
 public:
  explicit Wait(std::shared_ptr<Waiter> waiter) : waiter_(std::move(waiter)) {}
  bool await_ready() const noexcept { return waiter_->value || waiter_->error; }
  void await_suspend(coro::coroutine_handle<> handle) noexcept { waiter_->handle = handle; }
  json await_resume() {
    if (waiter_->error) throw OpFailed(*waiter_->error);
    return std::move(*waiter_->value);
  }

 private:
  std::shared_ptr<Waiter> waiter_;
};

Task<json> Resource::get(const pipeline::CallEnv& env, std::shared_ptr<SetupOrder> order) {
  if (ended_) throw OpFailed(WireError{"aborted", "resource \"" + spec_.name + "\": the run has ended", json::object()});
  if (!scope_) scope_ = ScopeRef::open(env.loop, env.tree->root());
  auto waiter = std::make_shared<Waiter>();
  if (!flight_) {
    flight_.emplace();
    env.loop.spawn(fly(shared_from_this(), inside(env, scope_.id()), order));
  }
  flight_->push_back(waiter);
  co_return co_await Wait(waiter);
}

// One initialization (or health check) that every get arriving meanwhile shares.
Task<void> Resource::fly(std::shared_ptr<Resource> self, pipeline::CallEnv env, std::shared_ptr<SetupOrder> order) {
  std::optional<json> value;
  std::optional<WireError> error;
  try {
    value = co_await self->ensure(env, *order);
  } catch (const OpFailed& e) {
    error = e.error;
  }
  std::list<std::shared_ptr<Waiter>> waiters = std::move(*self->flight_);
  self->flight_.reset();
  for (auto& waiter : waiters) {
    if (error)
      waiter->error = error;
    else
      waiter->value = value;
    if (waiter->handle) env.loop.schedule(waiter->handle);
  }
}

Task<json> Resource::ensure(const pipeline::CallEnv& env, SetupOrder& order) {
  const std::string label = "resource \"" + spec_.name + "\"";
  if (handle_ && spec_.health_check) {
    bool healthy = false;
    std::string why;
    try {
      healthy = truthy(co_await call_callback(env, *spec_.health_check, json::array({*handle_}), label + " healthCheck"));
      if (!healthy) why = "healthCheck returned false";
    } catch (const OpFailed& e) {
      if (e.error.kind == "aborted") throw;
      why = "healthCheck failed: " + e.error.message;
    }
    if (healthy) co_return *handle_;
    env.emit(json{{"type", "resource-health"}, {"resource", spec_.name}, {"healthy", false}, {"reason", why}});
    co_await tear_down(env);
  }
  if (handle_) co_return *handle_;
  if (!spec_.initialize) {
    handle_ = nullptr;  // a resource without initialize has no value
  } else {
    std::optional<WireError> failure;
    try {
      const UserCall call{"resource." + spec_.name, label + " initialize", *spec_.initialize, &spec_.call};
      handle_ = co_await call_user(env, call, [&](int) { return json::array({json{{"resource", spec_.name}, {"type", spec_.type}}}); });
    } catch (const OpFailed& e) {
      failure = e.error;
    }
    if (failure) {
      if (failure->kind == "aborted") throw OpFailed(*failure);
      throw OpFailed(resource_error("RESOURCE_INIT_FAILED", spec_.name, label + ": initialize failed: " + failure->message, &*failure));
    }
  }
  order_ = order.next++;
  env.emit(json{{"type", "resource-initialized"}, {"resource", spec_.name}, {"resourceType", spec_.type}});
  co_return *handle_;
}

Task<void> Resource::end(const pipeline::CallEnv& env) {
  ended_ = true;
  // An initialization or health check in progress stops here, so no value appears after the run.
  if (scope_) env.loop.cancel_run(scope_.id(), WireError{"aborted", "resource \"" + spec_.name + "\": the run has ended", json::object()});
  co_await tear_down(env);
}

Task<void> Resource::tear_down(const pipeline::CallEnv& env) {
  if (!handle_) co_return;
  json handle = std::move(*handle_);
  handle_.reset();
  order_ = 0;
  json event{{"type", "resource-cleanup"}, {"resource", spec_.name}, {"ok", true}};
  if (spec_.cleanup) {
    std::optional<WireError> failure;
    try {
      co_await env.loop.op(env.run, "callback.invoke", json{{"fn", *spec_.cleanup}, {"args", json::array({handle})}}, kTearDownTimeoutMs,
                           "resource \"" + spec_.name + "\" cleanup");
    } catch (const OpFailed& e) {
      failure = e.error;
    }
    if (failure) {
      event["ok"] = false;
      event["error"] = failure->message;
    }
  }
  env.emit(std::move(event));
}

// ----------------------------------------------------------------------------------------------- Pool

pipeline::CallEnv Pool::own_env(const pipeline::CallEnv& env) const { return inside(env, scope_.id()); }

Task<json> Pool::acquire(const pipeline::CallEnv& env, std::shared_ptr<SetupOrder> order) {
  const std::string label = "resource pool \"" + spec_.name + "\"";
  if (drained_) throw OpFailed(WireError{"aborted", label + ": the run has ended", json::object()});
  if (!scope_) {
    scope_ = ScopeRef::open(env.loop, env.tree->root());
    env_.emplace(own_env(env));
    order_ = order->next++;
    if (spec_.min > 0) env.loop.spawn(warm_up(shared_from_this(), *env_));
  }
  while (!idle_.empty()) {
    const std::string key = idle_.front();
    idle_.pop_front();
    items_.at(key).in_use = true;  // taken while it is being validated
    if (spec_.validate) {
      bool valid = false;
      try {
        valid = truthy(co_await call_callback(*env_, *spec_.validate, json::array({items_.at(key).handle}), label + " validate"));
      } catch (const OpFailed& e) {
        if (e.error.kind == "aborted") throw;
      }
      if (drained_) throw OpFailed(WireError{"aborted", label + ": the run has ended", json::object()});
      if (!valid) {
        destroy(key);
        continue;
      }
    }
    co_return items_.at(key).handle;
  }
  if (size() < spec_.max) co_return co_await create(*env_);
  // Every value is out: wait in line for the next one released.
  auto waiter = std::make_shared<Waiter>();
  waiters_.push_back(waiter);
  std::optional<WireError> failure;
  try {
    co_await env.loop.sleep(env.run, spec_.acquire_timeout_ms).tracked(&waiter->timer);
  } catch (const OpFailed& e) {
    failure = e.error;  // the acquirer was cancelled
  }
  waiters_.remove(waiter);
  if (waiter->handle) co_return *waiter->handle;
  if (waiter->error) throw OpFailed(*waiter->error);
  if (failure) throw OpFailed(*failure);
  throw OpFailed(resource_error("POOL_ACQUIRE_TIMEOUT", spec_.name,
                                label + ": no value was free within acquireTimeout (" + format_ms(spec_.acquire_timeout_ms) + " ms; all " +
                                    std::to_string(spec_.max) + " are in use)"));
}

Task<json> Pool::create(pipeline::CallEnv env) {
  ++creating_;
  std::optional<json> handle;
  std::optional<WireError> failure;
  try {
    handle = co_await env.loop.op(env.run, "callback.invoke", json{{"fn", spec_.factory}, {"args", json::array({json{{"pool", spec_.name}}})}}, 0,
                                  "resource pool \"" + spec_.name + "\" factory");
  } catch (const OpFailed& e) {
    failure = e.error;
  }
  --creating_;
  if (failure) {
    if (failure->kind == "aborted") throw OpFailed(*failure);
    throw OpFailed(resource_error("POOL_CREATE_FAILED", spec_.name, "resource pool \"" + spec_.name + "\": the factory failed: " + failure->message, &*failure));
  }
  const std::string key = handle->dump();
  items_[key] = Item{*handle, true, 0};
  env.emit(json{{"type", "pool-item"}, {"pool", spec_.name}, {"action", "created"}, {"size", size()}});
  co_return *handle;
}

Task<void> Pool::warm_up(std::shared_ptr<Pool> self, pipeline::CallEnv env) {
  while (!self->drained_ && self->size() < self->spec_.min) {
    json handle;
    try {
      handle = co_await self->create(env);
    } catch (const OpFailed&) {
      co_return;  // the next acquire tries the factory itself and reports its error
    }
    if (self->drained_) {
      self->destroy(handle.dump());
      co_return;
    }
    self->items_.at(handle.dump()).in_use = false;
    if (!self->hand_over(handle.dump())) self->make_idle(handle.dump());
  }
}

void Pool::release(const json& handle) {
  if (drained_) return;  // every value is gone already
  const std::string key = handle.dump();
  auto it = items_.find(key);
  if (it == items_.end() || !it->second.in_use)
    throw OpFailed(resource_error("RESOURCE_NOT_ACQUIRED", spec_.name,
                                  "resource pool \"" + spec_.name + "\": release of a value that is not acquired from it (handle " + key + ")"));
  it->second.in_use = false;
  if (!hand_over(key)) make_idle(key);
}

// Gives an item to the longest-waiting acquirer, if any is still waiting.
bool Pool::hand_over(const std::string& key) {
  while (!waiters_.empty()) {
    std::shared_ptr<Waiter> waiter = waiters_.front();
    waiters_.pop_front();
    waiter->handle = items_.at(key).handle;
    // A waiter whose timer already fired (resuming in this turn) has given up: try the next.
    if (env_->loop.settle_early(waiter->timer, nullptr, "a pool value was released to it")) {
      items_.at(key).in_use = true;
      return true;
    }
    waiter->handle.reset();
  }
  return false;
}

void Pool::make_idle(const std::string& key) {
  Item& item = items_.at(key);
  item.idle_since = ++idle_periods_;
  idle_.push_back(key);
  if (spec_.idle_timeout_ms > 0) env_->loop.spawn(expire(shared_from_this(), *env_, key, item.idle_since));
}

Task<void> Pool::expire(std::shared_ptr<Pool> self, pipeline::CallEnv env, std::string key, std::uint64_t since) {
  try {
    co_await env.loop.sleep(env.run, self->spec_.idle_timeout_ms);
  } catch (const OpFailed&) {
    co_return;  // drained
  }
  auto it = self->items_.find(key);
  if (it == self->items_.end() || it->second.in_use || it->second.idle_since != since || self->size() <= self->spec_.min) co_return;
  self->idle_.erase(std::remove(self->idle_.begin(), self->idle_.end(), key), self->idle_.end());
  self->destroy(key);
}

void Pool::destroy(const std::string& key) {
  auto it = items_.find(key);
  if (it == items_.end()) return;
  json handle = std::move(it->second.handle);
  items_.erase(it);
  env_->emit(json{{"type", "pool-item"}, {"pool", spec_.name}, {"action", "destroyed"}, {"size", size()}});
  if (spec_.destroy) env_->loop.spawn(destroy_value(shared_from_this(), *env_, std::move(handle)));
}

Task<void> Pool::destroy_value(std::shared_ptr<Pool> self, pipeline::CallEnv env, json handle) {
  try {
    co_await env.loop.op(env.run, "callback.invoke", json{{"fn", *self->spec_.destroy}, {"args", json::array({std::move(handle)})}}, kTearDownTimeoutMs,
                         "resource pool \"" + self->spec_.name + "\" destroy");
  } catch (const OpFailed&) {
    // A value that fails to go away is the host's to report; the pool has forgotten it.
  }
}

Task<void> Pool::tear_down(const pipeline::CallEnv& env) {
  drained_ = true;
  if (!scope_) co_return;
  const WireError ended{"aborted", "resource pool \"" + spec_.name + "\": the run has ended", json::object()};
  for (auto& waiter : std::exchange(waiters_, {})) {
    waiter->error = ended;
    env.loop.settle_early(waiter->timer, nullptr, "the run has ended");
  }
  env.loop.cancel_run(scope_.id(), ended);  // idle timers, a warm-up in progress
  idle_.clear();
  std::size_t destroyed = 0;
  for (auto& [key, item] : std::exchange(items_, {})) {
    ++destroyed;
    if (!spec_.destroy) continue;
    try {
      co_await env.loop.op(env.run, "callback.invoke", json{{"fn", *spec_.destroy}, {"args", json::array({item.handle})}}, kTearDownTimeoutMs,
                           "resource pool \"" + spec_.name + "\" destroy");
    } catch (const OpFailed&) {
    }
  }
  env.emit(json{{"type", "pool-item"}, {"pool", spec_.name}, {"action", "drained"}, {"size", 0}, {"destroyed", destroyed}});
}

// ---------------------------------------------------------------------------------------- definitions

namespace {

void define_resource(pipeline::RunTree& tree, const std::string& name, const FieldReader& config) {
  Resource::Spec spec;
  spec.name = name;
  spec.type = config.optional_string("type", true).value_or("");
  spec.initialize = config.optional_string("initialize");
  spec.cleanup = config.optional_string("cleanup");
  spec.health_check = config.optional_string("healthCheck");
  if (config.has("retryPolicy")) {
    const json& retry = config.at("retryPolicy");
    if (retry.is_string())
      spec.call.retry_name = retry.get<std::string>();
    else if (retry.is_object())
      spec.call.retry = policy::parse_retry(retry, config.where() + ": retryPolicy");
    else
      config.bad("retryPolicy", "a defRetry policy name or a retry config {maxAttempts, backoff, baseDelay, maxDelay, jitter}");
  }
  tree.definitions().add("resource", name, std::make_shared<Resource>(std::move(spec)));
}

void link_resources(pipeline::RunTree& tree) {
  for (auto& [name, resource] : tree.definitions().all<Resource>("resource"))
    if (tree.definitions().own("resource", name)) resolve_call_policy(resource->spec().call, tree, "resource \"" + name + "\"");
}

void define_pool(pipeline::RunTree& tree, const std::string& name, const FieldReader& config) {
  Pool::Spec spec;
  spec.name = name;
  spec.factory = config.string("factory");
  spec.destroy = config.optional_string("destroy");
  spec.validate = config.optional_string("validate");
  spec.min = static_cast<std::size_t>(config.integer("min", 0, 100000).value_or(0));
  spec.max = static_cast<std::size_t>(config.integer("max", 1, 100000).value_or(10));
  if (spec.min > spec.max) config.fail("\"min\" (" + std::to_string(spec.min) + ") must not exceed \"max\" (" + std::to_string(spec.max) + ")");
  spec.acquire_timeout_ms = config.ms("acquireTimeout").value_or(30000);
  spec.idle_timeout_ms = config.ms("idleTimeout").value_or(0);
  tree.definitions().add("resourcePool", name, std::make_shared<Pool>(std::move(spec)));
}

}  // namespace

}  // namespace lmthing::flow

namespace lmthing::pipeline::registered {
extern const DefinitionKind resource_kind{
    "resource", "resource", {"type", "initialize", "cleanup", "healthCheck", "retryPolicy"}, flow::define_resource, flow::link_resources};
extern const DefinitionKind resource_pool_kind{"resourcePool",
                                               "resource pool",
                                               {"factory", "destroy", "validate", "min", "max", "acquireTimeout", "idleTimeout"},
                                               flow::define_pool,
                                               nullptr};
}  // namespace lmthing::pipeline::registered

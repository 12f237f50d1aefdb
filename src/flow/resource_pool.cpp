#include "flow/resource_pool.hpp"

#include <algorithm>

#include "flow/flow_error.hpp"
#include "flow/task_group.hpp"
#include "flow/user_call.hpp"
#include "pipeline/registry.hpp"
#include "pipeline/run_tree.hpp"

namespace lmthing::flow {

using protocol::FieldReader;
using protocol::WireError;

namespace {

std::string pool_label(const std::string& name) { return "resource pool \"" + name + "\""; }

WireError pool_ended_error(const std::string& name) {
  return WireError{"aborted", pool_label(name) + ": the run that defined it has ended", json::object()};
}

WireError pool_error(const std::string& code, const std::string& name, std::string message, const WireError* cause = nullptr) {
  json extra{{"resource", name}};
  if (cause) extra["cause"] = cause_of(*cause);
  return flow_error("resource", code, std::move(message), std::move(extra));
}

bool passes_validation(const json& v) { return v.is_boolean() ? v.get<bool>() : !v.is_null(); }

}  // namespace

Task<json> Pool::acquire(const pipeline::CallEnv& env) {
  const std::string label = pool_label(spec_.name);
  if (ended_ || !owner_) throw OpFailed(pool_ended_error(spec_.name));
  if (!started_) {
    started_ = true;
    order_ = env.tree->tree_services().get<SetupOrder>().next++;
    if (spec_.min > 0) env.loop.spawn(warm_up(shared_from_this(), env));
  }
  auto self = shared_from_this();  // the run may end while this acquire waits
  while (!idle_.empty()) {
    const std::string key = idle_.front();
    idle_.pop_front();
    if (auto timer = idle_timers_.find(key); timer != idle_timers_.end()) {
      env.loop.settle_early(timer->second, nullptr, "the pool value is in use again");
      idle_timers_.erase(timer);
    }
    items_.at(key).in_use = true;  // taken while it is validated
    if (spec_.validate) {
      bool valid = false;
      try {
        // Built before the co_await: g++ 12 cannot keep a braced list's array alive across one.
        json args = json::array({items_.at(key).handle});
        valid = passes_validation(co_await call_callback(env, *spec_.validate, std::move(args), label + " validate", nullptr));
      } catch (const OpFailed& e) {
        if (e.error.kind == "aborted" || env.cancelled()) {
          give_back(key);  // the caller left during the check: the value is as it was
          throw;
        }
      }
      if (ended_) throw OpFailed(pool_ended_error(spec_.name));
      if (!valid) {
        forget(key);
        continue;
      }
    }
    co_return items_.at(key).handle;
  }
  if (size() < spec_.max) {
    ++creating_;  // now: the factory call starts later, and concurrent acquirers must see it
    // The new value is the pool's: it is made outside the caller's cancellation scope, so a caller
    // that leaves meanwhile (its step timed out) leaves it to the pool instead of losing it.
    std::optional<json> made;
    std::exception_ptr failed;
    TaskGroup factory(env.loop);
    factory.start(create_into(self, env, made, failed));
    co_await factory.wait_all();
    if (failed) std::rethrow_exception(failed);
    if (const WireError* left = env.loop.scope_cancelled(env.scope)) {
      give_back(made->dump());
      throw OpFailed(*left);
    }
    co_return std::move(*made);
  }
  // Every value is out: wait in line for the next one released.
  auto waiter = std::make_shared<Waiter>();
  waiters_.push_back(waiter);
  std::optional<WireError> failure;
  try {
    co_await env.loop.sleep(env.run, spec_.acquire_timeout_ms).tracked(&waiter->timer);
  } catch (const OpFailed& e) {
    failure = e.error;  // the acquirer's run was cancelled
  }
  waiters_.remove(waiter);
  if (waiter->handle) co_return *waiter->handle;
  if (waiter->error) throw OpFailed(*waiter->error);
  if (failure) throw OpFailed(*failure);
  throw OpFailed(pool_error("POOL_ACQUIRE_TIMEOUT", spec_.name,
                            label + ": no value was free within acquireTimeout (" + format_ms(spec_.acquire_timeout_ms) + " ms; all " +
                                std::to_string(spec_.max) + " are in use)"));
}

Task<void> Pool::create_into(std::shared_ptr<Pool> self, pipeline::CallEnv env, std::optional<json>& made, std::exception_ptr& failed) {
  env.scope = 0;
  try {
    made = co_await self->create(env);
  } catch (...) {
    failed = std::current_exception();
  }
}

// A value taken for a caller that left before it got it: to the next one waiting, else idle.
void Pool::give_back(const std::string& key) {
  if (ended_ || !items_.count(key)) return;
  items_.at(key).in_use = false;
  if (!hand_over(key)) make_idle(key);
}

// The caller has counted this value in `creating_` already.
Task<json> Pool::create(pipeline::CallEnv env) {
  std::optional<WireError> failure;
  json handle;
  try {
    json args = json::array({json{{"pool", spec_.name}}});  // before the co_await (g++ 12)
    handle = co_await call_callback(env, spec_.factory, std::move(args), pool_label(spec_.name) + " factory", nullptr);
  } catch (const OpFailed& e) {
    failure = e.error;
  }
  --creating_;
  if (failure) {
    if (failure->kind == "aborted") throw OpFailed(*failure);
    throw OpFailed(pool_error("POOL_FACTORY_FAILED", spec_.name, pool_label(spec_.name) + ": the factory failed: " + failure->message, &*failure));
  }
  const std::string key = handle.dump();
  if (ended_ || items_.count(key)) {
    // Too late (the run ended), or a handle the host gave twice: it cannot be handed out.
    if (!ended_)
      throw OpFailed(pool_error("POOL_FACTORY_FAILED", spec_.name, pool_label(spec_.name) + ": the factory answered handle " + key + " twice"));
    owner_->loop.spawn(destroy_value(shared_from_this(), handle));
    throw OpFailed(pool_ended_error(spec_.name));
  }
  items_[key] = Item{handle, true, 0};
  emit(json{{"type", "pool-item"}, {"pool", spec_.name}, {"action", "created"}, {"size", size()}});
  co_return handle;
}

Task<void> Pool::warm_up(std::shared_ptr<Pool> self, pipeline::CallEnv env) {
  while (!self->ended_ && self->size() < self->spec_.min) {
    json handle;
    ++self->creating_;
    try {
      handle = co_await self->create(env);
    } catch (const OpFailed&) {
      co_return;  // the next acquire calls the factory itself and reports its error
    }
    const std::string key = handle.dump();
    self->items_.at(key).in_use = false;
    if (!self->hand_over(key)) self->make_idle(key);
  }
}

void Pool::release(const json& handle) {
  if (ended_) return;  // every value is gone already
  const std::string key = handle.dump();
  auto it = items_.find(key);
  if (it == items_.end() || !it->second.in_use)
    throw OpFailed(pool_error("RESOURCE_NOT_ACQUIRED", spec_.name, pool_label(spec_.name) + ": release of a value that is not acquired from it"));
  it->second.in_use = false;
  if (!hand_over(key)) make_idle(key);
}

// Gives the value to the longest-waiting acquirer still waiting, if any.
bool Pool::hand_over(const std::string& key) {
  while (!waiters_.empty()) {
    std::shared_ptr<Waiter> waiter = waiters_.front();
    waiters_.pop_front();
    // A waiter whose timer already fired (it resumes this turn) has given up: try the next one.
    if (owner_->loop.settle_early(waiter->timer, nullptr, "a pool value was released to it")) {
      waiter->handle = items_.at(key).handle;
      items_.at(key).in_use = true;
      return true;
    }
  }
  return false;
}

void Pool::make_idle(const std::string& key) {
  Item& item = items_.at(key);
  item.idle_since = ++idle_periods_;
  idle_.push_back(key);
  if (spec_.idle_timeout_ms > 0) owner_->loop.spawn(expire(shared_from_this(), key, item.idle_since));
}

Task<void> Pool::expire(std::shared_ptr<Pool> self, std::string key, std::uint64_t since) {
  Loop& loop = self->owner_->loop;
  try {
    co_await loop.sleep(self->owner_->run, self->spec_.idle_timeout_ms).tracked(&self->idle_timers_[key]);
  } catch (const OpFailed&) {
    co_return;  // the owner run was cancelled: end() destroys the value
  }
  auto it = self->items_.find(key);
  if (self->ended_ || it == self->items_.end() || it->second.in_use || it->second.idle_since != since) co_return;
  self->idle_timers_.erase(key);
  if (self->size() <= self->spec_.min) co_return;
  self->idle_.erase(std::remove(self->idle_.begin(), self->idle_.end(), key), self->idle_.end());
  self->forget(key);
}

void Pool::forget(const std::string& key) {
  auto it = items_.find(key);
  if (it == items_.end()) return;
  json handle = std::move(it->second.handle);
  items_.erase(it);
  emit(json{{"type", "pool-item"}, {"pool", spec_.name}, {"action", "destroyed"}, {"size", size()}});
  owner_->loop.spawn(destroy_value(shared_from_this(), std::move(handle)));
}

Task<void> Pool::destroy_value(std::shared_ptr<Pool> self, json handle) {
  if (self->spec_.destroy) co_await self->destroy(std::move(handle));
}

// Calls the pool's destroy on a value it has forgotten; one that throws (or times out) is reported
// as a resource's failed clean-up is. Returns whether it went.
Task<bool> Pool::destroy(json handle) {
  std::optional<WireError> failure;
  try {
    json request{{"fn", *spec_.destroy}, {"args", json::array({std::move(handle)})}};  // before the co_await (g++ 12)
    co_await owner_->loop.op(kCleanupRun, "callback.invoke", std::move(request), kCleanupTimeoutMs, pool_label(spec_.name) + " destroy");
  } catch (const OpFailed& e) {
    failure = e.error;
  }
  if (!failure) co_return true;
  emit(json{{"type", "resource-cleanup"}, {"resource", spec_.name}, {"pool", spec_.name}, {"ok", false}, {"error", failure->message}});
  co_return false;
}

Task<void> Pool::end() {
  ended_ = true;
  if (!started_) co_return;
  Loop& loop = owner_->loop;
  for (auto& waiter : std::exchange(waiters_, {})) {
    waiter->error = pool_ended_error(spec_.name);
    loop.settle_early(waiter->timer, nullptr, "the run has ended");
  }
  for (auto& [key, timer] : std::exchange(idle_timers_, {})) loop.settle_early(timer, nullptr, "the run has ended");
  idle_.clear();
  std::size_t destroyed = 0;
  std::size_t failed = 0;
  for (auto& [key, item] : std::exchange(items_, {})) {
    bool gone = true;
    if (spec_.destroy) gone = co_await destroy(item.handle);
    if (gone)
      ++destroyed;
    else
      ++failed;
  }
  json drained{{"type", "pool-drained"}, {"pool", spec_.name}, {"destroyed", destroyed}};
  if (failed > 0) drained["failed"] = failed;
  emit(std::move(drained));
}

// ---------------------------------------------------------------------------------------- definition

namespace {

void define_pool(pipeline::RunTree& tree, const std::string& name, const FieldReader& config) {
  PoolSpec spec;
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
extern const DefinitionKind resource_pool_kind{
    "resourcePool", "resource pool", {"factory", "destroy", "validate", "min", "max", "acquireTimeout", "idleTimeout"}, flow::define_pool, nullptr};
}  // namespace lmthing::pipeline::registered

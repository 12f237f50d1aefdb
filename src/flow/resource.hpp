// Resources (defResource) and resource pools (defResourcePool). Their values (a database pool, an
// HTTP client) live in the host, which is the only place they can: the engine owns their lifecycle
// and refers to each value by the opaque handle the host's callback answered with.
//
// A resource is initialized on its first `get` (concurrent first gets share one initialization),
// health-checked before every later use (an unhealthy value is cleaned up and initialized again),
// initialized with retries as its retryPolicy says, and cleaned up when the run that defined it
// ends, however it ends, in the reverse order of initialization (pools included).
//
// A pool creates values with its factory up to `max`, keeps at least `min` once used, hands out idle
// values first (after `validate`), and queues acquirers first come, first served; an acquirer not
// served within `acquireTimeout` fails (kind `resource`, code POOL_ACQUIRE_TIMEOUT). Values idle for
// `idleTimeout` are destroyed down to `min`. At the end of the run every value is destroyed.
#pragma once

#include <deque>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "flow/user_call.hpp"
#include "runtime/scope.hpp"

namespace lmthing::flow {

// The order in which a run tree's resources and pools were set up, for tearing them down backwards.
struct SetupOrder {
  std::uint64_t next = 1;
};

class Resource : public std::enable_shared_from_this<Resource> {
 public:
  struct Spec {
    std::string name;
    std::string type;
    std::optional<std::string> initialize, cleanup, health_check;  // callbacks
    CallPolicy call;  // retries of initialize
  };
  explicit Resource(Spec spec) : spec_(std::move(spec)) {}

  // The handle of the resource's value, initializing it (or re-initializing an unhealthy one) first.
  Task<json> get(const pipeline::CallEnv& env, std::shared_ptr<SetupOrder> order);
  // The run ended: stops what is in progress and cleans the value up (cleanup callback in `env`,
  // outside the run); never throws. Later gets fail. Emits resource-cleanup.
  Task<void> end(const pipeline::CallEnv& env);

  const Spec& spec() const { return spec_; }
  Spec& spec() { return spec_; }
  std::uint64_t setup_order() const { return order_; }

 private:
  struct Waiter {
    coro::coroutine_handle<> handle;
    std::optional<json> value;
    std::optional<protocol::WireError> error;
  };
  class Wait;
  static Task<void> fly(std::shared_ptr<Resource> self, pipeline::CallEnv env, std::shared_ptr<SetupOrder> order);
  Task<json> ensure(const pipeline::CallEnv& env, SetupOrder& order);
  Task<void> tear_down(const pipeline::CallEnv& env);

  Spec spec_;
  std::optional<json> handle_;  // set once initialized
  std::uint64_t order_ = 0;
  ScopeRef scope_;  // its initializations and health checks: inside the tree's root, not a caller
  std::optional<std::list<std::shared_ptr<Waiter>>> flight_;  // gets waiting for the one in progress
  bool ended_ = false;
};

class Pool : public std::enable_shared_from_this<Pool> {
 public:
  struct Spec {
    std::string name;
    std::string factory;
    std::optional<std::string> destroy, validate;
    std::size_t min = 0;
    std::size_t max = 10;
    double acquire_timeout_ms = 30000;
    double idle_timeout_ms = 0;
  };
  explicit Pool(Spec spec) : spec_(std::move(spec)) {}

  // A value's handle: an idle one (validated), a new one, or the next one released (FIFO).
  Task<json> acquire(const pipeline::CallEnv& env, std::shared_ptr<SetupOrder> order);
  // Gives `handle` back; throws OpFailed (kind resource, RESOURCE_NOT_ACQUIRED) when it is not out.
  void release(const json& handle);
  // Fails the waiting acquirers and destroys every value (destroy callbacks in `env`); never throws.
  Task<void> tear_down(const pipeline::CallEnv& env);

  const Spec& spec() const { return spec_; }
  std::uint64_t setup_order() const { return order_; }
  std::size_t size() const { return items_.size() + creating_; }

 private:
  struct Item {
    json handle;
    bool in_use = false;
    std::uint64_t idle_since = 0;  // which idle period an expiry timer belongs to
  };
  struct Waiter {
    OpId timer = 0;
    std::optional<json> handle;
    std::optional<protocol::WireError> error;
  };

  pipeline::CallEnv own_env(const pipeline::CallEnv& env) const;
  Task<json> create(pipeline::CallEnv env);
  bool hand_over(const std::string& key);
  void make_idle(const std::string& key);
  void destroy(const std::string& key);
  static Task<void> warm_up(std::shared_ptr<Pool> self, pipeline::CallEnv env);
  static Task<void> expire(std::shared_ptr<Pool> self, pipeline::CallEnv env, std::string key, std::uint64_t since);
  static Task<void> destroy_value(std::shared_ptr<Pool> self, pipeline::CallEnv env, json handle);

  Spec spec_;
  std::map<std::string, Item> items_;  // by the handle's JSON text
  std::deque<std::string> idle_;
  std::size_t creating_ = 0;
  std::list<std::shared_ptr<Waiter>> waiters_;  // first come, first served
  ScopeRef scope_;
  std::uint64_t order_ = 0;
  std::uint64_t idle_periods_ = 0;
  bool drained_ = false;
  std::optional<pipeline::CallEnv> env_;  // where its own callbacks run (set on first use)
};

}  // namespace lmthing::flow

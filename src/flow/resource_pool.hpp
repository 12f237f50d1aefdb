// Resource pools (defResourcePool): values made by a host factory, up to `max`, handed out one
// caller at a time (`acquire` / `release`). Idle values go out first (after `validate`, which may
// reject them); when all `max` are out, acquirers wait in line, first come first served, each at
// most `acquireTimeout` ms (then kind `resource`, code POOL_ACQUIRE_TIMEOUT). The first acquire
// also makes values up to `min`; values idle for `idleTimeout` ms are destroyed down to `min`.
// When the run that defined the pool ends, waiters fail and every value is destroyed.
#pragma once

#include <deque>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "flow/lifecycle.hpp"

namespace lmthing::flow {

struct PoolSpec {
  std::string name;
  std::string factory;                  // callback: answers a new value's handle
  std::optional<std::string> destroy;   // callback(handle)
  std::optional<std::string> validate;  // callback(handle): truthy when the idle value is still good
  std::size_t min = 0;
  std::size_t max = 10;
  double acquire_timeout_ms = 30000;
  double idle_timeout_ms = 0;  // 0: idle values are kept until the run ends
};

class Pool : public Lifecycle, public std::enable_shared_from_this<Pool> {
 public:
  explicit Pool(PoolSpec spec) : spec_(std::move(spec)) {}

  // A value's handle: an idle one, a new one, or the next one released. Throws OpFailed (kind
  // resource: POOL_ACQUIRE_TIMEOUT, POOL_FACTORY_FAILED), or `aborted` once the owner run ended.
  Task<json> acquire(const pipeline::CallEnv& env);
  // Gives `handle` back: to the longest waiting acquirer, else to the idle values. Throws OpFailed
  // (kind resource, code RESOURCE_NOT_ACQUIRED) for a handle that is not out.
  void release(const json& handle);
  Task<void> end() override;

  const PoolSpec& spec() const { return spec_; }
  std::size_t size() const { return items_.size() + creating_; }
  std::size_t waiting() const { return waiters_.size(); }

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

  Task<json> create(pipeline::CallEnv env);
  static Task<void> create_into(std::shared_ptr<Pool> self, pipeline::CallEnv env, std::optional<json>& made, std::exception_ptr& failed);
  void give_back(const std::string& key);
  bool hand_over(const std::string& key);
  void make_idle(const std::string& key);
  void forget(const std::string& key);
  static Task<void> warm_up(std::shared_ptr<Pool> self, pipeline::CallEnv env);
  static Task<void> expire(std::shared_ptr<Pool> self, std::string key, std::uint64_t since);
  static Task<void> destroy_value(std::shared_ptr<Pool> self, json handle);
  Task<bool> destroy(json handle);

  PoolSpec spec_;
  std::map<std::string, Item> items_;  // by the handle's JSON text
  std::deque<std::string> idle_;       // oldest idle first
  std::size_t creating_ = 0;
  std::list<std::shared_ptr<Waiter>> waiters_;  // first come, first served
  std::map<std::string, OpId> idle_timers_;     // by item
  std::uint64_t idle_periods_ = 0;
  bool started_ = false;
};

}  // namespace lmthing::flow

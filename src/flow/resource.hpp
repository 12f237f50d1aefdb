// Resources (defResource): a value a run's tools and workflow steps share — a database pool, an
// API client — initialized on its first `get` (concurrent first gets share one initialization),
// health-checked before each later get (an unhealthy value is cleaned up and initialized again),
// initialized with retries as its retryPolicy says, and cleaned up when the run that defined it
// ends, however it ends. The value lives in the host; the engine keeps the handle the host's
// initialize callback answered with and passes it to healthCheck and cleanup.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "flow/lifecycle.hpp"
#include "flow/user_call.hpp"
#include "runtime/single_flight.hpp"

namespace lmthing::flow {

struct ResourceSpec {
  std::string name;
  std::string type;
  std::string initialize;                   // callback: answers the value's handle
  std::optional<std::string> cleanup;       // callback(handle)
  std::optional<std::string> health_check;  // callback(handle): truthy when healthy
  CallPolicy call;                          // retries of initialize (retryPolicy)
};

class Resource : public Lifecycle, public std::enable_shared_from_this<Resource> {
 public:
  Resource(Loop& loop, ResourceSpec spec) : spec_(std::move(spec)), flight_(loop) {}

  // The value's handle, initializing it first (or again, after a failed health check). Throws
  // OpFailed: kind `resource` code RESOURCE_INIT_FAILED (cause: initialize's last error), or
  // `aborted` once the owner run has ended.
  Task<json> get(const pipeline::CallEnv& env);
  Task<void> end() override;

  const ResourceSpec& spec() const { return spec_; }
  ResourceSpec& spec() { return spec_; }

 private:
  Task<json> ensure(pipeline::CallEnv env);
  Task<void> clean_up();

  ResourceSpec spec_;
  SingleFlight flight_;
  std::optional<json> handle_;  // set while a value is initialized
};

}  // namespace lmthing::flow

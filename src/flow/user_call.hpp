// Calling the user's function of one unit of a flow (a workflow step, a pipeline stage, a parallel
// task, a resource's initializer): the host callback, in a scope of its own per attempt, so that a
// deadline or a cancellation ends everything the attempt started (its own op, the tools and agents
// it called back into the engine, its timers); with retries through the retry interceptor.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "pipeline/call.hpp"
#include "policy/retry.hpp"
#include "protocol/fields.hpp"

namespace lmthing::flow {

// How a unit calls its function: `retries: N` (the default backoff), or `retry: "name"` (a defRetry
// policy), and `timeout` (ms) per attempt.
struct CallPolicy {
  std::optional<std::string> retry_name;
  int retries = 0;
  double timeout_ms = 0;
  std::optional<policy::RetryPolicy> retry;  // resolved by resolve_call_policy
};

// Reads `retries` (0..100), `retry` (a defRetry name, or a number of retries) and `timeout` (ms).
CallPolicy read_call_policy(const protocol::FieldReader& fields);
// Resolves a named retry policy in `tree`; throws ProtocolError prefixed with `where`.
void resolve_call_policy(CallPolicy& policy, const pipeline::RunTree& tree, const std::string& where);
// The policy of `retries: N`: N + 1 attempts, exponential backoff from 500 ms up to 30 s, no jitter.
policy::RetryPolicy retries_policy(int retries);

struct UserCall {
  std::string target;    // names the unit in retry events: "codeReview.analyze"
  std::string label;     // names it in messages: workflow "codeReview" step "analyze"
  std::string callback;  // the host callback
  const CallPolicy* policy = nullptr;
};

// Builds the arguments of attempt `attempt` (from 1) when it starts, so they carry what is true
// then. The last argument must be an object: the attempt's `scope` and `attempt` are added to it.
using ArgsMaker = std::function<json(int attempt)>;

// Calls `call.callback` once per attempt, each in a new scope inside `env.run` bounded by the
// policy's timeout (a timed-out attempt fails with kind `timeout`, and is retried like any failure).
// When an attempt ends, whatever it left running in its scope is cancelled. Throws OpFailed with
// the last attempt's error.
Task<json> call_user(const pipeline::CallEnv& env, UserCall call, ArgsMaker make_args);

// Calls `callback` once with `args` in `env.run` (conditions, comparisons, clean-up callbacks).
Task<json> call_callback(const pipeline::CallEnv& env, const std::string& callback, json args, const std::string& label);

}  // namespace lmthing::flow

// Calling the user's function of one unit of a flow (a workflow step): the host callback, bounded
// per attempt by the unit's timeout and by the flow's own deadline (maxDuration), with retries
// through the retry interceptor (the same one tools use, so `retry` events look the same).
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

// A flow's deadline (loop time, ms) and the error it ends the flow with; `at` 0 = none.
struct Deadline {
  double at = 0;
  protocol::WireError error;
};

struct UserCall {
  std::string target;    // names the unit in retry events: "codeReview.analyze"
  std::string label;     // names it in messages: workflow "codeReview" step "analyze"
  std::string callback;  // the host callback
  const CallPolicy* policy = nullptr;
  const Deadline* deadline = nullptr;
  OpId* op = nullptr;  // set: the id of the attempt's op in flight, so the caller can cancel it (Loop::fail_early)
};

// Builds the arguments of attempt `attempt` (from 1) when it starts, so they carry what is true
// then. The last argument must be an object: the attempt number is added to it as `attempt`.
using ArgsMaker = std::function<json(int attempt)>;

// Calls `call.callback` once per attempt, each bounded by the policy's timeout (a timed-out attempt
// fails with kind `timeout`, and is retried like any failure) and by the deadline (past it, throws
// pipeline::RunFailed with the deadline's error: never retried, never routed to a handler). Throws
// OpFailed with the last attempt's error.
Task<json> call_user(const pipeline::CallEnv& env, UserCall call, ArgsMaker make_args);

// Calls `callback` once with `args` (conditions), bounded by `deadline` like call_user.
Task<json> call_callback(const pipeline::CallEnv& env, const std::string& callback, json args, const std::string& label,
                         const Deadline* deadline = nullptr);

}  // namespace lmthing::flow

// Retry policies (defRetry) and which failures they retry. A policy says how many attempts a call
// gets, how long to wait between them (backoff.hpp) and which errors are worth another attempt.
#pragma once

#include <string>
#include <vector>

#include "policy/backoff.hpp"
#include "protocol/messages.hpp"

namespace lmthing::policy {

struct RetryPolicy {
  int max_attempts = 3;  // all attempts, the first included (>= 1)
  BackoffConfig backoff;
  // Errors that are retried, each matched against the error's kind, its code, or as a substring of
  // its message. Empty: the call site's default (see model_error_retryable / any tool failure).
  std::vector<std::string> retryable_errors;
};

// Parses {maxAttempts, backoff, baseDelay, maxDelay, jitter, retryableErrors}. Throws
// std::invalid_argument naming `what`, the field and the accepted values.
RetryPolicy parse_retry(const lmthing::Json& spec, const std::string& what);

// The policy of model calls when the run names none: `max_retries` retries (options.maxRetries,
// default 2), exponential from 2 s, at most 30 s, no jitter.
RetryPolicy default_model_retry(int max_retries);

// True when `error` matches one of `patterns` (kind, code or message substring).
bool matches_error(const std::vector<std::string>& patterns, const protocol::WireError& error);

// Model failures worth another attempt: rate limits, timeouts, network errors and retryable HTTP
// statuses (408/409/429/5xx/529), and a stream cut before its first token. A call that failed
// after some of its text was shown, whatever the failure, is not retried (the text already reached
// the user, and a new attempt's would follow it): the host marks it `textShown`, and a provider's
// error keeps that text as `partialText`. An explicit policy does not override that
// (retries_model_call).
bool model_error_retryable(const protocol::WireError& error);

// Whether `policy` retries `error`: its own list when it has one, else `fallback_rule`.
bool retries(const RetryPolicy& policy, const protocol::WireError& error, bool (*fallback_rule)(const protocol::WireError&));

// Whether `policy` retries a model call that failed with `error`: never once some of the call's
// text was shown, whatever the policy lists (a new attempt's text would follow the text the user
// has seen); else as `retries` with model_error_retryable as the default rule.
bool retries_model_call(const RetryPolicy& policy, const protocol::WireError& error);

// The server's Retry-After (ms) carried by a rate-limit or provider error, if any.
std::optional<double> retry_after_ms(const protocol::WireError& error);

}  // namespace lmthing::policy

#include <memory>

namespace lmthing::pipeline {
struct Target;
class Interceptor;
class RunTree;
}  // namespace lmthing::pipeline

namespace lmthing::policy {

// The retry interceptor with `policy` for a call of user code that is not a tool (a workflow step,
// a pipeline stage, a resource's initialization): it retries any failure the policy does not exclude.
std::unique_ptr<pipeline::Interceptor> make_retry_interceptor(RetryPolicy policy, pipeline::RunTree& tree);

// The retry policy of a target's model calls: the one named by the run's `retry` model option, or
// the default rule with the run's maxRetries. Throws ProtocolError for an unknown name.
const RetryPolicy& model_retry_policy(const pipeline::Target& target, RetryPolicy& default_storage);

}  // namespace lmthing::policy

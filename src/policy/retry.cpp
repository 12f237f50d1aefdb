#include "policy/retry.hpp"

#include <algorithm>

#include "pipeline/cancel_scope.hpp"
#include "pipeline/registry.hpp"
#include "protocol/fields.hpp"

namespace lmthing::policy {

RetryPolicy parse_retry(const lmthing::Json& spec, const std::string& what) {
  protocol::FieldReader config(spec, what);
  RetryPolicy policy;
  if (auto attempts = config.integer("maxAttempts", 1, 100)) policy.max_attempts = *attempts;
  try {
    policy.backoff = parse_backoff(spec);
  } catch (const std::invalid_argument& e) {
    config.fail(e.what());
  }
  policy.retryable_errors = config.strings("retryableErrors");
  return policy;
}

RetryPolicy default_model_retry(int max_retries) {
  RetryPolicy policy;
  policy.max_attempts = max_retries + 1;
  policy.backoff.kind = BackoffConfig::Exponential;
  policy.backoff.base_delay_ms = 2000;
  policy.backoff.max_delay_ms = 30000;
  policy.backoff.jitter = 0;
  return policy;
}

bool matches_error(const std::vector<std::string>& patterns, const protocol::WireError& error) {
  const std::string code = error.extra.value("code", std::string());
  for (const auto& pattern : patterns) {
    if (pattern == error.kind || (!code.empty() && pattern == code)) return true;
    if (error.message.find(pattern) != std::string::npos) return true;
  }
  return false;
}

namespace {
// The failed call had streamed text to the run already: the host says so (`textShown`), or the
// provider kept the text it got (`partialText`).
bool text_shown(const protocol::WireError& error) {
  auto shown = error.extra.find("textShown");
  if (shown != error.extra.end() && shown->is_boolean() && shown->get<bool>()) return true;
  auto partial = error.extra.find("partialText");
  return partial != error.extra.end() && partial->is_string() && !partial->get_ref<const std::string&>().empty();
}
}  // namespace

bool model_error_retryable(const protocol::WireError& error) {
  if (text_shown(error)) return false;
  if (error.kind == "rate_limit" || error.kind == "timeout") return true;
  return error.kind == "provider" && error.extra.value("retryable", false);
}

bool retries(const RetryPolicy& policy, const protocol::WireError& error, bool (*fallback_rule)(const protocol::WireError&)) {
  if (error.kind == "aborted" || error.kind == "budget" || error.kind == "circuit_open") return false;
  if (!policy.retryable_errors.empty()) return matches_error(policy.retryable_errors, error);
  return fallback_rule(error);
}

bool retries_model_call(const RetryPolicy& policy, const protocol::WireError& error) {
  return !text_shown(error) && retries(policy, error, model_error_retryable);
}

namespace {
// A model call that failed after it streamed text, as streamRetries retries it: for what would be
// retried before any text (the shown text stays in the run's stream; the retried answer replaces it).
bool stream_error_retryable(const protocol::WireError& error) {
  if (error.kind == "rate_limit" || error.kind == "timeout") return true;
  return error.kind == "provider" && error.extra.value("retryable", false);
}
}  // namespace

std::optional<double> retry_after_ms(const protocol::WireError& error) {
  auto after = error.extra.find("retryAfterMs");
  if (after == error.extra.end() || !after->is_number()) return std::nullopt;
  return after->get<double>();
}

const RetryPolicy& model_retry_policy(const pipeline::Target& target, RetryPolicy& default_storage) {
  protocol::FieldReader options(target.options, "the run's model options");
  if (auto name = options.optional_string("retry")) return target.tree.definitions().get<RetryPolicy>("retry", *name);
  default_storage = default_model_retry(target.run.max_retries);
  return default_storage;
}

namespace {

using pipeline::Call;
using pipeline::CallKind;
using pipeline::Next;

// Tools retry on any failure their policy does not exclude (user code failed; trying again is the
// point of putting a retry on it).
bool any_failure(const protocol::WireError&) { return true; }

// Calls the rest of the chain again after a failure the policy retries, waiting its backoff (and
// the server's Retry-After) on an engine timer; emits a `retry` event before each wait.
class RetryInterceptor : public pipeline::Interceptor {
 public:
  RetryInterceptor(RetryPolicy policy, bool (*rule)(const protocol::WireError&), pipeline::RunTree& tree, int stream_retries = 0)
      : policy_(std::move(policy)), rule_(rule), tree_(tree), stream_retries_(stream_retries) {}

  Task<json> intercept(Call call, Next next) override {
    // Attempts that failed before any text, and retries after text was shown (counted apart).
    for (int attempt = 0, streamed = 0;;) {
      pipeline::Attempt tried = co_await pipeline::attempt(next(call));
      if (tried.value) co_return std::move(*tried.value);
      const std::optional<protocol::WireError> failure = std::move(tried.failure);
      const bool shown = call.kind == CallKind::Model && text_shown(*failure);
      bool again = false;
      if (shown)
        again = streamed++ < stream_retries_ && retries(policy_, *failure, stream_error_retryable);
      else
        again = ++attempt < policy_.max_attempts &&
                (call.kind == CallKind::Model ? retries_model_call(policy_, *failure) : retries(policy_, *failure, rule_));
      if (call.env->cancelled() || !again) throw OpFailed(*failure);
      co_await back_off(call, *failure, attempt + streamed, shown);
    }
  }

 private:
  // Emits the `retry` event and waits the backoff before retry `number` (the retries so far, both
  // kinds). Its own frame, made only when a call is retried: intercept's frame is alive for as
  // long as each attempt waits on its model.
  [[gnu::noinline]] Task<void> back_off(const Call& call, const protocol::WireError& failure, int number, bool shown) {
    double delay = retry_delay(policy_.backoff, number - 1, retry_after_ms(failure), tree_.rng());
    // Not past the call's deadline: the attempt made then fails with the deadline's own error.
    if (call.deadline_at > 0) delay = std::min(delay, std::max(0.0, call.deadline_at - call.env->loop.now_ms()));
    json event{{"type", "retry"}, {"attempt", number}, {"delayMs", delay}, {"error", failure.message}, {"errorKind", failure.kind}};
    if (shown) event["afterText"] = true;
    if (call.kind == CallKind::Model) {
      event["target"] = "model";
      event["model"] = call.target;
    } else {
      event["target"] = "tool";
      event["toolName"] = call.target;
      event["toolCallId"] = call.context.value("toolCallId", json());
    }
    event["stepNumber"] = call.context.value("stepNumber", json());
    call.env->emit(std::move(event));
    co_await pipeline::pause(*call.env, delay);
  }

  RetryPolicy policy_;
  bool (*rule_)(const protocol::WireError&);
  pipeline::RunTree& tree_;
  int stream_retries_;
};

void define_retry(pipeline::RunTree& tree, const std::string& name, const protocol::FieldReader& config) {
  tree.definitions().add("retry", name, std::make_shared<RetryPolicy>(parse_retry(config.object(), config.where())));
}

std::unique_ptr<pipeline::Interceptor> make_retry(const pipeline::Target& target) {
  if (target.kind == CallKind::Model) {
    RetryPolicy storage;
    const RetryPolicy& policy = model_retry_policy(target, storage);
    if (policy.max_attempts <= 1 && target.run.stream_retries == 0) return nullptr;
    return std::make_unique<RetryInterceptor>(policy, model_error_retryable, target.tree, target.run.stream_retries);
  }
  protocol::FieldReader options(target.options, "tool \"" + target.tool->name + "\"");
  auto name = options.optional_string("retry");
  if (!name) return nullptr;
  return std::make_unique<RetryInterceptor>(target.tree.definitions().get<RetryPolicy>("retry", *name), any_failure, target.tree);
}

}  // namespace

std::unique_ptr<pipeline::Interceptor> make_retry_interceptor(RetryPolicy policy, pipeline::RunTree& tree) {
  return std::make_unique<RetryInterceptor>(std::move(policy), any_failure, tree);
}

}  // namespace lmthing::policy

namespace lmthing::pipeline::registered {
extern const DefinitionKind retry_kind{
    "retry", "retry policy", {"maxAttempts", "backoff", "baseDelay", "maxDelay", "jitter", "retryableErrors"}, policy::define_retry, nullptr};
extern const InterceptorType retry_interceptor{"retry", {"retry"}, {"retry"}, policy::make_retry};
}  // namespace lmthing::pipeline::registered

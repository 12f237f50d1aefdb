#include "agent/guarded_calls.hpp"

#include <optional>

namespace lmthing::agent {

using policy::FallbackPolicy;
using protocol::WireError;

namespace {

// Tools retry on any failure their policy does not exclude (user code failed; trying again is the
// point of putting a retry on it).
bool any_failure(const WireError&) { return true; }

void record(policy::CircuitBreaker* breaker, const std::optional<WireError>& failure, double now_ms) {
  if (!breaker) return;
  if (!failure)
    breaker->record_success(now_ms);
  else if (failure->kind == "aborted")
    breaker->record_cancelled(now_ms);
  else
    breaker->record_failure(now_ms);
}

}  // namespace

GuardedCalls::GuardedCalls(Loop& loop, RunId run, const PromptSpec& spec, Emit emit)
    : loop_(loop),
      run_(run),
      spec_(spec),
      policies_(*spec.policies),
      emit_(std::move(emit)),
      default_model_retry_(policy::default_model_retry(spec.options.max_retries)),
      current_model_(spec.model) {}

const policy::RetryPolicy& GuardedCalls::model_retry() const { return spec_.retry.empty() ? default_model_retry_ : policies_.retry(spec_.retry); }

Task<void> GuardedCalls::take_rate_slot(std::string scope) {
  std::optional<policy::Violation> refused;
  const double wait = policies_.ledger().reserve_slot(scope, loop_.now_ms(), refused);
  if (refused) throw OpFailed(refused->error());
  if (wait <= 0) co_return;
  emit_(json{{"type", "rate-limited"}, {"scope", scope}, {"waitMs", wait}});
  co_await loop_.sleep(run_, wait);
}

Task<json> GuardedCalls::generate(json request, std::optional<std::string> model_override) {
  if (model_override) co_return co_await generate_with(*model_override, std::move(request), false);
  const FallbackPolicy* cascade = spec_.fallback.empty() ? nullptr : &policies_.fallback(spec_.fallback);
  for (;;) {
    std::optional<WireError> failure;
    try {
      co_return co_await generate_with(current_model_, request, current_model_ == spec_.model);
    } catch (const OpFailed& e) {
      failure = e.error;
    }
    const bool retryable = policy::retries(model_retry(), *failure, policy::model_error_retryable);
    if (!cascade || cascade_next_ >= cascade->models.size() || !policy::falls_back(*cascade, *failure, retryable)) throw OpFailed(*failure);
    const std::string next = cascade->models[cascade_next_++];
    emit_(json{{"type", "fallback"},
               {"strategy", "cascade"},
               {"name", spec_.fallback},
               {"from", current_model_},
               {"to", next},
               {"error", failure->message}});
    current_model_ = next;  // the cascade replaces the run's model from here on
  }
}

Task<json> GuardedCalls::generate_with(std::string model, json request, bool guarded_by_breaker) {
  const policy::RetryPolicy& retry = model_retry();
  policy::CircuitBreaker* breaker = guarded_by_breaker && !spec_.circuit_breaker.empty() ? &policies_.breaker(spec_.circuit_breaker) : nullptr;
  request["model"] = model;
  for (int attempt = 0;; ++attempt) {
    if (auto violation = policies_.ledger().blocking(loop_.now_ms())) throw OpFailed(violation->error());
    co_await take_rate_slot("model");
    if (breaker) {
      auto admission = breaker->admit(loop_.now_ms());
      if (!admission) throw OpFailed(policy::circuit_open_error(spec_.circuit_breaker, admission.retry_in_ms));
    }
    std::optional<WireError> failure;
    json response;
    try {
      response = co_await loop_.op(run_, "model.generate", request, spec_.options.model_timeout_ms);
    } catch (const OpFailed& e) {
      failure = e.error;
    }
    record(breaker, failure, loop_.now_ms());
    if (!failure) {
      if (!response.is_object() || !response.contains("content") || !response["content"].is_array())
        throw OpFailed(WireError{"provider", "the model response has no \"content\" array", json::object()});
      const std::string model_id = response.value("modelId", model);
      for (auto& event : policies_.ledger().record_usage(model_id, response.value("usage", json::object()), loop_.now_ms()))
        policies_.emit(std::move(event));
      co_return response;
    }
    if (attempt + 1 >= retry.max_attempts || !policy::retries(retry, *failure, policy::model_error_retryable)) throw OpFailed(*failure);
    const double delay = policy::retry_delay(retry.backoff, attempt, policy::retry_after_ms(*failure), policies_.rng());
    emit_(json{{"type", "retry"},
               {"target", "model"},
               {"model", model},
               {"stepNumber", request["step"]},
               {"attempt", attempt + 1},
               {"delayMs", delay},
               {"error", failure->message}});
    co_await loop_.sleep(run_, delay);
  }
}

Task<json> GuardedCalls::call_tool(const ToolSpec* tool, json args, json context) {
  std::optional<WireError> failure;
  try {
    co_return co_await attempt_tool(tool, args, context);
  } catch (const OpFailed& e) {
    failure = e.error;
  }
  if (tool->fallback.empty() || loop_.run_cancelled(run_)) throw OpFailed(*failure);
  const FallbackPolicy& fallback = policies_.fallback(tool->fallback);
  if (!policy::falls_back(fallback, *failure, true)) throw OpFailed(*failure);
  if (fallback.strategy == FallbackPolicy::Strategy::Default) {
    emit_(json{{"type", "fallback"},
               {"strategy", "default"},
               {"name", tool->fallback},
               {"from", tool->name},
               {"error", failure->message},
               {"log", fallback.log}});
    co_return fallback.value;
  }
  for (const auto& name : fallback.tools) {
    const ToolSpec* alternative = spec_.find_tool(name);
    emit_(json{{"type", "fallback"},
               {"strategy", "alternative"},
               {"name", tool->fallback},
               {"from", tool->name},
               {"to", name},
               {"error", failure->message}});
    auto verdict = alternative->validator->validate(args);
    if (!verdict.valid) {
      failure = WireError{"validation", "alternative tool \"" + name + "\" does not accept the arguments: " + verdict.errors.front().message,
                          json::object()};
      continue;
    }
    json alt_context = context;
    alt_context["toolName"] = name;
    try {
      co_return co_await call_tool(alternative, args, alt_context);
    } catch (const OpFailed& e) {
      if (e.error.kind == "aborted" || loop_.run_cancelled(run_)) throw;
      failure = e.error;
    }
  }
  throw OpFailed(*failure);
}

Task<json> GuardedCalls::attempt_tool(const ToolSpec* tool, json args, json context) {
  const policy::RetryPolicy* retry = tool->retry.empty() ? nullptr : &policies_.retry(tool->retry);
  policy::CircuitBreaker* breaker = tool->circuit_breaker.empty() ? nullptr : &policies_.breaker(tool->circuit_breaker);
  const double timeout = tool->timeout_ms > 0 ? tool->timeout_ms : spec_.options.tool_timeout_ms;
  for (int attempt = 0;; ++attempt) {
    co_await take_rate_slot("tool");
    if (breaker) {
      auto admission = breaker->admit(loop_.now_ms());
      if (!admission) throw OpFailed(policy::circuit_open_error(tool->circuit_breaker, admission.retry_in_ms));
    }
    std::optional<WireError> failure;
    json value;
    try {
      json payload{{"fn", tool->callback}, {"args", json::array({args, context})}};
      value = co_await loop_.op(run_, "callback.invoke", std::move(payload), timeout);
    } catch (const OpFailed& e) {
      failure = e.error;
    }
    record(breaker, failure, loop_.now_ms());
    if (!failure) co_return value;
    if (!retry || attempt + 1 >= retry->max_attempts || loop_.run_cancelled(run_) || !policy::retries(*retry, *failure, any_failure))
      throw OpFailed(*failure);
    const double delay = policy::retry_delay(retry->backoff, attempt, policy::retry_after_ms(*failure), policies_.rng());
    emit_(json{{"type", "retry"},
               {"target", "tool"},
               {"toolName", tool->name},
               {"toolCallId", context["toolCallId"]},
               {"attempt", attempt + 1},
               {"delayMs", delay},
               {"error", failure->message}});
    co_await loop_.sleep(run_, delay);
  }
}

}  // namespace lmthing::agent

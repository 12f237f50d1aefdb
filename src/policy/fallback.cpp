#include "policy/fallback.hpp"

#include <algorithm>
#include <functional>

#include "pipeline/cancel_scope.hpp"
#include "pipeline/registry.hpp"
#include "policy/retry.hpp"
#include "protocol/fields.hpp"

namespace lmthing::policy {

namespace {
// The first name `names` holds more than once, if any.
std::optional<std::string> listed_twice(const std::vector<std::string>& names) {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (std::find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(i), names[i]) != names.begin() + static_cast<std::ptrdiff_t>(i))
      return names[i];
  return std::nullopt;
}
}  // namespace

FallbackPolicy parse_fallback(const lmthing::Json& spec, const std::string& what) {
  protocol::FieldReader config(spec, what);
  FallbackPolicy policy;
  const auto strategy = config.choice("strategy", {"cascade", "alternative", "default"});
  if (!strategy) config.fail("'strategy' is required: one of 'cascade', 'alternative', 'default'");
  policy.errors = config.strings("errors");
  if (*strategy == "cascade") {
    policy.strategy = FallbackPolicy::Strategy::Cascade;
    policy.models = config.strings("models");
    if (policy.models.empty()) config.fail("a cascade needs 'models': the models to try, in order");
    if (const auto twice = listed_twice(policy.models))
      config.fail("'models' lists the model \"" + *twice + "\" twice (a cascade cannot revisit a model)");
    policy.retry_delay_ms = config.ms("retryDelay", true).value_or(0);
    policy.max_attempts = config.integer("maxAttempts", 1, 100).value_or(0);
  } else if (*strategy == "alternative") {
    policy.strategy = FallbackPolicy::Strategy::Alternative;
    policy.tools = config.strings("tools");
    if (const auto twice = listed_twice(policy.tools))
      config.fail("'tools' lists the tool \"" + *twice + "\" twice (a tool already tried is not tried again)");
    if (const json* map = config.optional_object("alternatives")) {
      protocol::FieldReader per_tool(*map, what + ": alternatives");
      for (const auto& [tool, list] : map->items()) {
        policy.per_tool[tool] = per_tool.strings(tool);
        if (const auto twice = listed_twice(policy.per_tool[tool]))
          per_tool.fail("'" + tool + "' lists the tool \"" + *twice + "\" twice (a tool already tried is not tried again)");
      }
    }
    if (policy.tools.empty() && policy.per_tool.empty())
      config.fail("an alternative fallback needs 'tools' (the tools to try, in order) or 'alternatives' ({tool: [alternatives]})");
  } else {
    policy.strategy = FallbackPolicy::Strategy::Default;
    if (!config.object().contains("value")) config.fail("a default fallback needs 'value': the result to use instead");
    policy.value = spec.at("value");
    policy.log = config.optional_bool("log").value_or(false);
  }
  return policy;
}

const char* to_string(FallbackPolicy::Strategy strategy) noexcept {
  switch (strategy) {
    case FallbackPolicy::Strategy::Cascade: return "cascade";
    case FallbackPolicy::Strategy::Alternative: return "alternative";
    case FallbackPolicy::Strategy::Default: return "default";
  }
  return "?";
}

bool falls_back(const FallbackPolicy& policy, const protocol::WireError& error, bool retryable) {
  if (error.kind == "aborted" || error.kind == "budget") return false;  // hard stops, not failures
  if (policy.strategy == FallbackPolicy::Strategy::Cascade) return retryable || error.kind == "circuit_open" || matches_error(policy.errors, error);
  return policy.errors.empty() || matches_error(policy.errors, error);
}

const std::vector<std::string>& alternatives_of(const FallbackPolicy& policy, const std::string& tool) {
  auto it = policy.per_tool.find(tool);
  return it != policy.per_tool.end() ? it->second : policy.tools;
}

namespace {

using pipeline::Call;
using pipeline::CallKind;
using pipeline::Next;
using protocol::WireError;

constexpr int kMaxReentries = 8;  // fallbacks and redirects within one call (cycles are refused earlier)

// A run's model calls: when a model has failed for good (its retries are used up), the next model of
// the cascade takes over, for this call and every later one of the run.
class CascadeInterceptor : public pipeline::Interceptor {
 public:
  CascadeInterceptor(std::string name, const FallbackPolicy& policy, RetryPolicy retry)
      : name_(std::move(name)), policy_(policy), retry_(std::move(retry)) {}

  Task<json> intercept(Call call, Next next) override {
    const std::string original = call.target;
    std::vector<std::string> tried;
    for (;;) {
      auto replaced = replaced_.find(original);
      call.target = replaced == replaced_.end() ? original : replaced->second;
      tried.push_back(call.target);
      pipeline::Attempt attempt = co_await pipeline::attempt(next(call));
      if (attempt.value) {
        if (call.target != original && call.substituted) *call.substituted = true;
        co_return std::move(*attempt.value);
      }
      const std::optional<WireError> failure = std::move(attempt.failure);
      const bool retryable = retries_model_call(retry_, *failure);
      const std::string* following = next_model(tried);
      const bool within = policy_.max_attempts == 0 || static_cast<int>(tried.size()) < policy_.max_attempts;
      if (!following || !within || call.env->cancelled() || !falls_back(policy_, *failure, retryable)) throw OpFailed(*failure);
      call.env->emit(json{{"type", "fallback"},
                          {"strategy", "cascade"},
                          {"name", name_},
                          {"from", call.target},
                          {"to", *following},
                          {"error", failure->message},
                          {"errorKind", failure->kind}});
      replaced_[original] = *following;
      if (policy_.retry_delay_ms > 0) co_await pipeline::pause(*call.env, policy_.retry_delay_ms);
    }
  }

 private:
  // The first cascade model not tried yet in this call (the list may start with the failing model).
  const std::string* next_model(const std::vector<std::string>& tried) const {
    for (const auto& model : policy_.models)
      if (std::find(tried.begin(), tried.end(), model) == tried.end()) return &model;
    return nullptr;
  }

  std::string name_;
  const FallbackPolicy& policy_;
  RetryPolicy retry_;
  std::map<std::string, std::string> replaced_;  // original model -> the cascade model that replaced it
};

// A tool fallback event says which call it stands in for (its span is part of that call's).
json with_call(const Call& call, json event) {
  event["toolCallId"] = call.context.value("toolCallId", json());
  event["stepNumber"] = call.context.value("stepNumber", json());
  return event;
}

// A tool call that failed for good: a default value stands in, or the same arguments go to
// alternative tools (each through its own whole pipeline: guards, approval, retries ...).
class ToolFallbackInterceptor : public pipeline::Interceptor {
 public:
  ToolFallbackInterceptor(std::string name, const FallbackPolicy& policy) : name_(std::move(name)), policy_(policy) {}

  Task<json> intercept(Call call, Next next) override {
    pipeline::Attempt attempt = co_await pipeline::attempt(next(call));
    if (attempt.value) co_return std::move(*attempt.value);
    std::optional<WireError> failure = std::move(attempt.failure);
    if (call.env->cancelled() || !falls_back(policy_, *failure, true)) throw OpFailed(*failure);
    if (policy_.strategy == FallbackPolicy::Strategy::Default) {
      call.env->emit(with_call(call, json{{"type", "fallback"},
                                          {"strategy", "default"},
                                          {"name", name_},
                                          {"from", call.target},
                                          {"error", failure->message},
                                          {"errorKind", failure->kind},
                                          {"log", policy_.log}}));
      if (call.substituted) *call.substituted = true;
      co_return policy_.value;
    }
    if (call.depth >= kMaxReentries) throw OpFailed(*failure);
    for (const auto& alternative : alternatives_of(policy_, call.target)) {
      const pipeline::ToolBox::Entry* entry = call.env->tools ? call.env->tools->find(alternative) : nullptr;
      call.env->emit(with_call(call, json{{"type", "fallback"},
                                          {"strategy", "alternative"},
                                          {"name", name_},
                                          {"from", call.target},
                                          {"to", alternative},
                                          {"error", failure->message},
                                          {"errorKind", failure->kind}}));
      if (!entry) {
        failure = WireError{"callback", "alternative tool \"" + alternative + "\" is not available", json::object()};
        continue;
      }
      auto verdict = entry->spec.validator->validate(call.input);
      if (!verdict.valid) {
        failure = WireError{"validation", "alternative tool \"" + alternative + "\" does not accept the arguments: " + verdict.errors.front().message,
                            json::object()};
        continue;
      }
      Call instead = call;
      instead.target = alternative;
      instead.context["toolName"] = alternative;
      instead.depth = call.depth + 1;
      instead.redirected_by.clear();
      pipeline::Attempt attempt = co_await pipeline::attempt(entry->chain->call(std::move(instead)));
      if (attempt.value) {
        if (call.substituted) *call.substituted = true;
        co_return std::move(*attempt.value);
      }
      if (attempt.failure->kind == "aborted" || call.env->cancelled()) throw OpFailed(*attempt.failure);
      failure = std::move(attempt.failure);
    }
    throw OpFailed(*failure);
  }

 private:
  std::string name_;
  const FallbackPolicy& policy_;
};

void define_fallback(pipeline::RunTree& tree, const std::string& name, const protocol::FieldReader& config) {
  tree.definitions().add("fallback", name, std::make_shared<FallbackPolicy>(parse_fallback(config.object(), config.where())));
}

std::unique_ptr<pipeline::Interceptor> make_fallback(const pipeline::Target& target) {
  const bool model = target.kind == CallKind::Model;
  protocol::FieldReader options(target.options, model ? std::string("the run's model options") : "tool \"" + target.tool->name + "\"");
  auto name = options.optional_string("fallback");
  if (!name) return nullptr;
  const FallbackPolicy& policy = target.tree.definitions().get<FallbackPolicy>("fallback", *name);
  const bool cascade = policy.strategy == FallbackPolicy::Strategy::Cascade;
  if (model && !cascade) options.fail("the run's fallback \"" + *name + "\" must be a cascade of models, not " + to_string(policy.strategy));
  if (!model && cascade)
    options.fail("fallback \"" + *name +
                 "\" is a model cascade; a tool takes an 'alternative' or 'default' fallback (give the cascade to defAgent or the run)");
  if (model) {
    RetryPolicy storage;
    return std::make_unique<CascadeInterceptor>(*name, policy, model_retry_policy(target, storage));
  }
  return std::make_unique<ToolFallbackInterceptor>(*name, policy);
}

}  // namespace

void check_fallback_cycles(const pipeline::ToolBox& tools, const pipeline::RunTree& tree) {
  // Depth-first along alternative fallbacks from each tool; a tool met again on the path is a cycle.
  std::vector<std::string> path;
  std::function<void(const std::string&)> visit = [&](const std::string& name) {
    const pipeline::ToolBox::Entry* entry = tools.find(name);
    if (!entry) return;
    auto fallback = entry->spec.options.find("fallback");
    if (fallback == entry->spec.options.end() || !fallback->is_string()) return;
    const FallbackPolicy* policy = tree.definitions().find<FallbackPolicy>("fallback", fallback->get<std::string>());
    if (!policy || policy->strategy != FallbackPolicy::Strategy::Alternative) return;
    for (const auto& alternative : alternatives_of(*policy, name)) {
      if (!tools.find(alternative))
        throw protocol::config_error("fallback \"" + fallback->get<std::string>() + "\" of tool \"" + name + "\" names unknown tool " +
                                     protocol::unknown_tool(alternative, tools.names()));
      if (std::find(path.begin(), path.end(), alternative) != path.end()) {
        std::string cycle;
        for (const auto& step : path) cycle += step + " -> ";
        throw protocol::config_error("fallback cycle: " + cycle + alternative + " (alternative tools must not lead back to a tool already tried)");
      }
      path.push_back(alternative);
      visit(alternative);
      path.pop_back();
    }
  };
  for (const auto& entry : tools.entries()) {
    path = {entry.spec.name};
    visit(entry.spec.name);
  }
}

}  // namespace lmthing::policy

namespace lmthing::pipeline::registered {
extern const DefinitionKind fallback_kind{"fallback",
                                          "fallback",
                                          {"strategy", "models", "retryDelay", "maxAttempts", "tools", "alternatives", "value", "log", "errors"},
                                          policy::define_fallback,
                                          nullptr};
extern const InterceptorType fallback_interceptor{"fallback", {"fallback"}, {"fallback"}, policy::make_fallback};
}  // namespace lmthing::pipeline::registered

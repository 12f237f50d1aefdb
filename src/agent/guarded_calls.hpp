// Model and tool calls wrapped in the run's resilience policies (docs/resilience.md):
//   budget check → rate slot → circuit breaker → the op with its timeout → retry with backoff →
//   fallback (model cascade, alternative tools, default value).
// Everything waits on engine timers, so a replayed or virtual-clock run waits exactly the same.
#pragma once

#include <functional>
#include <string>

#include "agent/prompt_spec.hpp"
#include "runtime/loop.hpp"

namespace lmthing::agent {

class GuardedCalls {
 public:
  using Emit = std::function<void(json)>;
  // `spec` must outlive this object and have its policies attached.
  GuardedCalls(Loop& loop, RunId run, const PromptSpec& spec, Emit emit);

  // The model the run uses now: the spec's, or the cascade model that replaced it.
  const std::string& current_model() const { return current_model_; }

  // One model call (`request` without "model"). `model_override` (a hook's model for one step) is
  // used as given, without the cascade. Returns the response; throws OpFailed when every option failed.
  Task<json> generate(json request, std::optional<std::string> model_override);

  // One tool call with the tool's policies; throws OpFailed when the call and its fallbacks failed.
  Task<json> call_tool(const ToolSpec* tool, json args, json context);

 private:
  Task<json> generate_with(std::string model, json request, bool guarded_by_breaker);
  Task<json> attempt_tool(const ToolSpec* tool, json args, json context);
  // Waits for a rate slot of `scope`; throws a budget error if a 'fail' constraint refuses.
  Task<void> take_rate_slot(std::string scope);
  const policy::RetryPolicy& model_retry() const;

  Loop& loop_;
  RunId run_;
  const PromptSpec& spec_;
  policy::RunPolicies& policies_;
  Emit emit_;
  policy::RetryPolicy default_model_retry_;
  std::string current_model_;
  std::size_t cascade_next_ = 0;  // the cascade's next untried model
};

}  // namespace lmthing::agent

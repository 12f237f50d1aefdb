// The pre-call budget check (docs/resilience.md, "Constraints"): before each step's model call, the
// request the step is about to send (StepState::preview with the messages the earlier seams chose)
// is counted with the model's token counter — exact BPE for OpenAI encodings, the documented
// estimate otherwise — and when its input alone exceeds what a stopping tokens constraint has left,
// the call is not made and the run fails with that constraint's budget error. After the call the
// budget interceptor counts the usage the provider reports, as before.
#include <algorithm>

#include "memory/tokenizers.hpp"
#include "pipeline/registry.hpp"
#include "policy/constraints.hpp"

namespace lmthing::policy {

namespace {

// The tokens constraints a call's input can exceed: onExceeded 'stop', counting input.
std::vector<std::pair<std::string, Constraint*>> input_limits(const pipeline::RunTree& tree) {
  auto all = tree.definitions().all<Constraint>("constraint");
  std::erase_if(
      all, [](const auto& entry) { return entry.second->type != Constraint::Type::Tokens || !entry.second->stop || !entry.second->track_input; });
  return all;
}

class BudgetCheckSeam : public pipeline::StepSeam {
 public:
  Task<void> before_step(pipeline::StepState& state, const pipeline::CallEnv& env) override {
    if (!state.preview) co_return;
    const json request = state.preview(state.overrides);
    const json& messages = state.overrides.messages ? *state.overrides.messages : state.messages;
    const memory::TokenCounter counter = co_await memory::counter_for(env.loop, env.run, *env.tree, request.value("model", std::string()));
    std::size_t predicted = memory::fixed_request_tokens(request, counter.count);
    for (const json& m : messages) predicted += state::count_message_tokens(m, counter.count);
    // A budget already used up keeps the budget interceptor's own error ("exceeded: N of M tokens used").
    if (env.tree->ledger().blocking(env.loop.now_ms())) co_return;
    const json totals = env.tree->ledger().totals(env.loop.now_ms());
    for (const auto& [name, c] : input_limits(*env.tree)) {
      const double used = (c->track_input ? totals.value("inputTokens", 0.0) : 0) + (c->track_output ? totals.value("outputTokens", 0.0) : 0) +
                          (c->track_embeddings ? totals.value("embeddingTokens", 0.0) : 0);
      const double remaining = std::max(0.0, c->max - used);
      if (static_cast<double>(predicted) <= remaining) continue;
      const std::string how = counter.encoding.empty() ? "estimated" : "exact, " + counter.encoding;
      throw OpFailed(protocol::WireError{"budget",
                                         "constraint \"" + name + "\": the next model call was not made: its input alone is " +
                                             std::to_string(predicted) + " tokens (" + how + ") but only " + format_ms(remaining) + " of " +
                                             format_ms(c->max) + " remain (" + format_ms(used) + " used)",
                                         json{{"code", "BUDGET_EXCEEDED"},
                                              {"constraint", name},
                                              {"predictedTokens", predicted},
                                              {"remainingTokens", remaining},
                                              {"stepNumber", state.step}}});
    }
  }
};

std::unique_ptr<pipeline::StepSeam> make_budget_check(const pipeline::StepSeamContext& context) {
  if (input_limits(context.tree).empty()) return nullptr;
  return std::make_unique<BudgetCheckSeam>();
}

}  // namespace

}  // namespace lmthing::policy

namespace lmthing::pipeline::registered {
extern const StepSeamType budget_check_seam{"budget_check", policy::make_budget_check};
}  // namespace lmthing::pipeline::registered

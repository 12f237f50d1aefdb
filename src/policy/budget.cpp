// defConstraint: the `constraint` definition kind, the budget interceptor (no model call starts once
// a stopping constraint is exceeded; every response's usage is counted in the tree's ledger) and the
// budget-stop step seam (a graceful duration limit ends the loop after the current step).
#include "pipeline/registry.hpp"
#include "policy/constraints.hpp"

namespace lmthing::policy {

namespace {

using pipeline::Call;
using pipeline::CallKind;
using pipeline::Next;

class BudgetInterceptor : public pipeline::Interceptor {
 public:
  explicit BudgetInterceptor(pipeline::RunTree& tree) : tree_(tree) {}

  Task<json> intercept(Call call, Next next) override {
    Loop& loop = call.env->loop;
    if (auto violation = tree_.ledger().blocking(loop.now_ms())) throw OpFailed(violation->error());
    const std::string model = call.target;
    json response = co_await next(std::move(call));
    // The host's configured model id prices the call (a cascade may have answered with another model).
    const std::string model_id = response.value("modelId", model);
    for (auto& event : tree_.ledger().record_usage(model_id, response.value("usage", json::object()), loop.now_ms())) tree_.emit(std::move(event));
    co_return response;
  }

 private:
  pipeline::RunTree& tree_;
};

std::unique_ptr<pipeline::Interceptor> make_budget(const pipeline::Target& target) {
  // Usage is counted even without constraints: ctx.checkConstraints() reports the totals.
  if (target.kind != CallKind::Model) return nullptr;
  return std::make_unique<BudgetInterceptor>(target.tree);
}

class BudgetStopSeam : public pipeline::StepSeam {
 public:
  explicit BudgetStopSeam(pipeline::RunTree& tree) : tree_(tree) {}
  Task<pipeline::StepVerdict> after_step(pipeline::StepState& state, const pipeline::CallEnv& env) override {
    pipeline::StepVerdict verdict;
    if (state.final) co_return verdict;
    if (auto constraint = tree_.ledger().graceful_stop(env.loop.now_ms())) {
      env.emit(json{{"type", "budget-stop"}, {"constraint", *constraint}, {"stepNumber", state.step}});
      verdict.stop = true;
      verdict.reason = "budget";
    }
    co_return verdict;
  }

 private:
  pipeline::RunTree& tree_;
};

std::unique_ptr<pipeline::StepSeam> make_budget_stop(const pipeline::StepSeamContext& context) {
  if (!context.tree.ledger().has_graceful_stop()) return nullptr;
  return std::make_unique<BudgetStopSeam>(context.tree);
}

void define_constraint(pipeline::RunTree& tree, const std::string& name, const protocol::FieldReader& config) {
  if (!tree.is_root()) config.fail("constraints cover the whole run tree; define them on the root run, not in a sub-agent");
  json spec = config.object();
  spec["name"] = name;
  Constraint constraint = parse_constraint(spec);
  tree.definitions().add("constraint", name, std::make_shared<Constraint>(constraint));
  tree.ledger().add(std::move(constraint));
}

}  // namespace

}  // namespace lmthing::policy

namespace lmthing::pipeline::registered {
extern const DefinitionKind constraint_kind{
    "constraint",
    "constraint",
    {"type", "max", "warn", "onExceeded", "track", "tracking", "prices", "requests", "period", "strategy", "scope"},
    policy::define_constraint,
    nullptr};
extern const InterceptorType budget_interceptor{"budget", {}, {}, policy::make_budget};
extern const StepSeamType budget_stop_seam{"budget_stop", policy::make_budget_stop};
}  // namespace lmthing::pipeline::registered

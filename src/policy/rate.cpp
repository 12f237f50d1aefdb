// The rate interceptor: each attempt of a call waits for a start slot of the tree's rate
// constraints that cover it (scope model, tool or all), or fails when a constraint's strategy is 'fail'.
#include "pipeline/cancel_scope.hpp"
#include "pipeline/registry.hpp"
#include "policy/constraints.hpp"

namespace lmthing::policy {

namespace {

using pipeline::Call;
using pipeline::CallKind;
using pipeline::Next;

class RateInterceptor : public pipeline::Interceptor {
 public:
  RateInterceptor(pipeline::RunTree& tree, std::string scope) : tree_(tree), scope_(std::move(scope)) {}

  Task<json> intercept(Call call, Next next) override {
    const pipeline::CallEnv& env = *call.env;
    std::optional<Violation> refused;
    std::vector<double> starts;
    const double wait = tree_.ledger().reserve_slot(scope_, env.loop.now_ms(), refused, &starts);
    if (refused) throw OpFailed(refused->error());
    if (wait > 0) {
      env.emit(json{{"type", "rate-limited"}, {"scope", scope_}, {"waitMs", wait}});
      try {
        co_await pipeline::pause(env, wait);
      } catch (...) {
        // Cancelled while waiting: the call never starts, so its slot goes to the next caller.
        tree_.ledger().release_slot(scope_, starts, env.loop.now_ms());
        throw;
      }
    }
    co_return co_await next(std::move(call));
  }

 private:
  pipeline::RunTree& tree_;
  std::string scope_;
};

std::unique_ptr<pipeline::Interceptor> make_rate(const pipeline::Target& target) {
  const std::string scope = target.kind == CallKind::Model ? "model" : "tool";
  bool limited = false;
  for (const auto& [name, constraint] : target.tree.definitions().all<Constraint>("constraint"))
    limited = limited || (constraint->type == Constraint::Type::Rate && (constraint->scope == "all" || constraint->scope == scope));
  if (!limited) return nullptr;
  return std::make_unique<RateInterceptor>(target.tree, scope);
}

}  // namespace

}  // namespace lmthing::policy

namespace lmthing::pipeline::registered {
extern const InterceptorType rate_interceptor{"rate", {}, {}, policy::make_rate};
}  // namespace lmthing::pipeline::registered

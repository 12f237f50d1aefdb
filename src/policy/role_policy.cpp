// The role interceptor (docs/templates-roles-plugins.md): what the role a run assumed (defRole,
// prompt/role.hpp) adds to its calls. A tool the role does not allow does not run (the model is not
// offered it; this stops ctx.runTool and L.call). A tool call of a tool the role lists in `requiresApproval`
// asks for approval first (approve or deny, through the same desk as defApproval; a denial goes
// back to the model as the tool's error). A model call does not start once the role's `maxTokens`
// are used up (BudgetExceededError, constraint "role:<name>"); each response's usage is counted.
// The role is read at call time, so switching roles takes effect for the next call.
#include <algorithm>

#include "pipeline/registry.hpp"
#include "policy/approval.hpp"
#include "prompt/role.hpp"

namespace lmthing::policy {

namespace {

using pipeline::Call;
using pipeline::CallKind;
using pipeline::Next;
using protocol::WireError;

class RoleInterceptor : public pipeline::Interceptor {
 public:
  Task<json> intercept(Call call, Next next) override {
    prompt::AssumedRole& assumed = prompt::assumed_role(*call.env->tree, call.env->run);
    const prompt::RoleSpec* role = assumed.role;
    if (!role) co_return co_await next(std::move(call));
    if (call.kind == CallKind::Tool) {
      // The model is offered only the role's tools (agent_loop.cpp); this stops the other ways in (runTool, L.call).
      if (!role->allows(call.target))
        throw OpFailed(WireError{"role",
                                 "Tool \"" + call.target + "\" is not available (the role \"" + role->name +
                                     "\" allows only: " + (role->allowed_tools->empty() ? "no tools" : protocol::joined(*role->allowed_tools)) + ")",
                                 json{{"code", "ROLE_TOOL_NOT_ALLOWED"}, {"role", role->name}}});
      if (role->needs_approval(call.target)) co_await ask(*role, call);
      co_return co_await next(std::move(call));
    }
    Loop& loop = call.env->loop;
    if (auto violation = assumed.budget.blocking(loop.now_ms())) throw OpFailed(violation->error());
    const pipeline::CallEnv& env = *call.env;
    const std::string model = call.target;
    json response = co_await next(std::move(call));
    // The role may have changed while the call was out: count it only for the role that made it.
    if (assumed.role == role)
      for (auto& event : assumed.budget.record_usage(response.value("modelId", model), response.value("usage", json::object()), loop.now_ms()))
        env.emit(std::move(event));
    co_return response;
  }

 private:
  static Task<void> ask(const prompt::RoleSpec& role, const Call& call) {
    ApprovalSpec approval;
    approval.name = "role:" + role.name;
    approval.message = "The role \"" + role.name + "\" requires approval to call tool \"" + call.target + "\".";
    approval.options = {"approve", "deny"};
    const json tool_call_id = call.context.value("toolCallId", json());
    json context{{"toolName", call.target}, {"args", call.input}, {"toolCallId", tool_call_id}, {"role", role.name}};
    json preview{{"toolName", call.target}, {"args", call.input}};
    json extra{{"toolCallId", tool_call_id}, {"toolName", call.target}, {"stepNumber", call.context.value("stepNumber", json())}};
    Decision decision = co_await ask_approval(*call.env, std::move(approval), std::move(context), std::move(preview), std::move(extra));
    if (decision.action != "approve")
      throw OpFailed(WireError{"approval_denied",
                               "The call of tool \"" + call.target + "\" was denied" + (decision.reason.empty() ? "" : ": " + decision.reason) + ".",
                               json::object()});
  }
};

// Only where a role could act: a tool some role requires approval for or does not allow, a model
// when a role has maxTokens.
std::unique_ptr<pipeline::Interceptor> make_role(const pipeline::Target& target) {
  const auto roles = target.tree.definitions().all<prompt::RoleSpec>("role");
  const bool applies = std::any_of(roles.begin(), roles.end(), [&](const auto& entry) {
    const prompt::RoleSpec& role = *entry.second;
    return target.kind == CallKind::Tool ? role.needs_approval(target.tool->name) || !role.allows(target.tool->name) : role.max_tokens.has_value();
  });
  if (!applies) return nullptr;
  return std::make_unique<RoleInterceptor>();
}

}  // namespace

}  // namespace lmthing::policy

namespace lmthing::pipeline::registered {
extern const InterceptorType role_interceptor{"role", {}, {}, policy::make_role};
}  // namespace lmthing::pipeline::registered

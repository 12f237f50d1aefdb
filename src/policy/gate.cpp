// The gate interceptor (docs/human-in-the-loop.md): before a tool runs, its guards (those it names,
// then those that list it) and its approval. A guard that fails throws (ends the run), skips (the
// model gets a note instead of a result), redirects (another tool's pipeline takes the call) or asks
// the user; a denied approval goes back to the model as the tool's error; `modify` replaces the
// arguments, re-checked against the tool's schema.
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

[[noreturn]] void answer_error(const std::string& kind, const std::string& message) { throw OpFailed(WireError{kind, message, json::object()}); }

// A guard used by prompt-user without a named approval: approve or deny, deny by default.
ApprovalSpec implicit_approval(const GuardSpec& guard, const std::string& message) {
  ApprovalSpec a;
  a.name = guard.name;
  a.message = message;
  a.options = {"approve", "deny"};
  return a;
}

class GateInterceptor : public pipeline::Interceptor {
 public:
  GateInterceptor(pipeline::RunTree& tree, std::vector<const GuardSpec*> guards, const ApprovalSpec* approval)
      : tree_(tree), guards_(std::move(guards)), approval_(approval) {}

  Task<json> intercept(Call call, Next next) override {
    for (const GuardSpec* guard : guards_) {
      if (guard->name == call.redirected_by) continue;  // it sent the call here; a way back meets it again (bounded by depth)
      json verdict = co_await check(*guard, call);
      const bool passed = verdict["passed"].get<bool>();
      const std::string message = verdict["message"].get<std::string>();
      json event{{"type", "guard"},
                 {"guard", guard->name},
                 {"passed", passed},
                 {"stepNumber", call.context.value("stepNumber", json())},
                 {"toolCallId", call.context.value("toolCallId", json())},
                 {"toolName", call.target}};
      if (!passed) {
        event["onFail"] = to_string(guard->on_fail);
        event["message"] = message;
      }
      call.env->emit(std::move(event));
      if (passed) continue;
      switch (guard->on_fail) {
        case OnFail::Throw:
          throw pipeline::RunFailed(
              WireError{"guard", "guard \"" + guard->name + "\" refused tool \"" + call.target + "\": " + message, json::object()});
        case OnFail::Skip: co_return json{{"skipped", true}, {"guard", guard->name}, {"message", message}};
        case OnFail::Redirect: co_return co_await redirect(*guard, std::move(call));
        case OnFail::PromptUser: {
          // A local, not a temporary: GCC mishandles temporaries inside co_await expressions.
          const ApprovalSpec approval =
              guard->approval ? tree_.definitions().get<ApprovalSpec>("approval", *guard->approval) : implicit_approval(*guard, message);
          call.input = co_await ask(approval, call);
          break;
        }
      }
    }
    if (approval_) call.input = co_await ask(*approval_, call);
    co_return co_await next(std::move(call));
  }

 private:
  // {passed, message}: the guard's condition, called with the call's arguments.
  Task<json> check(const GuardSpec& guard, const Call& call) {
    json where{{"toolName", call.target},
               {"toolCallId", call.context.value("toolCallId", json())},
               {"stepNumber", call.context.value("stepNumber", json())}};
    json payload{{"fn", guard.condition}, {"args", json::array({call.input, std::move(where)})}};
    try {
      json verdict = co_await call.env->loop.op(call.env->run, "callback.invoke", std::move(payload), 0, "guard \"" + guard.name + "\"");
      if (verdict.is_boolean()) co_return json{{"passed", verdict.get<bool>()}, {"message", guard.message}};
      if (verdict.is_object() && verdict.contains("pass") && verdict["pass"].is_boolean()) {
        const bool passed = verdict["pass"].get<bool>();
        const std::string message =
            verdict.contains("message") && verdict["message"].is_string() ? verdict["message"].get<std::string>() : guard.message;
        co_return json{{"passed", passed}, {"message", message}};
      }
      co_return json{
          {"passed", false},
          {"message", guard.message + " (the condition must return a boolean or {pass, message}, got " + verdict.dump().substr(0, 100) + ")"}};
    } catch (const OpFailed& e) {
      if (e.error.kind == "aborted" || call.env->cancelled()) throw;  // the run's end, not the condition's failure
      co_return json{{"passed", false}, {"message", guard.message + " (the condition failed: " + e.error.message + ")"}};
    }
  }

  // The call goes to the guard's redirect tool, through that tool's own pipeline: its approval and
  // its guards apply (not the guards that sent it there), and so does the run's role.
  Task<json> redirect(const GuardSpec& guard, Call call) {
    const pipeline::ToolBox::Entry* target = call.env->tools ? call.env->tools->find(*guard.redirect_to) : nullptr;
    if (!target) answer_error("callback", "guard \"" + guard.name + "\" redirects to tool \"" + *guard.redirect_to + "\", which is not available");
    if (const prompt::RoleSpec* role = prompt::assumed_role(*call.env->tree, call.env->run).role; role && !role->allows(target->spec.name))
      answer_error("guard", "guard \"" + guard.name + "\" redirects to tool \"" + target->spec.name + "\", which the role \"" + role->name +
                                "\" does not allow (it allows only: " +
                                (role->allowed_tools->empty() ? "no tools" : protocol::joined(*role->allowed_tools)) + ")");
    const auto result = target->spec.validator->validate(call.input);
    if (!result.valid)
      answer_error("validation", "guard \"" + guard.name + "\" redirected the call to tool \"" + target->spec.name +
                                     "\", whose arguments do not match: " + schema::describe(result));
    if (call.depth >= 8) answer_error("guard", "guard \"" + guard.name + "\": too many redirects");
    call.target = target->spec.name;
    call.context["toolName"] = target->spec.name;
    call.redirected_by = guard.name;
    call.depth += 1;
    co_return co_await target->chain->call(std::move(call));
  }

  // Asks `approval` about the call; returns the arguments to run with. A denial (or modified
  // arguments that do not fit the schema) goes back to the model as the tool's error; a deferral
  // ends the run with the call pending (agent_loop.cpp). A call decided in the run's messages takes
  // that decision, once.
  Task<json> ask(const ApprovalSpec& approval, Call& call) {
    if (!call.decided.is_null()) {
      call.decided = json();
      co_return call.input;  // approved: the agent loop reported the decision (denials never get here)
    }
    const pipeline::ToolBox::Entry* tool = call.env->tools ? call.env->tools->find(call.target) : nullptr;
    const json tool_call_id = call.context.value("toolCallId", json());
    json context{{"toolName", call.target}, {"args", call.input}, {"toolCallId", tool_call_id}};
    json preview{{"toolName", call.target}, {"args", call.input}};
    json extra{{"toolCallId", tool_call_id}, {"toolName", call.target}, {"stepNumber", call.context.value("stepNumber", json())}};
    Decision decision = co_await ask_approval(*call.env, approval, std::move(context), std::move(preview), std::move(extra), call.can_defer);
    if (decision.action == "defer") answer_error("approval_deferred", "The call of tool \"" + call.target + "\" waits for a deferred approval.");
    if (decision.action == "deny")
      answer_error("approval_denied",
                   "The call of tool \"" + call.target + "\" was denied" + (decision.reason.empty() ? "" : ": " + decision.reason) + ".");
    if (decision.action != "modify") co_return call.input;
    if (tool) {
      const auto result = tool->spec.validator->validate(decision.modified_data);
      if (!result.valid)
        answer_error("validation", "The arguments the user modified for tool \"" + call.target + "\" are invalid: " + schema::describe(result));
    }
    co_return decision.modified_data;
  }

  pipeline::RunTree& tree_;
  std::vector<const GuardSpec*> guards_;
  const ApprovalSpec* approval_;
};

std::unique_ptr<pipeline::Interceptor> make_gate(const pipeline::Target& target) {
  if (target.kind != CallKind::Tool) return nullptr;
  const pipeline::Definitions& defs = target.tree.definitions();
  protocol::FieldReader options(target.options, "tool \"" + target.tool->name + "\"");
  std::vector<const GuardSpec*> guards;
  for (const auto& name : options.strings("guards")) guards.push_back(&defs.get<GuardSpec>("guard", name));
  for (const auto& [name, guard] : defs.all<GuardSpec>("guard"))
    if (std::find(guard->tools.begin(), guard->tools.end(), target.tool->name) != guard->tools.end() &&
        std::find(guards.begin(), guards.end(), guard) == guards.end())
      guards.push_back(guard);
  const ApprovalSpec* approval = nullptr;
  if (auto name = options.optional_string("approval")) approval = &defs.get<ApprovalSpec>("approval", *name);
  if (guards.empty() && !approval) return nullptr;
  return std::make_unique<GateInterceptor>(target.tree, std::move(guards), approval);
}

}  // namespace

}  // namespace lmthing::policy

namespace lmthing::pipeline::registered {
extern const InterceptorType gate_interceptor{"gate", {"guards", "approval"}, {}, policy::make_gate};
}  // namespace lmthing::pipeline::registered

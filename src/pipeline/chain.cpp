#include "pipeline/call.hpp"

#include "observe/tree_observer.hpp"
#include "pipeline/cancel_scope.hpp"
#include "pipeline/registry.hpp"

namespace lmthing::pipeline {

using protocol::WireError;

// ------------------------------------------------------------------------------------------ ToolBox

const ToolBox::Entry* ToolBox::find(const std::string& name) const {
  for (const auto& entry : entries_)
    if (entry.spec.name == name) return &entry;
  return nullptr;
}

void ToolBox::put(Entry entry) {
  for (auto& existing : entries_)
    if (existing.spec.name == entry.spec.name) {
      existing = std::move(entry);
      return;
    }
  entries_.push_back(std::move(entry));
}

bool ToolBox::remove(const std::string& name) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it)
    if (it->spec.name == name) {
      entries_.erase(it);
      return true;
    }
  return false;
}

std::vector<std::string> ToolBox::names() const {
  std::vector<std::string> out;
  for (const auto& entry : entries_) out.push_back(entry.spec.name);
  return out;
}

// ------------------------------------------------------------------------------------------ CallEnv

void CallEnv::emit(json event) const {
  event["path"] = path;
  observe::emit_observed(loop, tree.get(), run, std::move(event));
}

void CallEnv::emit_borrowing(std::string_view type, json& fields) const {
  observe::emit_observed_borrowing(loop, tree.get(), run, type, fields, path);
}

// -------------------------------------------------------------------------------------------- Chain

Chain::Chain(CallKind kind, std::vector<std::unique_ptr<Interceptor>> interceptors, std::vector<std::string> names)
    : kind_(kind), interceptors_(std::move(interceptors)), names_(std::move(names)) {}

Task<json> Next::operator()(Call call) const {
  if (index_ == chain_->interceptors_.size()) return chain_->op(std::move(call));
  return chain_->interceptors_[index_]->intercept(std::move(call), Next(chain_, index_ + 1));
}

namespace {

// The end of a model call's chain. It waits as long as the model takes, in every branch of a
// fan-out, so its frame holds only what the op needs, not the whole Call (bench/README.md,
// "Parallel fan-out": the engine's memory per waiting branch).
Task<json> model_op(const CallEnv& env, std::string target, json request, double timeout_ms) {
  request["model"] = target;
  auto op = env.loop.op(env.run, "model.generate", std::move(request), timeout_ms, "model \"" + target + "\"");
  auto scope = scope_of(env);  // a directive branch its group may cancel
  json response = scope ? co_await scope->run(std::move(op)) : co_await std::move(op);
  if (!response.is_object() || !response.contains("content") || !response["content"].is_array())
    throw OpFailed(WireError{"provider", "the response of model \"" + target + "\" has no \"content\" array", json::object()});
  co_return response;
}

Task<json> tool_op(Call call) {
  const CallEnv& env = *call.env;
  const ToolBox::Entry* tool = env.tools ? env.tools->find(call.target) : nullptr;
  if (!tool) throw OpFailed(WireError{"callback", "tool \"" + call.target + "\" is not available here", json::object()});
  // A guard's redirect can reach a tool the run's caller executes; the agent loop hands out the rest.
  if (tool->spec.callback.empty())
    throw OpFailed(WireError{"callback", "tool \"" + call.target + "\" has no execute function: its calls go to the run's caller", json::object()});
  // The op carries the call's span (set by the tool span observer when traced): what its code starts hangs under it.
  std::uint64_t span = env.span;
  if (auto it = call.context.find("span"); it != call.context.end() && it->is_number_unsigned()) span = it->get<std::uint64_t>();
  json payload{{"fn", tool->spec.callback}, {"args", json::array({std::move(call.input), std::move(call.context)})}};
  auto op = env.loop.op(env.run, "callback.invoke", std::move(payload), call.timeout_ms, "tool \"" + call.target + "\"");
  op.in_span(span);
  auto scope = scope_of(env);
  co_return scope ? co_await scope->run(std::move(op)) : co_await std::move(op);
}

}  // namespace

Task<json> Chain::op(Call call) const {
  if (call.kind == CallKind::Model) return model_op(*call.env, std::move(call.target), std::move(call.input), call.timeout_ms);
  return tool_op(std::move(call));
}

std::shared_ptr<const Chain> build_chain(const Target& target) {
  std::vector<std::unique_ptr<Interceptor>> interceptors;
  std::vector<std::string> names;
  // The options a chain is made of are the user's (a tool's, the run's): what is wrong there is config.
  protocol::reading_config([&] {
    for (const InterceptorType* type : interceptor_types()) {
      if (auto interceptor = type->make(target)) {
        interceptors.push_back(std::move(interceptor));
        names.push_back(type->name);
      }
    }
  });
  return std::make_shared<const Chain>(target.kind, std::move(interceptors), std::move(names));
}

Call tool_call(const CallEnv& env, const std::string& name, json args, json context) {
  Call call;
  call.kind = CallKind::Tool;
  call.env = &env;
  call.target = name;
  call.input = std::move(args);
  call.context = std::move(context);
  return call;
}

// ---------------------------------------------------------------------------------------- StepSeam

Task<void> StepSeam::before_step(StepState&, const CallEnv&) { co_return; }
Task<void> StepSeam::step_started(const StepStart&, const CallEnv&) { co_return; }
Task<void> StepSeam::step_failed(int, const protocol::WireError&, const CallEnv&) { co_return; }
Task<std::optional<json>> StepSeam::mend_call(const WrongCall&, const CallEnv&) { co_return std::nullopt; }
Task<std::optional<json>> StepSeam::refine_call(const RightCall&, const CallEnv&) { co_return std::nullopt; }
Task<StepVerdict> StepSeam::after_step(StepState&, const CallEnv&) { co_return StepVerdict{}; }

}  // namespace lmthing::pipeline

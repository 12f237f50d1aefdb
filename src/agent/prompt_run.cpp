#include "agent/prompt_run.hpp"

#include <algorithm>

#include "agent/agent_loop.hpp"
#include "agent/host_copy.hpp"
#include "flow/run_models.hpp"
#include "flow/run_tools.hpp"
#include "observe/run_observation.hpp"
#include "policy/fallback.hpp"
#include "policy/human_policy.hpp"
#include "prompt/role.hpp"
#include "state/state_store.hpp"

namespace lmthing::agent {

using protocol::ProtocolError;
using protocol::WireError;

namespace {

// The conversation of a prompt run, synced incrementally with the host (agent/host_copy.hpp).
class PromptTranscript : public Transcript {
 public:
  explicit PromptTranscript(json messages) : conversation_(std::move(messages)) {}
  const json& messages() const override { return conversation_; }
  void append(json message) override { conversation_.push_back(std::move(message)); }
  void fill(json& payload, const std::optional<json>& replacement) override { synced_ = host_.fill(payload, conversation_, replacement); }
  void answered(bool mended) override {
    if (synced_) host_.answered(conversation_.size() - (mended ? 1 : 0));
  }
  void insert(std::size_t index, json message) override {
    conversation_.insert(conversation_.begin() + static_cast<std::ptrdiff_t>(std::min(index, conversation_.size())), std::move(message));
  }
  // The messages the host's copy lacks when the run ends, or null.
  json tail() const { return host_.tail(conversation_); }
  // The calls a deferred approval left pending, taken out of the conversation (agent/pending_calls.hpp).
  PendingCalls take_pending() { return take_pending_calls(conversation_); }

 private:
  json conversation_;
  HostCopy host_;
  bool synced_ = false;
};

[[noreturn]] void fail(const std::string& message) { throw OpFailed(WireError{"callback", message, json::object()}); }

class PromptRun {
 public:
  PromptRun(Loop& loop, RunId run, PromptSpec spec, std::shared_ptr<pipeline::RunTree> tree, policy::HumanDesk& desk)
      : spec_(std::move(spec)),
        tree_(std::move(tree)),
        env_{loop, run, tree_, desk, spec_.host, spec_.path, tool_box(spec_.tools, spec_.settings, *tree_)},
        model_chain_(
            pipeline::build_chain(pipeline::Target{pipeline::CallKind::Model, nullptr, spec_.settings.model_options, spec_.settings, *tree_})),
        transcript_(spec_.messages),
        run_tools_(*tree_, run, env_.tools),
        run_model_(*tree_, run, flow::RunModel{model_chain_, spec_.model}) {
    check_guarded_tools();
    observe::check_observe_spec(spec_.raw, "run.start spec (prompt)");
    protocol::FieldReader raw(spec_.raw, "run.start spec (prompt)");
    seams_ = make_seams(raw, *tree_, false);
    std::optional<RunId> parent;
    if (spec_.raw.contains("parentRun")) parent = protocol::require_id(spec_.raw, "parentRun", "run.start spec");
    prompt::bind_role_tools(*tree_, run, parent, env_.tools);
    if (auto role = raw.optional_string("role")) role_event_ = prompt::assume_role(*tree_, run, *role);
    if (root()) pending_ = transcript_.take_pending();
  }
  ~PromptRun() { prompt::release_role(*tree_, env_.run); }
  PromptRun(const PromptRun&) = delete;
  PromptRun& operator=(const PromptRun&) = delete;

  // The loop, then the run's dirty persisted states are saved, however the loop ended (a failed
  // save fails a run that had succeeded; a cancelled run cannot save).
  Task<json> run() {
    std::exception_ptr failure;
    json result;
    try {
      result = co_await run_loop();
    } catch (...) {
      failure = std::current_exception();
    }
    try {
      co_await state::save_at_end(env_);
    } catch (...) {
      if (!failure) failure = std::current_exception();
    }
    if (failure) std::rethrow_exception(failure);
    co_return result;
  }

 private:
  Task<json> run_loop() {
    set_run_deadline(env_.loop, env_.run, {spec_.timeout_ms, spec_.timeout_spent_ms}, *tree_);
    AgentLoopConfig config;
    config.max_steps = spec_.max_steps;
    config.tool_call_concurrency = spec_.tool_call_concurrency;
    config.tool_order = spec_.tool_order;
    config.seams = std::move(seams_);
    config.plan = [this](int step, const pipeline::StepOverrides& overrides) { return plan(step, overrides); };
    // Only the root's calls can wait across requests: a sub-agent's run is inside its parent's tool call.
    config.can_defer = root();
    config.pending = std::move(pending_);
    observe::RunObservation observation(env_, spec_.raw, "prompt", spec_.model);
    if (!role_event_.is_null()) env_.emit(std::move(role_event_));
    LoopOutcome outcome;
    try {
      outcome = co_await run_agent_loop(env_, *model_chain_, transcript_, std::move(config));
    } catch (const OpFailed& e) {
      observation.failed(e.error);
      throw;
    } catch (const std::exception& e) {
      observation.failed(WireError{"engine", e.what(), json{{"code", "ENGINE_ERROR"}}});
      throw;
    }
    // The run's text is the last step's: the host reads it there (docs/prompt-runs.md). A `text` of
    // its own would hold a long answer once more in the engine, beside the step's and the
    // transcript's copies.
    const json no_step = json::object();
    const json& last = outcome.steps.empty() ? no_step : outcome.steps.back();
    json finish_reason = outcome.stop_reason == "budget" ? json("budget") : json(last.value("finishReason", "other"));
    // No `messages`: the host has the conversation already, in its synced copy (agent/host_copy.hpp),
    // but for the tool results of a last step that called tools (maxSteps, a deferred approval).
    json result{{"finishReason", std::move(finish_reason)}, {"usage", outcome.usage}, {"steps", std::move(outcome.steps)}};
    if (json tail = transcript_.tail(); !tail.is_null()) result["conversation"] = std::move(tail);
    if (outcome.value) result["object"] = *outcome.value;
    observation.finished(&result);
    co_return result;
  }

  StepPlan plan(int step, const pipeline::StepOverrides& overrides) const {
    StepPlan plan;
    plan.model = overrides.model.value_or(spec_.model);
    plan.system = system_prompt(overrides);
    plan.offered = offered_tools(*env_.tools, overrides.active_tools ? overrides.active_tools : spec_.active_tools);
    plan.tool_choice = overrides.tool_choice.value_or(spec_.tool_choice);
    plan.params = spec_.params;
    plan.step_id = step;
    if (spec_.raw.contains("responseSchema"))
      plan.response_format = response_format(spec_.raw["responseSchema"], spec_.raw.value("responseSchemaName", json()),
                                             spec_.raw.value("responseSchemaDescription", json()));
    return plan;
  }

  json system_prompt(const pipeline::StepOverrides& overrides) const {
    if (overrides.system) return *overrides.system;
    const prompt::RoleSpec* role = prompt::assumed_role(*tree_, env_.run).role;
    // The role was checked against its own tags when defined; the definitions' are known here.
    if (role)
      if (auto tag = prompt::findRendererTag(role->body, spec_.definitions.tags()))
        throw protocol::config_error("role \"" + role->name + "\": the role's text contains \"" + *tag +
                                     "\", a tag of the system prompt (a role's text cannot open or close the prompt's sections)");
    try {
      auto rendered = prompt::render(spec_.definitions, prompt::RenderFilter{overrides.active_systems, overrides.active_variables},
                                     role ? role->section : std::string_view());
      return rendered ? json(*rendered) : json();
    } catch (const prompt::DefinitionError& e) {
      fail(std::string("a hook's activeSystems/activeVariables: ") + e.what());
    }
  }

  bool root() const { return tree_->root() == env_.run; }

  // A guard may list tools and redirect to one: in a prompt run all tools are known up front.
  void check_guarded_tools() const {
    if (!root()) return;  // sub-agents have tools of their own
    for (const auto& [name, guard] : tree_->definitions().all<policy::GuardSpec>("guard")) {
      for (const auto& tool : guard->tools)
        if (!env_.tools->find(tool))
          throw protocol::config_error("guard \"" + name + "\": unknown tool " + protocol::unknown_tool(tool, env_.tools->names()));
      if (guard->redirect_to && !env_.tools->find(*guard->redirect_to))
        throw protocol::config_error("guard \"" + name + "\": redirectTo names unknown tool " +
                                     protocol::unknown_tool(*guard->redirect_to, env_.tools->names()));
      // A redirect is not checked again by the guard that made it: to a tool it guards, the call would run unguarded.
      if (guard->redirect_to && guards_tool(name, *guard, *guard->redirect_to))
        throw protocol::config_error("guard \"" + name + "\": redirectTo names \"" + *guard->redirect_to +
                                     "\", a tool the guard itself guards (the redirected call would run without it); redirect to another tool");
    }
  }

  // Whether guard `name` is checked before calls of `tool` (its own `tools`, or the tool's `guards` option).
  bool guards_tool(const std::string& name, const policy::GuardSpec& guard, const std::string& tool) const {
    if (std::find(guard.tools.begin(), guard.tools.end(), tool) != guard.tools.end()) return true;
    for (const auto& spec : spec_.tools)
      if (spec.name == tool && spec.options.contains("guards") && spec.options["guards"].is_array())
        for (const auto& listed : spec.options["guards"])
          if (listed == name) return true;
    return false;
  }

  PromptSpec spec_;
  std::shared_ptr<pipeline::RunTree> tree_;
  pipeline::CallEnv env_;
  std::shared_ptr<const pipeline::Chain> model_chain_;
  PromptTranscript transcript_;
  std::vector<std::unique_ptr<pipeline::StepSeam>> seams_;
  flow::RunToolsEntry run_tools_;  // workflow steps call this run's tools (flow/run_tools.hpp)
  flow::RunModelEntry run_model_;  // a parallel group's judge model calls through this run's chain
  json role_event_;                // the role spec.role assumed, reported when the run starts
  PendingCalls pending_;           // calls decided in the messages, answered before the first step
};

Task<json> body(std::unique_ptr<PromptRun> run) { co_return co_await run->run(); }

}  // namespace

std::shared_ptr<pipeline::ToolBox> tool_box(const std::vector<ToolSpec>& tools, const pipeline::RunSettings& settings, pipeline::RunTree& tree) {
  auto box = std::make_shared<pipeline::ToolBox>();
  for (const auto& tool : tools)
    box->put(pipeline::ToolBox::Entry{tool, pipeline::build_chain(pipeline::Target{pipeline::CallKind::Tool, &tool, tool.options, settings, tree})});
  policy::check_fallback_cycles(*box, tree);
  return box;
}

void set_run_deadline(Loop& loop, RunId run, RunTimeout timeout, pipeline::RunTree& tree) {
  std::optional<std::pair<double, WireError>> deadline;
  // The host's setup (the prompt function, plugin installs) was the run's time too; at least 1 ms is left.
  if (timeout.ms > 0)
    deadline.emplace(std::max(1.0, timeout.ms - timeout.spent_ms),
                     WireError{"timeout", "the run timed out after " + format_ms(timeout.ms) + " ms", json::object()});
  if (tree.root() == run)
    if (auto budget = tree.ledger().hard_deadline(); budget && (!deadline || budget->first < deadline->first))
      deadline.emplace(budget->first, budget->second.error());
  if (deadline) loop.set_deadline(run, deadline->first, deadline->second);
}

Task<json> prepare_prompt_run(Loop& loop, RunId run, PromptSpec spec, std::shared_ptr<pipeline::RunTree> tree, policy::HumanDesk& desk) {
  return body(std::make_unique<PromptRun>(loop, run, std::move(spec), std::move(tree), desk));
}

}  // namespace lmthing::agent

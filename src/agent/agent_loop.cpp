#include "agent/agent_loop.hpp"

#include "agent/content.hpp"
#include "agent/tool_calls.hpp"
#include "pipeline/host_callback.hpp"
#include "pipeline/registry.hpp"
#include "prompt/role.hpp"
#include "runtime/when_all.hpp"

namespace lmthing::agent {

using pipeline::Call;
using pipeline::CallKind;

json response_format(const json& schema, const json& name, const json& description) {
  json format{{"type", "json"}};
  if (!(schema.is_object() && schema.empty())) format["schema"] = schema;
  if (!name.is_null()) format["name"] = name;
  if (!description.is_null()) format["description"] = description;
  return format;
}

json add_usage(const json& total, const json& usage) {
  // The three totals always; any other count a provider reports (cachedInputTokens, reasoningTokens ...) when present.
  // Built member by member: an initializer list builds a [key, value] array per member first, and
  // this runs once per model call (≈ 2 % of a directive fan-out's profile).
  json sum(json::value_t::object);
  for (const char* key : {"inputTokens", "outputTokens", "totalTokens"}) sum[key] = 0;
  for (const json* part : {&total, &usage})
    if (part->is_object())
      for (const auto& [key, value] : part->items())
        if (value.is_number()) {
          json& slot = sum[key];
          slot = (slot.is_number() ? slot.get<double>() : 0.0) + value.get<double>();
        }
  return sum;
}

std::vector<std::unique_ptr<pipeline::StepSeam>> make_seams(const protocol::FieldReader& spec, pipeline::RunTree& tree, bool directive) {
  std::vector<std::unique_ptr<pipeline::StepSeam>> seams;
  const pipeline::StepSeamContext context{spec, tree, directive};
  for (const pipeline::StepSeamType* type : pipeline::step_seam_types())
    if (auto seam = type->make(context)) seams.push_back(std::move(seam));
  return seams;
}

std::vector<const pipeline::ToolBox::Entry*> offered_tools(const pipeline::ToolBox& tools, const std::optional<std::vector<std::string>>& active) {
  std::vector<const pipeline::ToolBox::Entry*> out;
  if (!active) {
    for (const auto& entry : tools.entries()) out.push_back(&entry);
    return out;
  }
  for (const auto& name : *active) {
    const pipeline::ToolBox::Entry* entry = tools.find(name);
    if (!entry)
      throw OpFailed(
          protocol::WireError{"callback", "activeTools names unknown tool " + protocol::unknown_tool(name, tools.names()), json::object()});
    if (std::find(out.begin(), out.end(), entry) == out.end()) out.push_back(entry);  // a name listed twice is offered once
  }
  return out;
}

void Transcript::insert(std::size_t, json) { throw std::logic_error("this conversation cannot resume pending tool calls"); }

void order_tools(std::vector<const pipeline::ToolBox::Entry*>& tools, const std::vector<std::string>& order) {
  auto rank = [&](const pipeline::ToolBox::Entry* tool) {
    return static_cast<std::size_t>(std::find(order.begin(), order.end(), tool->spec.name) - order.begin());
  };
  std::stable_sort(tools.begin(), tools.end(), [&](const auto* a, const auto* b) {
    const std::size_t ra = rank(a), rb = rank(b);
    return ra != rb ? ra < rb : (ra == order.size() && a->spec.name < b->spec.name);
  });
}

namespace {

// A tool message holding `results` (moved in: an initializer list would copy them).
json tool_message(json results) {
  json message{{"role", "tool"}};
  message["content"] = std::move(results);
  return message;
}

json names_of(const std::vector<const pipeline::ToolBox::Entry*>& tools) {
  json list = json::array();
  for (const auto* tool : tools) list.push_back(tool->spec.name);
  return list;
}

class AgentLoop {
 public:
  AgentLoop(const pipeline::CallEnv& env, const pipeline::Chain& model_chain, Transcript& transcript, AgentLoopConfig config)
      : env_(env), model_chain_(model_chain), transcript_(transcript), config_(std::move(config)) {}

  Task<LoopOutcome> run() {
    LoopOutcome outcome;
    outcome.usage = add_usage(json::object(), json::object());
    if (!config_.pending.empty()) co_await answer_pending();
    for (int step = 0; step < config_.max_steps; ++step) {
      env_.tree->count_step();
      pipeline::StepState state{step, transcript_.messages(), outcome.steps, last_tool_call_, {}, json(), false, std::nullopt, {}, {}};
      state.preview = [this, step](const pipeline::StepOverrides& overrides) {
        const StepPlan plan = plan_of(step, overrides);
        json request = request_of(plan);
        request["model"] = plan.model;
        return request;
      };
      state.side_call = [this, step](std::string model, json input) { return side_call(step, std::move(model), std::move(input)); };
      for (auto& seam : config_.seams) co_await seam->before_step(state, env_);
      StepPlan plan = plan_of(step, state.overrides);
      restrict_to_role(plan);
      check_tool_choice(plan, step);

      json payload = request_of(plan);
      transcript_.fill(payload, state.overrides.messages);
      env_.emit(json{
          {"type", "step-start"}, {"stepNumber", step}, {"model", plan.model}, {"system", plan.system}, {"activeTools", names_of(plan.offered)}});
      const pipeline::StepStart start{step, plan.model, payload, state.overrides.messages ? *state.overrides.messages : transcript_.messages(),
                                      outcome.steps};
      for (auto& seam : config_.seams) co_await seam->step_started(start, env_);
      Call call;
      call.kind = CallKind::Model;
      call.env = &env_;
      call.target = plan.model;
      call.input = std::move(payload);
      call.context = json{{"stepNumber", step}};
      call.messages = &transcript_.messages();
      json response;
      // The seams are awaited outside the handler (no co_await in a catch). Nothing is allocated
      // here before the call: a block alive across a long answer's call can cost the wasm memory
      // a growth the size of the answer (bench/README.md, "A small allocation that costs 50 MiB").
      std::exception_ptr failure;
      std::optional<protocol::WireError> error;
      try {
        response = co_await model_chain_.call(std::move(call));
      } catch (const OpFailed& e) {
        if (e.error.kind == "aborted" || env_.cancelled()) throw;
        failure = std::current_exception();
        error = e.error;
      }
      if (failure) {
        for (auto& seam : config_.seams) co_await seam->step_failed(step, *error, env_);
        std::rethrow_exception(failure);
      }
      if (!co_await finish_step(step, plan, state, std::move(response), outcome)) break;
    }
    co_return outcome;
  }

  // The step's answer: its tool calls run, its record, the seams' verdict. Whether the loop goes on.
  // A frame of its own, made once the answer is in: run()'s frame is alive while the model is
  // called, in every waiting branch of a fan-out (bench/README.md, "Parallel fan-out").
  [[gnu::noinline]] Task<bool> finish_step(int step, const StepPlan& plan, pipeline::StepState& state, json response, LoopOutcome& outcome) {
    // The answer's text is copied once, into the step's record; the content moves into the
    // transcript (a long answer's text would otherwise be held several times over).
    json content = std::move(response["content"]);
    std::string text = text_of(content);
    std::string reasoning = text_of(content, "reasoning");
    std::vector<CheckedCall> calls;
    bool mended = false;
    for (auto& part : content) {
      if (!part.is_object() || part.value("type", "") != "tool-call") continue;
      CheckedCall call = check_tool_call(plan.offered, part, restriction_for(plan, part));
      if (!call.error.empty()) {
        if (std::optional<CheckedCall> fixed = co_await mend(step, part, call, plan)) {
          call = std::move(*fixed);
          mended = true;
        }
      } else if (std::optional<CheckedCall> refined = co_await refine(step, part, call, plan)) {
        call = std::move(*refined);
        mended = true;  // the host's copy of the answer has the model's arguments
      }
      calls.push_back(std::move(call));
    }
    transcript_.append(json{{"role", "assistant"}, {"content", std::move(content)}});
    transcript_.answered(mended);
    outcome.usage = add_usage(outcome.usage, response.value("usage", json::object()));

    // A call left pending (its approval deferred, or a tool the caller executes) has no result (a
    // null slot): the run ends after this step.
    std::vector<json> slots = co_await run_tools(step, calls);
    state.record = record_of(step, plan, std::move(text), std::move(reasoning), calls, slots, response);
    json results = json::array();
    for (auto& slot : slots)
      if (!slot.is_null()) results.push_back(std::move(slot));
    const bool deferred = results.size() < slots.size();
    if (!results.empty()) transcript_.append(tool_message(std::move(results)));

    state.final = calls.empty();
    env_.emit_borrowing("step-finish", state.record);

    pipeline::StepVerdict verdict;
    for (auto& seam : config_.seams) {
      pipeline::StepVerdict v = co_await seam->after_step(state, env_);
      if (v.stop && !verdict.stop) verdict.stop = true, verdict.reason = v.reason;
      if (v.steer.is_array()) verdict.steer = std::move(v.steer);
      if (v.feedback) {
        verdict.feedback = v.feedback;
        break;
      }
    }
    // Moved once the seams have read it (`state.steps` is the steps before this one).
    outcome.steps.push_back(std::move(state.record));
    if (state.value) outcome.value = state.value;
    if (deferred) {
      outcome.stop_reason = "pending";
      co_return false;
    }
    if (verdict.feedback) {
      transcript_.append(json{{"role", "user"}, {"content", *verdict.feedback}});
      co_return true;
    }
    if (verdict.stop) {
      outcome.stop_reason = verdict.reason;
      co_return false;
    }
    // Messages sent to the run meanwhile: it goes on with them, if it has a step left to send them.
    if (verdict.steer.is_array() && step + 1 < config_.max_steps) {
      for (auto& message : verdict.steer) transcript_.append(std::move(message));
      co_return true;
    }
    co_return !state.final;
  }

 private:
  // The run's role (defRole) offers, and so runs, only its allowedTools.
  void restrict_to_role(StepPlan& plan) const {
    const prompt::RoleSpec* role = prompt::assumed_role(*env_.tree, env_.run).role;
    if (!role || !role->allowed_tools) return;
    std::erase_if(plan.offered, [&](const pipeline::ToolBox::Entry* tool) { return !role->allows(tool->spec.name); });
    plan.restriction =
        "the role \"" + role->name + "\" allows only: " + (role->allowed_tools->empty() ? "no tools" : protocol::joined(*role->allowed_tools));
  }

  // A toolChoice the step cannot honour is the user's mistake, told before anything is sent (a
  // provider refuses a forced tool that is not among the request's tools, or says nothing useful).
  void check_tool_choice(const StepPlan& plan, int step) const {
    const json& choice = plan.tool_choice;
    if (choice.is_object()) {
      const std::string name = choice.value("toolName", std::string());
      if (std::none_of(plan.offered.begin(), plan.offered.end(), [&](const auto* tool) { return tool->spec.name == name; }))
        refuse_tool_choice(plan, step, &name);
    } else if (choice == "required" && plan.offered.empty()) {
      refuse_tool_choice(plan, step, nullptr);
    }
  }

  // The error of check_tool_choice: `forced` names the tool, or null for 'required' with none
  // offered. Out of line: a first request never runs it, so it stays out of the first wasm file.
  [[noreturn, gnu::noinline]] void refuse_tool_choice(const StepPlan& plan, int step, const std::string* forced) const {
    const std::string at = "step " + std::to_string(step);
    std::string message;
    if (forced) {
      const std::string role = restriction_for(plan, json{{"toolName", *forced}});
      message = "toolChoice forces tool \"" + *forced + "\", which " + at + " does not offer (" +
                (role.empty() ? "activeTools or a step hook left it out" : role) + ")";
    } else {
      message = "toolChoice 'required', and " + at + " offers no tools (" +
                (plan.restriction.empty() ? "activeTools or a step hook left them all out" : plan.restriction) + ")";
    }
    throw OpFailed(protocol::WireError{"config", std::move(message), json::object()});
  }

  // Why a called tool was not offered, told to the model when the run's role is the reason (not
  // activeTools, a hook, or a name the run does not have).
  std::string restriction_for(const StepPlan& plan, const json& part) const {
    if (plan.restriction.empty()) return {};  // no role held tools back this step: no lookup per call
    const prompt::RoleSpec* role = prompt::assumed_role(*env_.tree, env_.run).role;
    return role && !role->allows(part.value("toolName", std::string())) ? plan.restriction : std::string();
  }

  // A call that is not the step's own turn (a summary): same chain, so budgets, retries and
  // observation apply; its messages are sent whole, never synced into the host's conversation.
  [[gnu::noinline]] Task<json> side_call(int step, std::string model, json input) {
    const json messages = input.value("messages", json::array());
    input["step"] = "side-" + std::to_string(step);
    input["tools"] = json::array();
    input["params"] = input.value("params", json::object());
    Call call;
    call.kind = CallKind::Model;
    call.env = &env_;
    call.target = std::move(model);
    call.input = std::move(input);
    call.context = json{{"stepNumber", step}};
    call.messages = &messages;
    co_return co_await model_chain_.call(std::move(call));
  }

  // A call the model got wrong, offered to the seams that mend calls (repairToolCall): a mended
  // call's name and arguments replace the model's in `part` (the transcript keeps the mended call,
  // as the AI SDK does), and it is checked again (nullopt: no seam mended it). A call left, or
  // mended into another wrong one, gets its error as before.
  [[gnu::noinline]] Task<std::optional<CheckedCall>> mend(int step, json& part, const CheckedCall& call, const StepPlan& plan) {
    const std::string input = part.contains("argsText") && part["argsText"].is_string() ? part["argsText"].get<std::string>()
                              : part.contains("args") && !part["args"].is_null()        ? part["args"].dump()
                                                                                        : std::string("{}");
    const pipeline::WrongCall wrong{step,
                                    json{{"toolCallId", call.id}, {"toolName", call.name}, {"input", input}},
                                    json{{"type", call.tool ? "invalid-input" : "no-such-tool"}, {"message", call.error}},
                                    plan.offered,
                                    plan.system,
                                    transcript_.messages()};
    std::optional<json> fix;
    for (auto& seam : config_.seams)
      if ((fix = co_await seam->mend_call(wrong, env_))) break;
    if (!fix) co_return std::nullopt;
    part["toolName"] = (*fix)["toolName"];
    part.erase("args");
    part.erase("argsText");
    if ((*fix)["input"].is_string())
      part["argsText"] = (*fix)["input"];
    else
      part["args"] = (*fix)["input"];
    CheckedCall checked = check_tool_call(plan.offered, part, restriction_for(plan, part));
    if (!checked.args.is_null()) part["args"] = checked.args;  // the transcript holds parsed arguments, as for any call
    // The tool-call event that follows has the mended call; this one keeps what the model wrote.
    env_.emit(json{{"type", "tool-call-repaired"},
                   {"stepNumber", step},
                   {"toolCallId", call.id},
                   {"toolName", checked.name},
                   {"args", checked.args},
                   {"original", {{"toolName", call.name}, {"input", input}}},
                   {"error", wrong.error}});
    co_return checked;
  }

  // A valid call's arguments as a seam that refines its tool returns them (the AI SDK 7's
  // experimental_refineToolInput), checked again; nullopt when no seam refines it.
  [[gnu::noinline]] Task<std::optional<CheckedCall>> refine(int step, json& part, const CheckedCall& call, const StepPlan& plan) {
    std::optional<json> refined;
    for (auto& seam : config_.seams)
      if (seam->refines(call.name) && (refined = co_await seam->refine_call(pipeline::RightCall{step, call.id, call.name, call.args}, env_))) break;
    if (!refined) co_return std::nullopt;
    part.erase("argsText");
    part["args"] = std::move(*refined);
    CheckedCall checked = check_tool_call(plan.offered, part, restriction_for(plan, part));
    if (!checked.error.empty()) checked.error = "the refined arguments of tool \"" + call.name + "\" are invalid: " + checked.error;
    co_return checked;
  }

  // The run's plan of a step with the step's call settings from the hooks laid over it.
  StepPlan plan_of(int step, const pipeline::StepOverrides& overrides) const {
    StepPlan plan = config_.plan(step, overrides);
    if (const auto& order = overrides.tool_order ? *overrides.tool_order : config_.tool_order; !order.empty()) order_tools(plan.offered, order);
    for (const auto& [name, setting] : overrides.params.items()) plan.params[name] = setting;
    if (overrides.provider_options) plan.provider_options = *overrides.provider_options;
    return plan;
  }

  json request_of(const StepPlan& plan) const {
    json tools = json::array();
    for (const auto* tool : plan.offered)
      tools.push_back({{"name", tool->spec.name}, {"description", tool->spec.description}, {"parameters", tool->spec.parameters}});
    json request{{"step", plan.step_id}, {"system", plan.system}, {"tools", std::move(tools)}, {"params", plan.params}};
    if (!plan.tool_choice.is_null()) request["toolChoice"] = plan.tool_choice;
    if (!plan.response_format.is_null()) request["responseFormat"] = plan.response_format;
    if (!plan.provider_options.is_null()) request["providerOptions"] = plan.provider_options;
    return request;
  }

  // One result part per call, in call order; null for a call whose approval was deferred.
  [[gnu::noinline]] Task<std::vector<json>> run_tools(int step, const std::vector<CheckedCall>& calls) {
    std::vector<json> slots(calls.size());
    if (calls.empty()) co_return slots;
    std::vector<Task<void>> tasks;
    for (std::size_t i = 0; i < calls.size(); ++i) {
      // Arguments that are not JSON are given as the model's text, as the AI SDK's invalid call has them.
      const json args = calls[i].args.is_null() && !calls[i].unparsed_args.empty() ? json(calls[i].unparsed_args) : calls[i].args;
      json event{{"type", "tool-call"}, {"stepNumber", step}, {"toolCallId", calls[i].id}, {"toolName", calls[i].name}, {"args", args}};
      // A call that failed the checks (unknown tool, arguments not JSON or not fitting) does not
      // run: its tool-error follows. UI streams show it as the AI SDK's invalid call.
      if (!calls[i].error.empty()) event["invalid"] = {{"type", calls[i].tool ? "invalid-input" : "no-such-tool"}, {"message", calls[i].error}};
      if (!calls[i].signature.empty()) {
        event["signature"] = calls[i].signature;
        event["signedBy"] = calls[i].signed_by;
      }
      env_.emit(std::move(event));
      last_tool_call_ = json{{"toolCallId", calls[i].id}, {"toolName", calls[i].name}, {"args", calls[i].args}};
    }
    const std::size_t limit = config_.tool_call_concurrency;
    // With a limit: `limit` lanes, each taking call `next` when its last one is done (`next` lives in
    // this frame, which waits for every lane).
    std::size_t next = 0;
    if (limit == 0 || limit >= calls.size()) {
      for (std::size_t i = 0; i < calls.size(); ++i) tasks.push_back(run_tool(step, calls[i], slots[i]));
    } else {
      for (std::size_t lane = 0; lane < limit; ++lane) tasks.push_back(run_lane(step, calls, slots, next));
    }
    co_await when_all(env_.loop, std::move(tasks));
    co_return slots;
  }

  Task<void> run_lane(int step, const std::vector<CheckedCall>& calls, std::vector<json>& slots, std::size_t& next) {
    while (next < calls.size()) {
      const std::size_t i = next++;
      co_await run_tool(step, calls[i], slots[i]);
    }
  }

  // The calls of the conversation's last assistant turn that were left pending by a deferred
  // approval and are now decided: the approved run through their chains (the approval they were
  // waiting for takes the decision), the denied get the denial. Their results and the ones the
  // messages had go into one tool message after that turn, in call order.
  [[gnu::noinline]] Task<void> answer_pending() {
    StepPlan plan = config_.plan(0, {});
    restrict_to_role(plan);
    const PendingCalls& pending = config_.pending;
    std::vector<json> slots(pending.calls.size());
    std::vector<CheckedCall> checked(pending.calls.size());
    std::vector<Task<void>> tasks;
    for (std::size_t i = 0; i < pending.calls.size(); ++i) {
      const json& part = pending.calls[i];
      const std::string id = part.value("toolCallId", std::string());
      const CallDecision* decision = pending.decision(id);
      if (!decision) {
        for (const auto& result : pending.results)
          if (result.value("toolCallId", std::string()) == id) slots[i] = result;
        continue;
      }
      checked[i] = check_tool_call(plan.offered, part, restriction_for(plan, part));
      json event{{"type", "approval-decision"},
                 {"request", decision->approval_id},
                 {"action", decision->approved ? "approve" : "deny"},
                 {"source", "message"},
                 {"toolCallId", id},
                 {"toolName", checked[i].name},
                 {"stepNumber", 0}};
      if (!decision->reason.empty()) event["reason"] = decision->reason;
      env_.emit(std::move(event));
      if (!decision->approved && checked[i].error.empty())
        checked[i].error =
            "The call of tool \"" + checked[i].name + "\" was denied" + (decision->reason.empty() ? "" : ": " + decision->reason) + ".";
      json decided = decision->approved ? json{{"action", "approve"}} : json();
      tasks.push_back(run_tool(0, checked[i], slots[i], std::move(decided)));
    }
    co_await when_all(env_.loop, std::move(tasks));
    json content = json::array();
    for (auto& slot : slots)
      if (!slot.is_null()) content.push_back(std::move(slot));
    // Results of calls the turn does not make (kept as they were given).
    for (const auto& result : pending.results) {
      const std::string id = result.value("toolCallId", std::string());
      const bool of_a_call =
          std::any_of(pending.calls.begin(), pending.calls.end(), [&](const json& call) { return call.value("toolCallId", "") == id; });
      if (!of_a_call) content.push_back(result);
    }
    transcript_.insert(pending.position, tool_message(std::move(content)));
  }

  // Runs one checked call through its tool's chain; whatever goes wrong (except an abort or a
  // failure that ends the run) becomes the result the model sees.
  // `decided` is a decision the messages gave the call ({action}), or null.
  Task<void> run_tool(int step, const CheckedCall& checked, json& result_part, json decided = json()) {
    std::string error = checked.error;
    json value;
    if (error.empty() && checked.tool->spec.callback.empty()) {
      // A tool the run's caller executes: its call is handed out as it is, like a deferred approval.
      if (config_.can_defer) co_return;
      error = "Tool \"" + checked.name + "\" has no execute function, and only a root prompt run can leave a call to its caller.";
    }
    if (error.empty()) {
      json context = config_.call_context;
      context["toolCallId"] = checked.id;
      context["toolName"] = checked.name;
      context["stepNumber"] = step;
      pipeline::Call call = pipeline::tool_call(env_, checked.name, checked.args, std::move(context));
      // A call the messages decided cannot be deferred again: the run is answering it now.
      call.can_defer = config_.can_defer && decided.is_null();
      call.decided = std::move(decided);
      try {
        value = co_await checked.tool->chain->call(std::move(call));
      } catch (const pipeline::RunFailed&) {
        throw;
      } catch (const OpFailed& e) {
        if (e.error.kind == "aborted" || env_.cancelled()) throw;
        if (e.error.kind == "approval_deferred") co_return;  // no result: the run ends after this step
        error = e.error.message;
      }
    }
    json event{{"stepNumber", step}, {"toolCallId", checked.id}, {"toolName", checked.name}, {"args", checked.args}};
    result_part = {{"type", "tool-result"}, {"toolCallId", checked.id}, {"toolName", checked.name}};
    if (error.empty()) {
      result_part["result"] = value;
      event["type"] = "tool-result";
      event["result"] = std::move(value);
    } else {
      result_part["result"] = {{"error", error}};
      result_part["isError"] = true;
      event["type"] = "tool-error";
      event["error"] = error;
    }
    env_.emit(std::move(event));
  }

  // `results` has one slot per call (null: deferred, no result yet).
  static json record_of(int step, const StepPlan& plan, std::string text, std::string reasoning, const std::vector<CheckedCall>& calls,
                        const std::vector<json>& results, const json& response) {
    // A call that failed the checks is marked `invalid`: its arguments are what the model wrote,
    // not what the tool's parameters promise (typed results rely on this).
    json tool_calls = json::array();
    for (const auto& call : calls) {
      tool_calls.push_back({{"toolCallId", call.id}, {"toolName", call.name}, {"args", call.args}});
      if (!call.error.empty()) tool_calls.back()["invalid"] = true;
    }
    // A step's tool results carry their call's arguments, as the AI SDK's do (the conversation's
    // tool-result parts do not: the model already has them in the call).
    json tool_results = json::array();
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (results[i].is_null()) continue;
      json entry{{"type", "tool-result"}, {"toolCallId", calls[i].id}, {"toolName", calls[i].name}, {"args", calls[i].args}};
      for (const char* key : {"result", "isError"})
        if (results[i].contains(key)) entry[key] = results[i][key];
      if (!calls[i].error.empty()) entry["invalid"] = true;
      tool_results.push_back(std::move(entry));
    }
    json record{{"stepNumber", step}, {"model", response.value("modelId", plan.model)}, {"text", std::move(text)}};
    // Only a step that had reasoning carries it (the AI SDK's `reasoningText`), so records stay small.
    if (!reasoning.empty()) record["reasoningText"] = std::move(reasoning);
    record["toolCalls"] = std::move(tool_calls);
    record["toolResults"] = std::move(tool_results);
    record["finishReason"] = response.value("finishReason", "other");
    record["usage"] = add_usage(json::object(), response.value("usage", json::object()));
    // The provider's metadata of the answer (the AI SDK's `response.id`, `timestamp`, `headers`),
    // where the host gave it: nothing is allocated for a model that gives none.
    for (const auto& [from, to] : {std::pair{"responseId", "id"}, {"timestamp", "timestamp"}, {"headers", "headers"}})
      if (auto it = response.find(from); it != response.end()) record["response"][to] = *it;
    return record;
  }

  const pipeline::CallEnv& env_;
  const pipeline::Chain& model_chain_;
  Transcript& transcript_;
  AgentLoopConfig config_;
  json last_tool_call_;
};

}  // namespace

Task<LoopOutcome> run_agent_loop(const pipeline::CallEnv& env, const pipeline::Chain& model_chain, Transcript& transcript, AgentLoopConfig config) {
  AgentLoop loop(env, model_chain, transcript, std::move(config));
  co_return co_await loop.run();
}

}  // namespace lmthing::agent

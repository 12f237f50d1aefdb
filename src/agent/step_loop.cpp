#include "agent/step_loop.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include "agent/content.hpp"
#include "agent/guarded_calls.hpp"
#include "agent/tool_calls.hpp"
#include "agent/tool_gate.hpp"
#include "runtime/when_all.hpp"

namespace lmthing::agent {

using protocol::WireError;

namespace {

// What the hooks changed for one step.
struct StepOverrides {
  std::optional<std::string> system;
  std::optional<json> messages;
  std::optional<std::vector<std::string>> active_tools;
  std::optional<std::vector<std::string>> active_systems;
  std::optional<std::vector<std::string>> active_variables;
  std::optional<json> tool_choice;
  std::optional<std::string> model;
};

[[noreturn]] void fail(const std::string& kind, const std::string& message, json extra = json::object()) {
  throw OpFailed(WireError{kind, message, std::move(extra)});
}

std::vector<std::string> string_list(const json& value, const std::string& what) {
  if (!value.is_array()) fail("callback", what + " must be an array of names, got " + value.type_name());
  std::vector<std::string> names;
  for (const auto& item : value) {
    if (!item.is_string()) fail("callback", what + " must contain only strings, got " + item.dump());
    names.push_back(item.get<std::string>());
  }
  return names;
}

// Later hooks override fields set by earlier ones; fields a hook leaves out stay as they were.
void merge_overrides(StepOverrides& into, const json& returned, std::size_t hook_index) {
  if (returned.is_null()) return;
  const std::string who = "hook #" + std::to_string(hook_index + 1);
  if (!returned.is_object()) fail("callback", who + " must return an object or nothing, got " + std::string(returned.type_name()));
  for (const auto& [key, value] : returned.items()) {
    if (value.is_null()) continue;
    if (key == "system") {
      if (!value.is_string()) fail("callback", who + ": \"system\" must be a string");
      into.system = value.get<std::string>();
    } else if (key == "messages") {
      if (!value.is_array()) fail("callback", who + ": \"messages\" must be an array of messages");
      into.messages = value;
    } else if (key == "activeTools") {
      into.active_tools = string_list(value, who + ": \"activeTools\"");
    } else if (key == "activeSystems") {
      into.active_systems = string_list(value, who + ": \"activeSystems\"");
    } else if (key == "activeVariables") {
      into.active_variables = string_list(value, who + ": \"activeVariables\"");
    } else if (key == "toolChoice") {
      into.tool_choice = value;
    } else if (key == "model") {
      if (!value.is_string()) fail("callback", who + ": \"model\" must be a model reference");
      into.model = value.get<std::string>();
    } else {
      fail("callback", who + " returned unknown field \"" + key +
                           "\" (expected system, messages, activeTools, activeSystems, activeVariables, toolChoice, model)");
    }
  }
}

json merged(json base, const json& extra) {
  base.update(extra);
  return base;
}

json add_usage(const json& total, const json& usage) {
  auto field = [&](const json& j, const char* key) { return j.is_object() ? j.value(key, 0.0) : 0.0; };
  json sum;
  for (const char* key : {"inputTokens", "outputTokens", "totalTokens"}) sum[key] = field(total, key) + field(usage, key);
  return sum;
}

class PromptRun {
 public:
  PromptRun(Loop& loop, RunId run, PromptSpec spec, policy::HumanDesk& desk)
      : loop_(loop),
        run_(run),
        spec_(std::move(spec)),
        calls_(loop, run, spec_, [this](json event) { emit(std::move(event)); }),
        desk_(desk),
        gate_(loop, run, desk, spec_) {
    conversation_ = spec_.messages;
    desk_.attach(run_, spec_.human);
  }
  ~PromptRun() { desk_.detach(run_); }
  PromptRun(const PromptRun&) = delete;
  PromptRun& operator=(const PromptRun&) = delete;

  Task<json> run() {
    set_deadline();
    json last_step;
    for (int step = 0; step < spec_.options.max_steps; ++step) {
      StepOverrides overrides = co_await call_hooks(step);
      const std::vector<const ToolSpec*> offered = offered_tools(overrides);
      const std::optional<std::string> system = system_prompt(overrides);
      emit({{"type", "step-start"}, {"stepNumber", step}, {"system", system ? json(*system) : json()}, {"activeTools", names(offered)}});

      const bool synced = !overrides.messages;
      json response = co_await calls_.generate(model_request(step, overrides, offered, system), overrides.model);
      const json content = response["content"];
      conversation_.push_back({{"role", "assistant"}, {"content", content}});
      // The host appended the same assistant turn to its copy of a synced conversation.
      if (synced) host_has_ = conversation_.size();
      usage_ = add_usage(usage_, response.value("usage", json::object()));

      std::vector<CheckedCall> calls;
      for (const auto& part : content)
        if (part.value("type", "") == "tool-call") calls.push_back(check_tool_call(offered, part));
      json results = co_await run_tools(step, calls);
      if (!calls.empty()) conversation_.push_back({{"role", "tool"}, {"content", results}});

      last_step = step_record(step, content, calls, results, response);
      steps_.push_back(last_step);
      emit(merged(last_step, {{"type", "step-finish"}}));
      if (calls.empty()) {
        // A response validator may send the answer back for another step (docs/human-in-the-loop.md).
        std::optional<std::string> feedback = co_await gate_.check_response(step, last_step["text"].get<std::string>());
        if (!feedback) break;
        conversation_.push_back({{"role", "user"}, {"content", *feedback}});
        continue;
      }
      if (auto constraint = spec_.policies->ledger().graceful_stop(loop_.now_ms())) {
        emit({{"type", "budget-stop"}, {"constraint", *constraint}, {"stepNumber", step}});
        budget_stop_ = true;
        break;
      }
      if (spec_.stop_when) {
        const bool stop = co_await should_stop(last_step);
        if (stop) break;
      }
    }
    co_return finish(last_step);
  }

 private:
  Task<StepOverrides> call_hooks(int step) {
    StepOverrides overrides;
    for (std::size_t i = 0; i < spec_.hooks.size(); ++i) {
      json input{{"stepNumber", step}, {"messages", conversation_}, {"steps", steps_}, {"lastToolCall", last_tool_call_}};
      json payload{{"fn", spec_.hooks[i]}, {"args", json::array({input})}};
      json returned = co_await loop_.op(run_, "callback.invoke", std::move(payload));
      merge_overrides(overrides, returned, i);
    }
    co_return overrides;
  }

  std::vector<const ToolSpec*> offered_tools(const StepOverrides& overrides) const {
    std::vector<const ToolSpec*> offered;
    if (!overrides.active_tools) {
      for (const auto& tool : spec_.tools) offered.push_back(&tool);
      return offered;
    }
    for (const auto& name : *overrides.active_tools) {
      const ToolSpec* tool = spec_.find_tool(name);
      if (!tool) {
        std::string defined;
        for (const auto& t : spec_.tools) defined += (defined.empty() ? "" : ", ") + t.name;
        fail("callback", "a hook activated unknown tool \"" + name + "\" (defined tools: " + (defined.empty() ? "none" : defined) + ")");
      }
      offered.push_back(tool);
    }
    return offered;
  }

  std::optional<std::string> system_prompt(const StepOverrides& overrides) const {
    if (overrides.system) return overrides.system;
    try {
      return prompt::render(spec_.definitions, prompt::RenderFilter{overrides.active_systems, overrides.active_variables});
    } catch (const prompt::DefinitionError& e) {
      fail("callback", std::string("a hook's activeSystems/activeVariables: ") + e.what());
    }
  }

  json model_request(int step, const StepOverrides& overrides, const std::vector<const ToolSpec*>& offered,
                     const std::optional<std::string>& system) const {
    json tools = json::array();
    for (const ToolSpec* tool : offered)
      tools.push_back({{"name", tool->name}, {"description", tool->description}, {"parameters", tool->parameters}});
    json request{{"step", step}, {"system", system ? json(*system) : json()}, {"tools", std::move(tools)}, {"params", spec_.options.params}};
    if (overrides.messages) {
      request["messages"] = *overrides.messages;  // a hook's messages, for this step only
    } else {
      // Only what the host does not have yet: sending the whole history every step would make a
      // run quadratic in its length.
      json append = json::array();
      for (std::size_t i = host_has_; i < conversation_.size(); ++i) append.push_back(conversation_[i]);
      request["conversation"] = {{"base", host_has_}, {"append", std::move(append)}};
    }
    const json& choice = overrides.tool_choice ? *overrides.tool_choice : spec_.options.tool_choice;
    if (!choice.is_null()) request["toolChoice"] = choice;
    return request;
  }

  Task<json> run_tools(int step, const std::vector<CheckedCall>& calls) {
    json results = json::array();
    if (calls.empty()) co_return results;
    std::vector<json> slots(calls.size());
    std::vector<Task<void>> tasks;
    for (std::size_t i = 0; i < calls.size(); ++i) {
      emit({{"type", "tool-call"}, {"stepNumber", step}, {"toolCallId", calls[i].id}, {"toolName", calls[i].name}, {"args", calls[i].args}});
      tasks.push_back(run_tool(step, calls[i], slots[i]));
      last_tool_call_ = {{"toolCallId", calls[i].id}, {"toolName", calls[i].name}, {"args", calls[i].args}};
    }
    co_await when_all(loop_, std::move(tasks));
    for (auto& slot : slots) results.push_back(std::move(slot));
    co_return results;
  }

  // Runs one checked call; whatever goes wrong (except an abort) becomes the result the model sees.
  Task<void> run_tool(int step, const CheckedCall& call, json& result_part) {
    json base{{"stepNumber", step}, {"toolCallId", call.id}, {"toolName", call.name}, {"args", call.args}};
    std::string error = call.error;
    json value;
    if (error.empty()) {
      // Guards and approval may answer instead of the tool, redirect it or change its arguments.
      ToolGate::Pass pass = co_await gate_.before(step, call);
      base["args"] = pass.args;
      if (!pass.run) {
        if (pass.is_error)
          error = pass.answer["error"].get<std::string>();
        else
          value = pass.answer;
      } else {
        try {
          json context{{"toolCallId", call.id}, {"toolName", call.name}};
          value = co_await calls_.call_tool(pass.tool, pass.args, std::move(context));
        } catch (const OpFailed& e) {
          // A cancelled run (abort, run timeout, hard budget) ends here; any other failure is the model's to handle.
          if (e.error.kind == "aborted" || loop_.run_cancelled(run_)) throw;
          error = e.error.message;
        }
        if (error.empty()) {
          std::optional<std::string> invalid = co_await gate_.after(step, call, pass.tool, pass.args, value);
          if (invalid) error = *invalid;
        }
      }
    }
    result_part = {{"type", "tool-result"}, {"toolCallId", call.id}, {"toolName", call.name}};
    if (error.empty()) {
      result_part["result"] = value;
      emit(merged(base, {{"type", "tool-result"}, {"result", value}}));
    } else {
      result_part["result"] = {{"error", error}};
      result_part["isError"] = true;
      emit(merged(base, {{"type", "tool-error"}, {"error", error}}));
    }
  }

  Task<bool> should_stop(const json& step) {
    json payload{{"fn", *spec_.stop_when}, {"args", json::array({step})}};
    json verdict = co_await loop_.op(run_, "callback.invoke", std::move(payload));
    co_return verdict.is_boolean() ? verdict.get<bool>() : !verdict.is_null();
  }

  json step_record(int step, const json& content, const std::vector<CheckedCall>& calls, const json& results, const json& response) const {
    json tool_calls = json::array();
    for (const auto& call : calls) tool_calls.push_back({{"toolCallId", call.id}, {"toolName", call.name}, {"args", call.args}});
    return json{{"stepNumber", step},
                {"text", text_of(content)},
                {"toolCalls", std::move(tool_calls)},
                {"toolResults", results},
                {"finishReason", response.value("finishReason", "other")},
                {"usage", add_usage(json::object(), response.value("usage", json::object()))}};
  }

  // The run's own time limit and, for a root run, the hard duration budget of its tree: whichever
  // comes first cancels the run with its error.
  void set_deadline() {
    std::optional<std::pair<double, WireError>> deadline;
    if (spec_.options.timeout_ms > 0)
      deadline.emplace(spec_.options.timeout_ms,
                       WireError{"timeout", "the run timed out after " + format_ms(spec_.options.timeout_ms) + " ms", json::object()});
    if (spec_.policies->root() == run_)
      if (auto budget = spec_.policies->ledger().hard_deadline(); budget && (!deadline || budget->first < deadline->first))
        deadline.emplace(budget->first, budget->second.error());
    if (deadline) loop_.set_deadline(run_, deadline->first, deadline->second);
  }

  json finish(const json& last_step) const {
    json result{{"text", last_step.value("text", "")},
                {"finishReason", budget_stop_ ? json("budget") : json(last_step.value("finishReason", "other"))},
                {"usage", usage_},
                {"steps", steps_},
                {"messages", conversation_}};
    if (spec_.response_validator) result["object"] = parse_response(result["text"].get<std::string>());
    return result;
  }

  // The final text of an agent with a response schema: JSON (optionally in a ``` fence), validated.
  json parse_response(const std::string& answer) const {
    const std::string text = json_body(answer);
    json value = json::parse(text, nullptr, false);
    if (value.is_discarded()) fail("validation", "the final answer is not JSON: " + text.substr(0, 200));
    auto verdict = spec_.response_validator->validate(value);
    if (!verdict.valid)
      fail("validation", "the final answer does not match the response schema; " + schema::describe(verdict),
           json{{"errors", schema::issues_json(verdict)}});
    return value;
  }

  static json names(const std::vector<const ToolSpec*>& tools) {
    json list = json::array();
    for (const ToolSpec* tool : tools) list.push_back(tool->name);
    return list;
  }

  void emit(json event) const { loop_.emit(json{{"type", "run.event"}, {"run", run_}, {"event", std::move(event)}}); }

  Loop& loop_;
  RunId run_;
  PromptSpec spec_;
  GuardedCalls calls_;
  bool budget_stop_ = false;  // a graceful duration constraint ended the loop
  policy::HumanDesk& desk_;
  ToolGate gate_;  // after spec_, which it refers to
  json conversation_;
  std::size_t host_has_ = 0;  // how many messages of conversation_ the host holds (see model_request)
  json steps_ = json::array();
  json usage_ = add_usage(json::object(), json::object());
  json last_tool_call_;
};

}  // namespace

Task<json> run_prompt(Loop& loop, RunId run, PromptSpec spec, policy::HumanDesk& desk) {
  PromptRun state(loop, run, std::move(spec), desk);
  co_return co_await state.run();
}

}  // namespace lmthing::agent

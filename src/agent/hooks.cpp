// defHook (and runPrompt's prepareStep) as a step seam: before every step of a prompt run, each hook is called with
// {stepNumber, messages, steps, lastToolCall} and may change that step (system, messages,
// activeTools, activeSystems, activeVariables, toolChoice, model, and the call's params and
// providerOptions); later hooks override earlier ones. prepareStep's system and messages carry
// forward to later steps (the AI SDK 7's rule); everything else is the step's own.
#include "agent/prompt_spec.hpp"
#include "pipeline/host_callback.hpp"
#include "protocol/fields.hpp"

namespace lmthing::agent {

namespace {

using pipeline::StepOverrides;
using protocol::WireError;

[[noreturn]] void bad_hook_value(const std::string& message) { throw OpFailed(WireError{"callback", message, json::object()}); }

std::vector<std::string> string_list(const json& value, const std::string& what) {
  if (!value.is_array()) bad_hook_value(what + " must be an array of names, got " + value.type_name());
  std::vector<std::string> names;
  for (const auto& item : value) {
    if (!item.is_string()) bad_hook_value(what + " must contain only strings, got " + item.dump());
    names.push_back(item.get<std::string>());
  }
  return names;
}

// `over` laid over `base`: objects member by member, all else replaced (as the AI SDK merges a
// step's providerOptions over the call's).
void merge_objects(json& base, const json& over) {
  for (const auto& [key, value] : over.items()) {
    if (value.is_object() && base.contains(key) && base[key].is_object())
      merge_objects(base[key], value);
    else
      base[key] = value;
  }
}

void merge(StepOverrides& into, const json& returned, const std::string& who) {
  if (returned.is_null()) return;
  if (!returned.is_object()) bad_hook_value(who + " must return an object or nothing, got " + std::string(returned.type_name()));
  for (const auto& [key, value] : returned.items()) {
    if (value.is_null()) continue;
    if (key == "system") {
      if (!value.is_string()) bad_hook_value(who + ": \"system\" must be a string");
      into.system = value.get<std::string>();
    } else if (key == "messages") {
      if (!value.is_array()) bad_hook_value(who + ": \"messages\" must be an array of messages");
      into.messages = value;
    } else if (key == "activeTools") {
      into.active_tools = string_list(value, who + ": \"activeTools\"");
    } else if (key == "toolOrder") {
      into.tool_order = string_list(value, who + ": \"toolOrder\"");
    } else if (key == "activeSystems") {
      into.active_systems = string_list(value, who + ": \"activeSystems\"");
    } else if (key == "activeVariables") {
      into.active_variables = string_list(value, who + ": \"activeVariables\"");
    } else if (key == "toolChoice") {
      if (!is_tool_choice(value))
        bad_hook_value(who + ": \"toolChoice\" must be 'auto', 'none', 'required' or {type: 'tool', toolName}, got " + value.dump().substr(0, 100));
      into.tool_choice = value;
    } else if (key == "model") {
      if (!value.is_string()) bad_hook_value(who + ": \"model\" must be a model reference");
      into.model = value.get<std::string>();
    } else if (key == "params") {
      if (!value.is_object()) bad_hook_value(who + ": \"params\" must be an object of generation settings");
      for (const auto& [name, setting] : value.items()) into.params[name] = setting;
    } else if (key == "providerOptions") {
      if (!value.is_object()) bad_hook_value(who + ": \"providerOptions\" must be an object of provider names to option objects");
      for (const auto& [provider, options] : value.items())
        if (!options.is_object())
          bad_hook_value(who + ": \"providerOptions\" of " + protocol::in_quotes(provider) + " must be an object, got " + options.type_name());
      if (!into.provider_options) into.provider_options = json::object();
      merge_objects(*into.provider_options, value);
    } else {
      static const std::vector<std::string> kFields{"system",     "messages", "activeTools", "activeSystems",   "activeVariables",
                                                    "toolChoice", "model",    "params",      "providerOptions", "toolOrder"};
      const auto guess = protocol::nearest(key, kFields);
      bad_hook_value(who + " returned unknown field " + protocol::in_quotes(key) + " (" +
                     (guess ? "did you mean " + protocol::in_quotes(*guess) + "? " : "") + "expected " + protocol::joined(kFields) + ")");
    }
  }
}

// A callback to call before each step, and how errors name it ("hook #2", "prepareStep").
struct Hook {
  std::string callback;
  std::string who;
  // prepareStep's system and messages hold for the steps after it too, as the AI SDK 7's do
  // (a defHook's change is its step's only).
  bool carries_forward = false;
};

// What a hook that carries forward last returned: its system, and its messages with the
// transcript's length then (the messages added since follow them at later steps).
struct Carried {
  std::optional<std::string> system;
  std::optional<json> messages;
  std::size_t transcript_size = 0;

  // The step's messages as the hook sees and sends them: the carried ones, then the newer ones.
  json messages_at(const json& transcript) const {
    json out = *messages;
    for (std::size_t i = transcript_size; i < transcript.size(); ++i) out.push_back(transcript[i]);
    return out;
  }
};

class HooksSeam : public pipeline::StepSeam {
 public:
  explicit HooksSeam(std::vector<Hook> hooks) : hooks_(std::move(hooks)) {}

  Task<void> before_step(pipeline::StepState& state, const pipeline::CallEnv& env) override {
    for (const auto& [callback, who, carries_forward] : hooks_) {
      const bool carried_messages = carries_forward && carried_.messages.has_value();
      json input{{"stepNumber", state.step},
                 {"messages", carried_messages ? carried_.messages_at(state.messages) : state.messages},
                 {"steps", state.steps},
                 {"lastToolCall", state.last_tool_call}};
      const json returned = co_await pipeline::call_host_callback(env, callback, std::move(input), who);
      merge(state.overrides, returned, who);
      if (carries_forward) carry(state, returned);
      // Named here, where the message can say which hook it was.
      for (const char* field : {"activeTools", "toolOrder"}) {
        if (!env.tools || !returned.is_object() || !returned.contains(field) || returned[field].is_null()) continue;
        for (const auto& name : returned[field])
          if (!env.tools->find(name.get<std::string>()))
            bad_hook_value(who + ": \"" + field + "\" names unknown tool " + protocol::unknown_tool(name.get<std::string>(), env.tools->names()));
      }
      if (env.tools && returned.is_object() && returned.contains("toolChoice") && returned["toolChoice"].is_object()) {
        const std::string name = returned["toolChoice"]["toolName"].get<std::string>();
        if (!env.tools->find(name)) bad_hook_value(who + ": \"toolChoice\" names unknown tool " + protocol::unknown_tool(name, env.tools->names()));
      }
    }
  }

 private:
  // Remembers what the hook returned for the steps after it, and gives this step what it carried
  // from an earlier one unless this step has its own.
  void carry(pipeline::StepState& state, const json& returned) {
    const auto given = [&](const char* field) { return returned.is_object() && returned.contains(field) && !returned[field].is_null(); };
    if (given("system"))
      carried_.system = state.overrides.system;
    else if (carried_.system && !state.overrides.system)
      state.overrides.system = carried_.system;
    if (given("messages")) {
      carried_.messages = *state.overrides.messages;
      carried_.transcript_size = state.messages.size();
    } else if (carried_.messages && !state.overrides.messages) {
      state.overrides.messages = carried_.messages_at(state.messages);
    }
  }

  std::vector<Hook> hooks_;
  Carried carried_;
};

// The defHooks in order, then the run's prepareStep (which so has the last word).
std::unique_ptr<pipeline::StepSeam> make_hooks(const pipeline::StepSeamContext& context) {
  std::vector<Hook> hooks;
  for (auto& callback : context.spec.strings("hooks")) hooks.push_back({std::move(callback), "hook #" + std::to_string(hooks.size() + 1)});
  if (auto prepare = context.spec.optional_string("prepareStep")) hooks.push_back({std::move(*prepare), "prepareStep", true});
  if (hooks.empty()) return nullptr;
  return std::make_unique<HooksSeam>(std::move(hooks));
}

}  // namespace

}  // namespace lmthing::agent

namespace lmthing::pipeline::registered {
extern const StepSeamType hooks_seam{"hooks", agent::make_hooks};
}  // namespace lmthing::pipeline::registered

#include "agent/prompt_spec.hpp"

#include <algorithm>

#include "protocol/json_text.hpp"

#include "pipeline/registry.hpp"
#include "prompt/yaml.hpp"
#include "schema/validator_cache.hpp"

namespace lmthing::agent {

using protocol::FieldReader;
using protocol::ProtocolError;

namespace {

constexpr const char* kWhere = "run.start spec (prompt)";

// Kept as a table (clang-format would put one name per line).
// clang-format off
const std::vector<std::string> kSpecFields = {
    "kind", "model", "systems", "variables", "messages",
    "tools", "hooks", "stopWhen", "onStepFinish", "prepareStep",
    "responseSchema", "responseSchemaRetries", "options", "retry", "fallback",
    "circuitBreaker", "definitions", "limits", "parentRun", "parentOp",
    "seed", "host", "path", "responseValidator", "storage",
    "sessionId", "agent", "cache", "observe", "role",
    "responseCheck", "responseSchemaName", "responseSchemaDescription", "repairToolCall",
    "providerOptions", "onStart", "onStepStart", "onStepError", "steering",
    "refineToolInput", "refineTools"};
// clang-format on
const std::vector<std::string> kOptionFields = {"maxSteps",      "maxRetries",    "toolChoice",     "params",        "toolCallConcurrency",
                                                "timeoutMs",     "activeTools",   "modelTimeoutMs", "toolTimeoutMs", "toolOrder",
                                                "streamRetries", "timeoutSpentMs"};

std::string at(const char* list, std::size_t index) { return std::string(kWhere) + ": " + list + "[" + std::to_string(index) + "]"; }

void read_definitions(const FieldReader& spec, prompt::Definitions& definitions) {
  if (const json* systems = spec.optional_array("systems"))
    for (std::size_t i = 0; i < systems->size(); ++i) {
      FieldReader item((*systems)[i], at("systems", i));
      definitions.defSystem(item.string("name"), item.optional_string("value", true).value_or(""));
    }
  if (const json* variables = spec.optional_array("variables"))
    for (std::size_t i = 0; i < variables->size(); ++i) {
      FieldReader item((*variables)[i], at("variables", i));
      const std::string name = item.string("name");
      if (item.has("data")) {
        // defData arrives as JSON text so that the user's key order survives (lmthing::Json sorts keys).
        // Parsed with the engine's depth limit: a deeper value fails the run with LIMIT_EXCEEDED.
        lmthing::Json data;
        try {
          data = protocol::parse_limited<lmthing::Json>(*item.optional_string("data"), "defData value \"" + name + "\"");
        } catch (const lmthing::Json::parse_error&) {
          item.fail("\"data\" is not valid JSON text");
        }
        std::string yaml = prompt::toYaml(data);
        if (!yaml.empty() && yaml.back() == '\n') yaml.pop_back();
        definitions.def(name, std::move(yaml));
      } else {
        definitions.def(name, item.optional_string("text", true).value_or(""));
      }
    }
}

void read_messages(const FieldReader& spec, json& messages) {
  const json* list = spec.optional_array("messages");
  if (!list) return;
  for (std::size_t i = 0; i < list->size(); ++i) {
    FieldReader item((*list)[i], at("messages", i));
    item.choice("role", {"user", "assistant", "system", "tool"});
    if (!item.has("role")) item.fail("missing \"role\" (user, assistant, system or tool)");
    const json& content = item.object().contains("content") ? item.at("content") : json();
    if (!(content.is_string() || content.is_array())) item.fail("content must be a string or an array of parts");
    messages.push_back((*list)[i]);
  }
}

std::vector<std::string> names_of(const std::vector<ToolSpec>& tools) {
  std::vector<std::string> names;
  for (const auto& tool : tools) names.push_back(tool.name);
  return names;
}

bool defines(const std::vector<ToolSpec>& tools, const std::string& name) {
  return std::any_of(tools.begin(), tools.end(), [&](const ToolSpec& tool) { return tool.name == name; });
}

// `field` (activeTools, toolOrder) names only defined tools.
void check_tool_names(const std::vector<std::string>& names, const std::vector<ToolSpec>& tools, const std::string& where, const char* field) {
  for (const auto& name : names)
    if (!defines(tools, name))
      throw protocol::config_error(where + ": " + field + " names unknown tool " + protocol::unknown_tool(name, names_of(tools)));
}

// toolChoice: 'auto' | 'none' | 'required' | {type: 'tool', toolName} naming a defined tool.
void check_tool_choice(const json& choice, const std::vector<ToolSpec>& tools, const std::string& where) {
  if (choice.is_null()) return;
  if (!is_tool_choice(choice))
    throw ProtocolError(where + ": toolChoice must be 'auto', 'none', 'required' or {type: 'tool', toolName}, got " + choice.dump().substr(0, 100));
  if (!choice.is_object()) return;
  const std::string name = choice["toolName"].get<std::string>();
  if (!defines(tools, name)) throw protocol::config_error(where + ": toolChoice names unknown tool " + protocol::unknown_tool(name, names_of(tools)));
}

}  // namespace

bool is_tool_choice(const json& choice) {
  if (choice.is_string()) return choice == "auto" || choice == "none" || choice == "required";
  return choice.is_object() && choice.value("type", json()) == "tool" && choice.contains("toolName") && choice["toolName"].is_string();
}

ToolSpec parse_tool(const json& wire, const std::string& where) {
  FieldReader item(wire, where);
  item.only({"name", "description", "parameters", "callback", "options"}, "field");
  ToolSpec tool;
  tool.name = item.string("name");
  prompt::validateName(tool.name);
  tool.description = item.optional_string("description", true).value_or("");
  tool.parameters = item.has("parameters") ? item.at("parameters") : json{{"type", "object"}};
  tool.callback = item.optional_string("callback").value_or("");
  try {
    tool.validator = schema::shared_validator(tool.parameters);
  } catch (const std::exception& e) {
    throw protocol::config_error("the parameters of tool \"" + tool.name + "\" are not a valid JSON Schema: " + e.what());
  }
  if (const json* options = item.optional_object("options")) {
    FieldReader(*options, "tool \"" + tool.name + "\"").only(pipeline::known_tool_options());
    tool.options = *options;
  }
  return tool;
}

pipeline::RunSettings parse_run_settings(const FieldReader& spec, const FieldReader* options) {
  pipeline::RunSettings settings;
  for (const auto& key : pipeline::known_model_options())
    if (spec.has(key)) settings.model_options[key] = spec.at(key);
  if (options) {
    settings.max_retries = options->integer("maxRetries", 0, 100).value_or(settings.max_retries);
    settings.stream_retries = options->integer("streamRetries", 0, 100).value_or(0);
    settings.model_timeout_ms = options->ms("modelTimeoutMs").value_or(0);
    settings.tool_timeout_ms = options->ms("toolTimeoutMs").value_or(0);
  }
  return settings;
}

PromptSpec parse_prompt_spec(const json& spec) {
  PromptSpec parsed;
  FieldReader fields(spec, kWhere);
  try {
    fields.only(kSpecFields, "field");
    parsed.model = fields.string("model");
    read_definitions(fields, parsed.definitions);
    read_messages(fields, parsed.messages);
    if (const json* tools = fields.optional_array("tools"))
      for (std::size_t i = 0; i < tools->size(); ++i) {
        ToolSpec tool = parse_tool((*tools)[i], at("tools", i));
        for (const auto& other : parsed.tools)
          if (other.name == tool.name) throw ProtocolError(at("tools", i) + ": a tool named \"" + tool.name + "\" is already defined");
        parsed.tools.push_back(std::move(tool));
      }
    std::optional<FieldReader> options;
    if (const json* o = fields.optional_object("options")) {
      options.emplace(*o, std::string(kWhere) + ": options");
      options->only(kOptionFields);
      parsed.max_steps = options->integer("maxSteps", 1, 10000).value_or(20);
      parsed.tool_call_concurrency = options->integer("toolCallConcurrency", 1, 1000000).value_or(0);
      parsed.timeout_ms = options->ms("timeoutMs").value_or(0);
      parsed.timeout_spent_ms = options->ms("timeoutSpentMs").value_or(0);
      if (options->has("toolChoice")) parsed.tool_choice = options->at("toolChoice");
      if (const json* params = options->optional_object("params")) parsed.params = *params;
      if (options->has("activeTools")) parsed.active_tools = options->strings("activeTools");
      if (options->has("toolOrder")) parsed.tool_order = options->strings("toolOrder");
    }
    if (parsed.active_tools) check_tool_names(*parsed.active_tools, parsed.tools, std::string(kWhere) + ": options", "activeTools");
    check_tool_names(parsed.tool_order, parsed.tools, std::string(kWhere) + ": options", "toolOrder");
    check_tool_choice(parsed.tool_choice, parsed.tools, std::string(kWhere) + ": options");
    parsed.settings = parse_run_settings(fields, options ? &*options : nullptr);
    parsed.settings.primary_models = {parsed.model};
    parsed.host = fields.optional_string("host", true).value_or("");
    if (const json* path = fields.optional_array("path")) parsed.path = *path;
    fields.strings("hooks");  // checked here, used by the hooks seam
    fields.optional_string("prepareStep");
    fields.optional_string("repairToolCall");
    fields.optional_string("stopWhen");
    fields.optional_string("onStepFinish");
    for (const char* callback : {"onStart", "onStepStart", "onStepError", "steering", "refineToolInput"}) fields.optional_string(callback);
    fields.strings("refineTools");
    fields.optional_string("responseCheck");
    fields.optional_string("responseSchemaName");
    fields.optional_string("responseSchemaDescription", true);
    parsed.raw = spec;
  } catch (const prompt::DefinitionError& e) {
    throw protocol::config_error(std::string(kWhere) + ": " + e.what());
  }
  return parsed;
}

}  // namespace lmthing::agent

#include "agent/prompt_spec.hpp"

#include <algorithm>

#include "agent/tool_gate.hpp"
#include "prompt/yaml.hpp"

namespace lmthing::agent {

using protocol::ProtocolError;
using protocol::require_field;
using value_t = json::value_t;

namespace {

constexpr const char* kWhere = "run.start spec (prompt)";

std::string at(const char* list, std::size_t index) { return std::string(kWhere) + ": " + list + "[" + std::to_string(index) + "]"; }

void read_definitions(const json& spec, prompt::Definitions& definitions) {
  if (spec.contains("systems")) {
    const json& systems = require_field(spec, "systems", value_t::array, kWhere);
    for (std::size_t i = 0; i < systems.size(); ++i) {
      const std::string where = at("systems", i);
      definitions.defSystem(require_field(systems[i], "name", value_t::string, where).get<std::string>(),
                            require_field(systems[i], "value", value_t::string, where).get<std::string>());
    }
  }
  if (spec.contains("variables")) {
    const json& variables = require_field(spec, "variables", value_t::array, kWhere);
    for (std::size_t i = 0; i < variables.size(); ++i) {
      const std::string where = at("variables", i);
      const std::string name = require_field(variables[i], "name", value_t::string, where).get<std::string>();
      if (variables[i].contains("data")) {
        // defData arrives as JSON text so that the user's key order survives (nlohmann::json sorts keys).
        const std::string text = require_field(variables[i], "data", value_t::string, where).get<std::string>();
        auto data = nlohmann::ordered_json::parse(text, nullptr, false);
        if (data.is_discarded()) throw ProtocolError(where + ": \"data\" is not valid JSON text");
        std::string yaml = prompt::toYaml(data);
        if (!yaml.empty() && yaml.back() == '\n') yaml.pop_back();
        definitions.def(name, std::move(yaml));
      } else {
        definitions.def(name, require_field(variables[i], "text", value_t::string, where).get<std::string>());
      }
    }
  }
}

void read_messages(const json& spec, json& messages) {
  if (!spec.contains("messages")) return;
  const json& list = require_field(spec, "messages", value_t::array, kWhere);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = at("messages", i);
    const std::string role = require_field(list[i], "role", value_t::string, where).get<std::string>();
    if (role != "user" && role != "assistant" && role != "system" && role != "tool")
      throw ProtocolError(where + ": role must be user, assistant, system or tool, got \"" + role + "\"");
    if (!list[i].contains("content") || !(list[i]["content"].is_string() || list[i]["content"].is_array()))
      throw ProtocolError(where + ": content must be a string or an array of parts");
    messages.push_back(list[i]);
  }
}

std::shared_ptr<const schema::Validator> compile_schema(const json& schema, const std::string& where) {
  try {
    return std::make_shared<const schema::Validator>(schema);
  } catch (const std::exception& e) {
    throw ProtocolError(where + " is not a valid JSON Schema: " + e.what());
  }
}

std::string optional_name(const json& object, const char* field, const std::string& where) {
  if (!object.contains(field)) return {};
  const std::string name = require_field(object, field, value_t::string, where).get<std::string>();
  if (name.empty()) throw ProtocolError(where + ": \"" + field + "\" must name a policy, got an empty string");
  return name;
}

double optional_ms(const json& object, const char* field, const std::string& where) {
  if (!object.contains(field)) return 0;
  const double v = require_field(object, field, value_t::number_float, where).get<double>();
  if (!(v > 0 && v <= 1e12)) throw ProtocolError(where + ": \"" + field + "\" must be a number of milliseconds > 0, got " + object[field].dump());
  return v;
}

void read_tool_resilience(const json& entry, const std::string& where, ToolSpec& tool) {
  tool.retry = optional_name(entry, "retry", where);
  tool.fallback = optional_name(entry, "fallback", where);
  tool.circuit_breaker = optional_name(entry, "circuitBreaker", where);
  tool.timeout_ms = optional_ms(entry, "timeoutMs", where);
}

void read_tools(const json& spec, std::vector<ToolSpec>& tools) {
  if (!spec.contains("tools")) return;
  const json& list = require_field(spec, "tools", value_t::array, kWhere);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = at("tools", i);
    ToolSpec tool;
    tool.name = require_field(list[i], "name", value_t::string, where).get<std::string>();
    prompt::validateName(tool.name);
    for (const auto& other : tools)
      if (other.name == tool.name) throw ProtocolError(where + ": a tool named \"" + tool.name + "\" is already defined");
    tool.description = list[i].value("description", std::string());
    tool.parameters = list[i].contains("parameters") ? list[i]["parameters"] : json{{"type", "object"}};
    tool.callback = require_field(list[i], "callback", value_t::string, where).get<std::string>();
    tool.validator = compile_schema(tool.parameters, "the parameters of tool \"" + tool.name + "\"");
    read_tool_resilience(list[i], where, tool);
    read_tool_policy(list[i], tool, where);
    tools.push_back(std::move(tool));
  }
}

std::vector<std::string> read_hooks(const json& spec) {
  std::vector<std::string> hooks;
  if (!spec.contains("hooks")) return hooks;
  const json& list = require_field(spec, "hooks", value_t::array, kWhere);
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_string()) throw ProtocolError(at("hooks", i) + " must be a callback name (string)");
    hooks.push_back(list[i].get<std::string>());
  }
  return hooks;
}

PromptOptions read_options(const json& spec) {
  PromptOptions options;
  if (!spec.contains("options")) return options;
  const json& o = require_field(spec, "options", value_t::object, kWhere);
  const std::string where = std::string(kWhere) + ": options";
  if (o.contains("maxSteps")) {
    const double v = require_field(o, "maxSteps", value_t::number_float, where).get<double>();
    if (!(v >= 1 && v <= 10000)) throw ProtocolError(where + ": maxSteps must be between 1 and 10000, got " + o["maxSteps"].dump());
    options.max_steps = static_cast<int>(v);
  }
  if (o.contains("maxRetries")) {
    const double v = require_field(o, "maxRetries", value_t::number_float, where).get<double>();
    if (!(v >= 0 && v <= 100)) throw ProtocolError(where + ": maxRetries must be between 0 and 100, got " + o["maxRetries"].dump());
    options.max_retries = static_cast<int>(v);
  }
  if (o.contains("toolChoice")) options.tool_choice = o["toolChoice"];
  options.timeout_ms = optional_ms(o, "timeoutMs", where);
  options.model_timeout_ms = optional_ms(o, "modelTimeoutMs", where);
  options.tool_timeout_ms = optional_ms(o, "toolTimeoutMs", where);
  if (o.contains("params")) options.params = require_field(o, "params", value_t::object, where);
  return options;
}

}  // namespace

const ToolSpec* PromptSpec::find_tool(const std::string& name) const {
  for (const auto& tool : tools)
    if (tool.name == name) return &tool;
  return nullptr;
}

PromptSpec parse_prompt_spec(const json& spec) {
  PromptSpec parsed;
  try {
    parsed.model = require_field(spec, "model", value_t::string, kWhere).get<std::string>();
    read_definitions(spec, parsed.definitions);
    read_messages(spec, parsed.messages);
    read_tools(spec, parsed.tools);
    parsed.hooks = read_hooks(spec);
    if (spec.contains("stopWhen")) parsed.stop_when = require_field(spec, "stopWhen", value_t::string, kWhere).get<std::string>();
    if (spec.contains("responseSchema")) parsed.response_validator = compile_schema(spec["responseSchema"], "responseSchema");
    parsed.options = read_options(spec);
    parsed.retry = optional_name(spec, "retry", kWhere);
    parsed.fallback = optional_name(spec, "fallback", kWhere);
    parsed.circuit_breaker = optional_name(spec, "circuitBreaker", kWhere);
    parsed.human = policy::parse_human_policy(spec, kWhere);
    link_tool_policies(parsed);
  } catch (const prompt::DefinitionError& e) {
    throw ProtocolError(std::string(kWhere) + ": " + e.what());
  }
  return parsed;
}

namespace {

// Follows alternative fallbacks from `tool`; `path` holds the chain so far.
void check_alternatives(const PromptSpec& spec, const ToolSpec& tool, std::vector<std::string>& path) {
  if (tool.fallback.empty()) return;
  const policy::FallbackPolicy& fallback = spec.policies->fallback(tool.fallback);
  if (fallback.strategy != policy::FallbackPolicy::Strategy::Alternative) return;
  for (const auto& name : fallback.tools) {
    const ToolSpec* alternative = spec.find_tool(name);
    if (!alternative) {
      std::string defined;
      for (const auto& t : spec.tools) defined += (defined.empty() ? "" : ", ") + t.name;
      throw ProtocolError("fallback \"" + tool.fallback + "\" of tool \"" + tool.name + "\" names unknown tool \"" + name +
                          "\" (defined tools: " + (defined.empty() ? "none" : defined) + ")");
    }
    if (std::find(path.begin(), path.end(), name) != path.end()) {
      std::string cycle;
      for (const auto& step : path) cycle += step + " -> ";
      throw ProtocolError("fallback cycle: " + cycle + name + " (alternative tools must not lead back to a tool already tried)");
    }
    path.push_back(name);
    check_alternatives(spec, *alternative, path);
    path.pop_back();
  }
}

}  // namespace

void attach_policies(PromptSpec& spec, std::shared_ptr<policy::RunPolicies> policies) {
  spec.policies = std::move(policies);
  policy::RunPolicies& p = *spec.policies;
  try {
    if (!spec.retry.empty()) p.retry(spec.retry);
    if (!spec.circuit_breaker.empty()) p.breaker(spec.circuit_breaker);
    if (!spec.fallback.empty() && p.fallback(spec.fallback).strategy != policy::FallbackPolicy::Strategy::Cascade)
      throw ProtocolError(std::string(kWhere) + ": the run's fallback \"" + spec.fallback + "\" must be a cascade of models, not " +
                          to_string(p.fallback(spec.fallback).strategy));
    for (const auto& tool : spec.tools) {
      if (!tool.retry.empty()) p.retry(tool.retry);
      if (!tool.circuit_breaker.empty()) p.breaker(tool.circuit_breaker);
      if (!tool.fallback.empty() && p.fallback(tool.fallback).strategy == policy::FallbackPolicy::Strategy::Cascade)
        throw ProtocolError("tool \"" + tool.name + "\": fallback \"" + tool.fallback +
                            "\" is a model cascade; a tool takes an 'alternative' or 'default' fallback (give the cascade to defAgent or the run)");
      std::vector<std::string> path{tool.name};
      check_alternatives(spec, tool, path);
    }
  } catch (const std::invalid_argument& e) {
    throw ProtocolError(std::string(kWhere) + ": " + e.what());
  }
}

}  // namespace lmthing::agent

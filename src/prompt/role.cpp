// defRole: the `role` definition kind, the role each run has assumed, and its system-prompt section.
#include "prompt/role.hpp"

#include <algorithm>
#include <map>

#include "pipeline/registry.hpp"
#include "prompt/definitions.hpp"
#include "prompt/yaml.hpp"

namespace lmthing::prompt {

namespace {

using protocol::WireError;

bool listed(const std::vector<std::string>& names, const std::string& name) { return std::find(names.begin(), names.end(), name) != names.end(); }

[[noreturn]] void role_error(const std::string& code, const std::string& role, const std::string& message) {
  throw OpFailed(WireError{"role", message, json{{"code", code}, {"role", role}}});
}

void define_role(pipeline::RunTree& tree, const std::string& name, const protocol::FieldReader& config) {
  auto role = std::make_shared<RoleSpec>();
  role->name = name;
  role->capabilities = config.strings("capabilities");
  role->system_prompt = config.optional_string("systemPrompt", true).value_or("");
  if (const json* personality = config.optional_object("personality")) role->personality = *personality;
  if (const json* constraints = config.optional_object("constraints")) {
    protocol::FieldReader limits(*constraints, config.where() + " constraints");
    limits.only({"maxTokens", "allowedTools", "requiresApproval"}, "constraint");
    role->max_tokens = limits.positive("maxTokens");
    if (limits.has("allowedTools") && !limits.at("allowedTools").is_null()) role->allowed_tools = limits.strings("allowedTools");
    role->requires_approval = limits.strings("requiresApproval");
  }
  role->section = render_role(*role);  // now, so a personality YAML cannot render fails the definition
  // The role's text is the prompt's too: it may not end its own section or fake the variables'.
  if (auto tag = findRendererTag(role->body, {"role", "variables"}))
    throw protocol::config_error(config.where() + ": the role's text contains \"" + *tag +
                                 "\", a tag of the system prompt (a role's text cannot open or close the prompt's sections)");
  tree.definitions().add("role", name, std::move(role));
}

struct RoleStates {
  std::map<RunId, AssumedRole> runs;
};

// The tools a role assumed by this run may name: the run's own and those of the runs that started
// it (a role is often defined once at the root, for tools of the root and of its sub-agents).
std::vector<std::string> known_tools(RoleStates& states, RunId run) {
  std::vector<std::string> known;
  for (std::optional<RunId> at = run; at;) {
    auto it = states.runs.find(*at);
    if (it == states.runs.end()) break;
    if (it->second.tools)
      for (const auto& name : it->second.tools->names())
        if (!listed(known, name)) known.push_back(name);
    at = it->second.parent;
  }
  return known;
}

void check_tools(const RoleSpec& role, const std::vector<std::string>& tools, const char* field, const std::vector<std::string>& known) {
  for (const auto& tool : tools) {
    if (listed(known, tool)) continue;
    std::string message = "role \"" + role.name + "\": " + field + " names unknown tool \"" + tool + "\" (";
    if (auto guess = protocol::nearest(tool, known)) message += "did you mean \"" + *guess + "\"? ";
    role_error("ROLE_UNKNOWN_TOOL", role.name, message + "known tools: " + (known.empty() ? std::string("none") : protocol::joined(known)) + ")");
  }
}

}  // namespace

bool RoleSpec::allows(const std::string& tool) const { return !allowed_tools || listed(*allowed_tools, tool); }
bool RoleSpec::needs_approval(const std::string& tool) const { return listed(requires_approval, tool); }

AssumedRole& assumed_role(pipeline::RunTree& run_tree, RunId run) { return run_tree.tree_services().get<RoleStates>().runs[run]; }

void bind_role_tools(pipeline::RunTree& run_tree, RunId run, std::optional<RunId> parent, std::shared_ptr<const pipeline::ToolBox> tools) {
  AssumedRole& assumed = assumed_role(run_tree, run);
  assumed.tools = std::move(tools);
  assumed.parent = parent;
}

void release_role(pipeline::RunTree& run_tree, RunId run) { run_tree.tree_services().get<RoleStates>().runs.erase(run); }

json assume_role(pipeline::RunTree& run_tree, RunId run, const std::string& name) {
  const RoleSpec* role = run_tree.definitions().find<RoleSpec>("role", name);
  if (!role) {
    const std::vector<std::string> defined = run_tree.definitions().names("role");
    std::string message = "unknown role \"" + name + "\" (";
    if (auto guess = protocol::nearest(name, defined)) message += "did you mean \"" + *guess + "\"? ";
    role_error("ROLE_UNKNOWN", name, message + "defined: " + (defined.empty() ? std::string("none") : protocol::joined(defined)) + ")");
  }
  AssumedRole& assumed = assumed_role(run_tree, run);
  if (assumed.tools) {
    const std::vector<std::string> known = known_tools(run_tree.tree_services().get<RoleStates>(), run);
    if (role->allowed_tools) check_tools(*role, *role->allowed_tools, "allowedTools", known);
    check_tools(*role, role->requires_approval, "requiresApproval", known);
  }
  const RoleSpec* previous = assumed.role;
  assumed.role = role;
  assumed.budget = policy::Ledger();
  if (role->max_tokens) {
    policy::Constraint limit;
    limit.name = "role:" + role->name;
    limit.max = *role->max_tokens;
    assumed.budget.add(std::move(limit));
  }
  json event{{"type", "role-assumed"}, {"role", name}};
  if (previous) event["previous"] = previous->name;
  return event;
}

std::string render_role(RoleSpec& role) {
  json traits = json::object();
  if (!role.capabilities.empty()) traits["capabilities"] = role.capabilities;
  if (role.personality.is_object() && !role.personality.empty()) traits["personality"] = role.personality;
  role.body = role.system_prompt;
  if (!traits.empty()) {
    std::string yaml = toYaml(traits);
    if (!yaml.empty() && yaml.back() == '\n') yaml.pop_back();
    role.body += (role.body.empty() ? "" : "\n") + yaml;
  }
  if (role.body.empty()) return "";
  return "<role name=\"" + role.name + "\">\n" + role.body + "\n</role>";
}

}  // namespace lmthing::prompt

namespace lmthing::pipeline::registered {
extern const DefinitionKind role_kind{"role", "role", {"capabilities", "constraints", "personality", "systemPrompt"}, prompt::define_role, nullptr};
}  // namespace lmthing::pipeline::registered

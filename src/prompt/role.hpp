// defRole as a definition kind (docs/templates-roles-plugins.md) and the role a run has assumed.
// A role is named in the run tree ({kind: "role", name, config: {capabilities, constraints:
// {maxTokens, allowedTools, requiresApproval}, personality, systemPrompt}}); a run assumes one at
// its start (spec.role) or while live (`role.assume`), and from the next step on its system prompt
// has the role's section, only `allowedTools` are offered and run, `requiresApproval` tools ask
// first (policy/role_policy.cpp) and its model calls stop at `maxTokens`.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/run_tree.hpp"
#include "policy/constraints.hpp"

namespace lmthing::pipeline {
class ToolBox;
}

namespace lmthing::prompt {

struct RoleSpec {
  std::string name;
  std::vector<std::string> capabilities;
  std::optional<double> max_tokens;
  std::optional<std::vector<std::string>> allowed_tools;  // nullopt: every tool of the run
  std::vector<std::string> requires_approval;
  json personality;  // an object, or null
  std::string system_prompt;
  std::string body;     // the section's text between its tags: systemPrompt, then the traits as YAML
  std::string section;  // render_role(*this)

  bool allows(const std::string& tool) const;
  bool needs_approval(const std::string& tool) const;
};

// The role one run (not its whole tree) has assumed. Kept for the tree by run id (tree services).
struct AssumedRole {
  const RoleSpec* role = nullptr;
  std::shared_ptr<const pipeline::ToolBox> tools;  // the run's tools, which a role's lists must name
  std::optional<RunId> parent;                     // the run that started it (a sub-agent's parent)
  policy::Ledger budget;                           // the role's maxTokens, counted from when it was assumed
};

// `run` of `run_tree` (the run's own tree: its definitions are the ones it sees).
AssumedRole& assumed_role(pipeline::RunTree& run_tree, RunId run);

// The tools a run has and the run that started it, set once when the run starts (a role's tool
// lists are checked against the tools of the run and of the runs above it).
void bind_role_tools(pipeline::RunTree& run_tree, RunId run, std::optional<RunId> parent, std::shared_ptr<const pipeline::ToolBox> tools);

// Forgets what `run` assumed (when it ends).
void release_role(pipeline::RunTree& run_tree, RunId run);

// Makes role `name` the run's role. Throws OpFailed kind "role": code ROLE_UNKNOWN (with the nearest
// defined name), ROLE_UNKNOWN_TOOL (allowedTools or requiresApproval names a tool that neither the
// run nor a run above it has; not checked for directive runs, whose tools come and go).
// Returns the `role` event to emit.
json assume_role(pipeline::RunTree& run_tree, RunId run, const std::string& name);

// The role's section of the system prompt: `<role name="x">`, its systemPrompt, then its
// capabilities and personality as YAML, `</role>`; empty when the role has none of them.
// Sets `role.body` to the text between the tags.
std::string render_role(RoleSpec& role);

}  // namespace lmthing::prompt

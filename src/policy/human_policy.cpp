// The definition kinds of human-in-the-loop control: how each is read from spec.definitions.
#include "policy/human_policy.hpp"

#include <algorithm>

#include "pipeline/registry.hpp"
#include "schema/validator_cache.hpp"

namespace lmthing::policy {

using protocol::FieldReader;

bool ApprovalSpec::allows(const std::string& action) const { return std::find(options.begin(), options.end(), action) != options.end(); }

const char* to_string(OnFail mode) noexcept {
  switch (mode) {
    case OnFail::Throw: return "throw";
    case OnFail::Skip: return "skip";
    case OnFail::Redirect: return "redirect";
    case OnFail::PromptUser: return "prompt-user";
  }
  return "throw";
}

namespace {

std::shared_ptr<const schema::Validator> compile(const json& schema, const FieldReader& config, const char* field) {
  try {
    return schema::shared_validator(schema);
  } catch (const std::exception& e) {
    config.fail(std::string("\"") + field + "\" is not a valid JSON Schema: " + e.what());
  }
}

void define_approval(pipeline::RunTree& tree, const std::string& name, const FieldReader& config) {
  auto a = std::make_shared<ApprovalSpec>();
  a->name = name;
  a->message = config.optional_string("message").value_or("Allow \"" + name + "\"?");
  a->message_fn = config.optional_string("messageFn");
  a->options = {"approve", "deny"};
  if (config.has("options")) {
    a->options.clear();
    for (const auto& action : config.strings("options")) {
      if (action != "approve" && action != "deny" && action != "modify") config.bad("options", "a list of 'approve', 'deny', 'modify'");
      if (!a->allows(action)) a->options.push_back(action);
    }
    if (a->options.empty()) config.fail("\"options\" must offer at least one of approve, deny, modify");
  }
  a->timeout_ms = config.ms("timeoutMs", true).value_or(0);
  a->default_action = config.choice("defaultAction", {"approve", "deny"}).value_or("deny");
  a->show_preview = config.optional_bool("showPreview").value_or(true);
  tree.definitions().add("approval", name, a);
}

void define_guard(pipeline::RunTree& tree, const std::string& name, const FieldReader& config) {
  auto g = std::make_shared<GuardSpec>();
  g->name = name;
  g->condition = config.string("condition");
  const std::string mode = config.choice("onFail", {"throw", "skip", "redirect", "prompt-user"}).value_or("throw");
  g->on_fail = mode == "skip" ? OnFail::Skip : mode == "redirect" ? OnFail::Redirect : mode == "prompt-user" ? OnFail::PromptUser : OnFail::Throw;
  g->message = config.optional_string("message").value_or("guard \"" + name + "\" failed");
  g->tools = config.strings("tools");
  g->redirect_to = config.optional_string("redirectTo");
  g->approval = config.optional_string("approval");
  if (g->on_fail == OnFail::Redirect && !g->redirect_to) config.fail("onFail \"redirect\" needs \"redirectTo\" (the tool that runs instead)");
  tree.definitions().add("guard", name, g);
}

void link_guards(pipeline::RunTree& tree) {
  for (const auto& [name, guard] : tree.definitions().all<GuardSpec>("guard"))
    if (guard->approval) {
      try {
        tree.definitions().get<ApprovalSpec>("approval", *guard->approval);
      } catch (const protocol::ProtocolError& e) {
        throw e.prefixed("guard \"" + name + "\": ");
      }
    }
}

void define_validator(pipeline::RunTree& tree, const std::string& name, const FieldReader& config) {
  auto v = std::make_shared<ValidatorSpec>();
  v->name = name;
  if (config.has("schema")) v->schema = compile(config.at("schema"), config, "schema");
  v->fn = config.optional_string("fn");
  if (!v->schema && !v->fn) config.fail("a validator needs a \"schema\", a \"fn\", or both");
  tree.definitions().add("validator", name, v);
}

void define_interaction(pipeline::RunTree& tree, const std::string& name, const FieldReader& config) {
  auto i = std::make_shared<InteractionSpec>();
  i->name = name;
  i->kind = config.choice("kind", {"question", "choice"}).value_or("");
  if (i->kind.empty()) config.fail("\"kind\" is required: 'question' or 'choice'");
  i->message = config.optional_string("message").value_or(name);
  i->message_fn = config.optional_string("messageFn");
  if (const json* choices = config.optional_array("choices")) i->choices = *choices;
  i->choices_fn = config.optional_string("choicesFn");
  if (i->kind == "choice" && i->choices.empty() && !i->choices_fn)
    config.fail("a choice needs a non-empty \"choices\" array (or a function that returns them)");
  i->multiple = config.optional_bool("multiple").value_or(false);
  if (config.has("validation")) i->validation = compile(config.at("validation"), config, "validation");
  i->validation_check = config.optional_string("validationCheck");
  i->timeout_ms = config.ms("timeoutMs", true).value_or(0);
  i->allow_skip = config.optional_bool("allowSkip").value_or(false);
  if (config.object().contains("default")) i->default_value = config.at("default");
  i->max_attempts = config.integer("maxAttempts", 1, 100).value_or(3);
  tree.definitions().add("interaction", name, i);
}

}  // namespace

}  // namespace lmthing::policy

namespace lmthing::pipeline::registered {
extern const DefinitionKind approval_kind{
    "approval", "approval", {"message", "messageFn", "options", "timeoutMs", "defaultAction", "showPreview"}, policy::define_approval, nullptr};
extern const DefinitionKind guard_kind{
    "guard", "guard", {"condition", "onFail", "message", "tools", "redirectTo", "approval"}, policy::define_guard, policy::link_guards};
extern const DefinitionKind validator_kind{"validator", "validator", {"schema", "fn"}, policy::define_validator, nullptr};
extern const DefinitionKind interaction_kind{"interaction",
                                             "interaction",
                                             {"kind", "message", "messageFn", "choices", "choicesFn", "multiple", "validation", "validationCheck",
                                              "timeoutMs", "allowSkip", "default", "maxAttempts"},
                                             policy::define_interaction,
                                             nullptr};
}  // namespace lmthing::pipeline::registered

#include "policy/human_policy.hpp"

#include <algorithm>

namespace lmthing::policy {

using protocol::ProtocolError;
using protocol::require_field;
using value_t = json::value_t;

namespace {

std::string at(const std::string& where, const char* list, std::size_t index) { return where + ": " + list + "[" + std::to_string(index) + "]"; }

std::string read_name(const json& item, const std::string& where) {
  std::string name = require_field(item, "name", value_t::string, where).get<std::string>();
  if (name.empty()) throw ProtocolError(where + ": \"name\" must not be empty");
  return name;
}

std::optional<std::string> optional_string(const json& item, const char* field, const std::string& where) {
  if (!item.contains(field) || item[field].is_null()) return std::nullopt;
  std::string value = require_field(item, field, value_t::string, where).get<std::string>();
  if (value.empty()) throw ProtocolError(where + ": \"" + field + "\" must not be empty");
  return value;
}

bool optional_bool(const json& item, const char* field, bool fallback, const std::string& where) {
  if (!item.contains(field) || item[field].is_null()) return fallback;
  return require_field(item, field, value_t::boolean, where).get<bool>();
}

// A duration in ms: 0 (or absent) means no limit. Bounded so deadlines stay exact doubles.
double optional_ms(const json& item, const char* field, const std::string& where) {
  if (!item.contains(field) || item[field].is_null()) return 0;
  const double v = require_field(item, field, value_t::number_float, where).get<double>();
  if (!(v >= 0 && v <= 1e12)) throw ProtocolError(where + ": \"" + field + "\" must be between 0 and 1e12 ms, got " + item[field].dump());
  return v;
}

int optional_count(const json& item, const char* field, int fallback, int min, int max, const std::string& where) {
  if (!item.contains(field) || item[field].is_null()) return fallback;
  const double v = require_field(item, field, value_t::number_float, where).get<double>();
  if (!(v >= min && v <= max) || v != static_cast<int>(v))
    throw ProtocolError(where + ": \"" + field + "\" must be an integer between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                        item[field].dump());
  return static_cast<int>(v);
}

std::shared_ptr<const schema::Validator> compile(const json& schema, const std::string& where) {
  try {
    return std::make_shared<const schema::Validator>(schema);
  } catch (const std::exception& e) {
    throw ProtocolError(where + " is not a valid JSON Schema: " + e.what());
  }
}

const json& list_of(const json& spec, const char* field, const std::string& where) {
  static const json empty = json::array();
  if (!spec.contains(field)) return empty;
  return require_field(spec, field, value_t::array, where);
}

ApprovalSpec read_approval(const json& item, const std::string& where) {
  ApprovalSpec a;
  a.name = read_name(item, where);
  a.message = optional_string(item, "message", where).value_or("Allow \"" + a.name + "\"?");
  a.message_fn = optional_string(item, "messageFn", where);
  a.options = {"approve", "deny"};
  if (item.contains("options")) {
    const json& options = require_field(item, "options", value_t::array, where);
    a.options.clear();
    for (const auto& o : options) {
      const std::string action = o.is_string() ? o.get<std::string>() : "";
      if (action != "approve" && action != "deny" && action != "modify")
        throw ProtocolError(where + ": \"options\" may contain only approve, deny and modify, got " + o.dump());
      if (!a.allows(action)) a.options.push_back(action);
    }
    if (a.options.empty()) throw ProtocolError(where + ": \"options\" must offer at least one of approve, deny, modify");
  }
  a.timeout_ms = optional_ms(item, "timeoutMs", where);
  a.default_action = optional_string(item, "defaultAction", where).value_or("deny");
  if (a.default_action != "approve" && a.default_action != "deny")
    throw ProtocolError(where + ": \"defaultAction\" must be approve or deny, got \"" + a.default_action + "\"");
  a.show_preview = optional_bool(item, "showPreview", true, where);
  return a;
}

OnFail read_on_fail(const json& item, const std::string& where) {
  const std::string mode = optional_string(item, "onFail", where).value_or("throw");
  if (mode == "throw") return OnFail::Throw;
  if (mode == "skip") return OnFail::Skip;
  if (mode == "redirect") return OnFail::Redirect;
  if (mode == "prompt-user") return OnFail::PromptUser;
  throw ProtocolError(where + ": \"onFail\" must be throw, skip, redirect or prompt-user, got \"" + mode + "\"");
}

GuardSpec read_guard(const json& item, const std::string& where) {
  GuardSpec g;
  g.name = read_name(item, where);
  g.condition = require_field(item, "condition", value_t::string, where).get<std::string>();
  g.on_fail = read_on_fail(item, where);
  g.message = optional_string(item, "message", where).value_or("guard \"" + g.name + "\" failed");
  if (item.contains("tools"))
    for (const auto& t : require_field(item, "tools", value_t::array, where)) {
      if (!t.is_string() || t.get<std::string>().empty()) throw ProtocolError(where + ": \"tools\" must list tool names, got " + t.dump());
      g.tools.push_back(t.get<std::string>());
    }
  g.redirect_to = optional_string(item, "redirectTo", where);
  g.approval = optional_string(item, "approval", where);
  if (g.on_fail == OnFail::Redirect && !g.redirect_to)
    throw ProtocolError(where + ": onFail \"redirect\" needs \"redirectTo\" (the tool that runs instead)");
  return g;
}

ValidatorSpec read_validator(const json& item, const std::string& where) {
  ValidatorSpec v;
  v.name = read_name(item, where);
  if (item.contains("schema") && !item["schema"].is_null()) v.schema = compile(item["schema"], where + " schema");
  v.fn = optional_string(item, "fn", where);
  if (!v.schema && !v.fn) throw ProtocolError(where + ": a validator needs a \"schema\", a \"fn\", or both");
  return v;
}

InteractionSpec read_interaction(const json& item, const std::string& where) {
  InteractionSpec i;
  i.name = read_name(item, where);
  i.kind = require_field(item, "kind", value_t::string, where).get<std::string>();
  if (i.kind != "question" && i.kind != "choice") throw ProtocolError(where + ": \"kind\" must be question or choice, got \"" + i.kind + "\"");
  i.message = optional_string(item, "message", where).value_or(i.name);
  i.message_fn = optional_string(item, "messageFn", where);
  if (item.contains("choices")) i.choices = require_field(item, "choices", value_t::array, where);
  if (i.kind == "choice" && i.choices.empty()) throw ProtocolError(where + ": a choice needs a non-empty \"choices\" array");
  i.multiple = optional_bool(item, "multiple", false, where);
  if (item.contains("validation") && !item["validation"].is_null()) i.validation = compile(item["validation"], where + " validation");
  i.timeout_ms = optional_ms(item, "timeoutMs", where);
  i.allow_skip = optional_bool(item, "allowSkip", false, where);
  if (item.contains("default")) i.default_value = item["default"];
  i.max_attempts = optional_count(item, "maxAttempts", 3, 1, 100, where);
  return i;
}

}  // namespace

bool ApprovalSpec::allows(const std::string& action) const { return std::find(options.begin(), options.end(), action) != options.end(); }

const GuardSpec* HumanPolicy::find_guard(const std::string& name) const {
  for (const auto& g : guards)
    if (g.name == name) return &g;
  return nullptr;
}

namespace {

// Reads the list `field` of `spec` with `read` into `into`, by name; a name defined twice is refused.
template <typename Read, typename Map>
void read_named(const json& spec, const char* field, const char* what, const std::string& where, Read read, Map& into) {
  const json& list = list_of(spec, field, where);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string item = at(where, field, i);
    auto definition = read(list[i], item);
    if (into.count(definition.name)) throw ProtocolError(item + ": " + what + " \"" + definition.name + "\" is defined twice");
    std::string name = definition.name;
    into.emplace(std::move(name), std::move(definition));
  }
}

}  // namespace

std::shared_ptr<const HumanPolicy> parse_human_policy(const json& spec, const std::string& where) {
  auto policy = std::make_shared<HumanPolicy>();
  policy->host = optional_string(spec, "host", where).value_or("");
  read_named(spec, "approvals", "approval", where, read_approval, policy->approvals);
  read_named(spec, "validators", "validator", where, read_validator, policy->validators);
  read_named(spec, "interactions", "interaction", where, read_interaction, policy->interactions);
  const json& guards = list_of(spec, "guards", where);
  for (std::size_t i = 0; i < guards.size(); ++i) {
    const std::string item = at(where, "guards", i);
    GuardSpec g = read_guard(guards[i], item);
    if (policy->find_guard(g.name)) throw ProtocolError(item + ": guard \"" + g.name + "\" is defined twice");
    if (g.approval && !policy->approvals.count(*g.approval))
      throw ProtocolError(item + ": unknown approval \"" + *g.approval + "\" (defined approvals: " + defined_names(policy->approvals) + ")");
    policy->guards.push_back(std::move(g));
  }
  if (spec.contains("responseValidator")) {
    const std::string item = where + ": responseValidator";
    const json& r = require_field(spec, "responseValidator", value_t::object, where);
    ResponseCheck check;
    check.validator = require_field(r, "validator", value_t::string, item).get<std::string>();
    if (!policy->validators.count(check.validator))
      throw ProtocolError(item + ": unknown validator \"" + check.validator + "\" (defined validators: " + defined_names(policy->validators) + ")");
    check.retry_on_failure = optional_bool(r, "retryOnFailure", false, item);
    check.max_retries = optional_count(r, "maxRetries", 2, 0, 100, item);
    policy->response_check = check;
  }
  return policy;
}

}  // namespace lmthing::policy

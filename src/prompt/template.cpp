#include "prompt/template.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>
#include <unordered_set>

#include "prompt/yaml.hpp"
#include "protocol/fields.hpp"

namespace lmthing::prompt {

namespace {

const char* code_name(TemplateErrorCode code) {
  switch (code) {
    case TemplateErrorCode::UnknownVariable: return "TEMPLATE_UNKNOWN_VARIABLE";
    case TemplateErrorCode::MissingVariable: return "TEMPLATE_MISSING_VARIABLE";
    case TemplateErrorCode::WrongType: return "TEMPLATE_WRONG_TYPE";
    case TemplateErrorCode::BadEnumValue: return "TEMPLATE_BAD_ENUM_VALUE";
    case TemplateErrorCode::UnknownTemplate: return "TEMPLATE_UNKNOWN";
    case TemplateErrorCode::IncludeCycle: return "TEMPLATE_INCLUDE_CYCLE";
    case TemplateErrorCode::Syntax: return "TEMPLATE_SYNTAX";
    case TemplateErrorCode::Limit: return "TEMPLATE_LIMIT";
  }
  return "TEMPLATE_ERROR";
}

const char* type_name(VariableType type) {
  switch (type) {
    case VariableType::String: return "string";
    case VariableType::Number: return "number";
    case VariableType::Boolean: return "boolean";
    case VariableType::Enum: return "enum";
  }
  return "string";
}

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-'; }

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

std::string shown(const json& value) { return value.dump(); }

std::string listed(const std::vector<json>& values) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + shown(values[i]);
  return out;
}

// "a value of the declared type", or the reason it is not.
std::optional<std::string> type_problem(const TemplateVariable& variable, const json& value) {
  switch (variable.type) {
    case VariableType::String:
      if (!value.is_string()) return "must be a string";
      break;
    case VariableType::Number:
      if (!value.is_number()) return "must be a number";
      break;
    case VariableType::Boolean:
      if (!value.is_boolean()) return "must be a boolean";
      break;
    case VariableType::Enum:
      if (std::find(variable.values.begin(), variable.values.end(), value) == variable.values.end())
        return "must be one of " + listed(variable.values);
      break;
  }
  return std::nullopt;
}

std::string as_text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  return formatJsNumber(value.get<double>());
}

std::string reference_text(const json& reference) {
  if (reference.is_string()) return reference.get<std::string>();
  if (reference.is_object() && reference.contains("text") && reference["text"].is_string()) return reference["text"].get<std::string>();
  if (reference.is_object() && reference.contains("data") && reference["data"].is_string()) {
    // defData crosses as JSON text so that the YAML keeps the user's key order.
    std::string yaml = toYaml(lmthing::Json::parse(reference["data"].get<std::string>()));
    if (!yaml.empty() && yaml.back() == '\n') yaml.pop_back();
    return yaml;
  }
  throw protocol::ProtocolError("template references: expected {text} or {data} for each def value, got " + reference.dump());
}

const json* present(const json& object, const std::string& key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

// How deep includes may nest (the check and the render recurse once per level), and how long a
// rendered text may grow (a template including another twice per level doubles it each level).
constexpr std::size_t kMaxIncludeDepth = 64;
constexpr std::size_t kMaxRenderedBytes = 16 * 1024 * 1024;

class Renderer {
 public:
  Renderer(const TemplateTable& table, const json& values, const json& references) : table_(table), values_(values), references_(references) {}

  std::string render(const std::string& root) {
    collect(root, nullptr);
    check_values(root);
    for (const Template* t : order_) check_declared(*t);
    return render_one(*table_.at(root));
  }

  // Every template reachable from `name`, each once; throws on an unknown include or a cycle.
  void collect(const std::string& name, const std::string* includer) {
    auto it = table_.find(name);
    if (it == table_.end()) {
      std::vector<std::string> defined;
      for (const auto& [known, _] : table_) defined.push_back(known);
      std::string hint;
      if (auto guess = protocol::nearest(name, defined)) hint = "did you mean \"" + *guess + "\"? ";
      const std::string what =
          includer ? "template \"" + *includer + "\" includes \"" + name + "\", which is not defined" : "unknown template \"" + name + "\"";
      throw TemplateError(TemplateErrorCode::UnknownTemplate, includer ? *includer : name, "",
                          what + " (" + hint + "defined with defTemplate: " + protocol::joined(defined) + ")");
    }
    if (std::find(stack_.begin(), stack_.end(), name) != stack_.end()) {
      std::string chain;
      auto from = std::find(stack_.begin(), stack_.end(), name);
      for (auto i = from; i != stack_.end(); ++i) chain += *i + " > ";
      throw TemplateError(TemplateErrorCode::IncludeCycle, name, "", "template \"" + name + "\" includes itself: " + chain + name);
    }
    const Template* t = it->second;
    // Explored already (and not on the stack: that was a cycle): nothing new below it. Without
    // this, templates that include one another more than once are explored exponentially often.
    if (!seen_.insert(t).second) return;
    order_.push_back(t);
    if (stack_.size() >= kMaxIncludeDepth)
      throw TemplateError(TemplateErrorCode::Limit, name, "",
                          "template \"" + stack_.front() + "\": includes nest deeper than the limit of " + std::to_string(kMaxIncludeDepth) +
                              " levels (at \"" + name + "\")");
    stack_.push_back(name);
    for (const auto& part : t->parts)
      if (part.kind == Template::Part::Include) collect(part.text, &t->name);
    stack_.pop_back();
  }

 private:
  // Every value given must be a variable of some template the render reaches.
  void check_values(const std::string& root) const {
    if (values_.is_null()) return;
    if (!values_.is_object()) throw protocol::ProtocolError("template \"" + root + "\": values must be an object, got " + values_.dump());
    std::vector<std::string> known;
    for (const Template* t : order_) {
      for (const auto& v : t->variables) known.push_back(v.name);
      for (const auto& part : t->parts)
        if (part.kind == Template::Part::Placeholder) known.push_back(part.text);
    }
    std::sort(known.begin(), known.end());
    known.erase(std::unique(known.begin(), known.end()), known.end());
    for (const auto& [key, _] : values_.items()) {
      if (std::binary_search(known.begin(), known.end(), key)) continue;
      std::string hint;
      if (auto guess = protocol::nearest(key, known)) hint = "did you mean \"" + *guess + "\"? ";
      throw TemplateError(TemplateErrorCode::UnknownVariable, root, key,
                          "template \"" + root + "\": unknown variable \"" + key + "\" (" + hint + "variables: " + protocol::joined(known) + ")");
    }
  }

  // A declared variable's value: given, else a def value, else its default; checked against its type.
  void check_declared(const Template& t) const {
    for (const auto& variable : t.variables) {
      const json* value = present(values_, variable.name);
      if (!value) {
        if (variable.default_value) continue;
        if (const json* reference = present(references_, variable.name)) {
          check_reference(t, variable, reference_text(*reference));
          continue;
        }
        throw TemplateError(TemplateErrorCode::MissingVariable, t.name, variable.name,
                            "template \"" + t.name + "\": variable \"" + variable.name + "\" (" + type_name(variable.type) +
                                ") is required: give it a value or declare a default");
      }
      if (auto problem = type_problem(variable, *value))
        throw TemplateError(variable.type == VariableType::Enum ? TemplateErrorCode::BadEnumValue : TemplateErrorCode::WrongType, t.name,
                            variable.name, "template \"" + t.name + "\": variable \"" + variable.name + "\" " + *problem + ", got " + shown(*value));
    }
  }

  // A declared variable filled from a def of its name: the def's text must read as the type.
  static void check_reference(const Template& t, const TemplateVariable& variable, const std::string& text) {
    std::optional<std::string> problem;
    switch (variable.type) {
      case VariableType::String: break;
      case VariableType::Number: {
        char* end = nullptr;
        const double number = text.empty() ? 0 : std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(number)) problem = "must be a number";
        break;
      }
      case VariableType::Boolean:
        if (text != "true" && text != "false") problem = "must be a boolean (true or false)";
        break;
      case VariableType::Enum:
        if (std::none_of(variable.values.begin(), variable.values.end(), [&text](const json& v) { return as_text(v) == text; }))
          problem = "must be one of " + listed(variable.values);
        break;
    }
    if (problem)
      throw TemplateError(
          variable.type == VariableType::Enum ? TemplateErrorCode::BadEnumValue : TemplateErrorCode::WrongType, t.name, variable.name,
          "template \"" + t.name + "\": variable \"" + variable.name + "\" " + *problem + ", got \"" + text + "\" from the def of that name");
  }

  std::string value_of(const Template& t, const std::string& name) const {
    if (const json* value = present(values_, name)) {
      if (!t.variable(name) && !(value->is_string() || value->is_number() || value->is_boolean()))
        throw TemplateError(
            TemplateErrorCode::WrongType, t.name, name,
            "template \"" + t.name + "\": variable \"" + name + "\" must be text (a string, number or boolean), got " + shown(*value));
      return as_text(*value);
    }
    const TemplateVariable* declared = t.variable(name);
    if (declared && declared->default_value) return as_text(*declared->default_value);
    if (const json* reference = present(references_, name)) return reference_text(*reference);
    throw TemplateError(
        TemplateErrorCode::MissingVariable, t.name, name,
        "template \"" + t.name + "\": variable \"" + name + "\" is required (it is a placeholder with no value, no default and no def of that name)");
  }

  std::string render_one(const Template& t) const {
    std::string out;
    render_into(t, out);
    return out;
  }

  void render_into(const Template& t, std::string& out) const {
    for (const auto& part : t.parts) {
      if (part.kind == Template::Part::Text)
        out += part.text;
      else if (part.kind == Template::Part::Placeholder)
        out += value_of(t, part.text);
      else
        render_into(*table_.at(part.text), out);
      if (out.size() > kMaxRenderedBytes)
        throw TemplateError(TemplateErrorCode::Limit, t.name, "",
                            "template \"" + t.name + "\": the rendered text grows beyond the limit of " +
                                std::to_string(kMaxRenderedBytes / (1024 * 1024)) + " MiB (an include repeated at many levels multiplies it)");
    }
  }

  const TemplateTable& table_;
  const json& values_;
  const json& references_;
  std::vector<const Template*> order_;
  std::unordered_set<const Template*> seen_;
  std::vector<std::string> stack_;
};

}  // namespace

protocol::WireError TemplateError::wire() const {
  json extra{{"code", code_name(code)}, {"template", template_name}};
  if (!variable.empty()) extra["variable"] = variable;
  return protocol::WireError{"template", what(), std::move(extra)};
}

const TemplateVariable* Template::variable(const std::string& wanted) const {
  for (const auto& v : variables)
    if (v.name == wanted) return &v;
  return nullptr;
}

Template parse_template(const std::string& name, const std::string& text, const json& variables, const std::string& where) {
  Template t;
  t.name = name;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t open = text.find("{{", at);
    if (open == std::string::npos) break;
    if (open > at) t.parts.push_back({Template::Part::Text, text.substr(at, open - at)});
    const std::size_t close = text.find("}}", open + 2);
    if (close == std::string::npos)
      throw TemplateError(TemplateErrorCode::Syntax, name, "",
                          "template \"" + name + "\": \"{{\" at offset " + std::to_string(open) + " is never closed with \"}}\"");
    std::string inner = trim(text.substr(open + 2, close - open - 2));
    auto kind = Template::Part::Placeholder;
    if (!inner.empty() && inner[0] == '>') {
      kind = Template::Part::Include;
      inner = trim(inner.substr(1));
    }
    const bool valid = !inner.empty() && is_name_start(inner[0]) && std::all_of(inner.begin(), inner.end(), is_name_char);
    if (!valid)
      throw TemplateError(TemplateErrorCode::Syntax, name, "",
                          "template \"" + name + "\": \"" + text.substr(open, close + 2 - open) +
                              "\" is not a placeholder ({{name}}) or an include ({{> template}}); names match [A-Za-z_][A-Za-z0-9_.-]*");
    t.parts.push_back({kind, inner});
    at = close + 2;
  }
  if (at < text.size()) t.parts.push_back({Template::Part::Text, text.substr(at)});

  if (variables.is_null()) return t;
  if (!variables.is_object())
    throw protocol::ProtocolError(where + ": \"variables\" must be an object ({name: {type, default?, values?}}), got " + variables.dump());
  for (const auto& [variable_name, declaration] : variables.items()) {
    protocol::FieldReader config(declaration, where + " variable \"" + variable_name + "\"");
    if (!declaration.is_object()) config.fail("expected {type, default?, values?}, got " + declaration.dump());
    config.only({"type", "values", "default", "description"}, "field");
    TemplateVariable variable;
    variable.name = variable_name;
    const std::string type = config.choice("type", {"string", "number", "boolean", "enum"}).value_or("string");
    variable.type = type == "number"    ? VariableType::Number
                    : type == "boolean" ? VariableType::Boolean
                    : type == "enum"    ? VariableType::Enum
                                        : VariableType::String;
    if (variable.type == VariableType::Enum) {
      const json* values = config.optional_array("values");
      if (!values || values->empty()) config.fail("an enum needs \"values\": a non-empty array of strings or numbers");
      for (const auto& v : *values) {
        if (!v.is_string() && !v.is_number()) config.fail("enum values must be strings or numbers, got " + v.dump());
        variable.values.push_back(v);
      }
    } else if (config.has("values")) {
      config.fail("\"values\" applies to type \"enum\" only");
    }
    if (config.has("default")) {
      if (auto problem = type_problem(variable, config.at("default")))
        config.fail("the default " + *problem + ", got " + config.at("default").dump());
      variable.default_value = config.at("default");
    }
    t.variables.push_back(std::move(variable));
  }
  return t;
}

std::string render_template(const TemplateTable& table, const std::string& name, const json& values, const json& references) {
  return Renderer(table, values, references).render(name);
}

void check_includes(const TemplateTable& table) {
  const json none;
  Renderer renderer(table, none, none);  // one for all: a template below several is explored once
  for (const auto& [name, _] : table) renderer.collect(name, nullptr);
}

}  // namespace lmthing::prompt

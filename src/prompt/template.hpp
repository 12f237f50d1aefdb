// Prompt templates (defTemplate / useTemplate, docs/templates-roles-plugins.md): text with `{{name}}`
// placeholders and `{{> other}}` includes, and typed variables (string, number, boolean, enum), each
// with a default or required. A placeholder that no variable declares is an implicit required text
// variable, unless a `def` value of that name exists (then that value is its default).
//
// Rendering checks everything it is given and fails with a TemplateError naming the template and the
// variable: an unknown variable, a missing required one, a wrong type or enum value, an unknown
// template, an include cycle, a placeholder that does not parse.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "protocol/messages.hpp"

namespace lmthing::prompt {

using json = lmthing::Json;

// The stable codes of template errors (TemplateError.code on the JS side).
enum class TemplateErrorCode { UnknownVariable, MissingVariable, WrongType, BadEnumValue, UnknownTemplate, IncludeCycle, Syntax, Limit };

class TemplateError : public std::runtime_error {
 public:
  TemplateError(TemplateErrorCode code, std::string template_name, std::string variable, const std::string& message)
      : std::runtime_error(message), code(code), template_name(std::move(template_name)), variable(std::move(variable)) {}
  // The wire error: {kind: "template", message, code, template, variable}.
  protocol::WireError wire() const;

  TemplateErrorCode code;
  std::string template_name;
  std::string variable;  // empty when the error is not about one variable
};

enum class VariableType { String, Number, Boolean, Enum };

struct TemplateVariable {
  std::string name;
  VariableType type = VariableType::String;
  std::vector<json> values;  // enum: the allowed values (strings or numbers)
  std::optional<json> default_value;
};

struct Template {
  struct Part {
    enum Kind { Text, Placeholder, Include } kind;
    std::string text;  // the text, or the variable / template name
  };
  std::string name;
  std::vector<Part> parts;
  std::vector<TemplateVariable> variables;  // as declared, in declaration order

  const TemplateVariable* variable(const std::string& name) const;
};

// Parses `text` and the declared `variables` ({name: {type, values?, default?, description?}}).
// Throws TemplateError (code Syntax) for a placeholder that does not parse, and protocol::ProtocolError
// for a bad variable declaration (unknown type, enum without values, a default of the wrong type).
Template parse_template(const std::string& name, const std::string& text, const json& variables, const std::string& where);

// The templates a render can reach, by name.
using TemplateTable = std::map<std::string, const Template*>;

// Renders template `name` with `values` (an object: variable → value) and `references` (an object:
// def name → text or data; data renders as YAML). Throws TemplateError.
std::string render_template(const TemplateTable& table, const std::string& name, const json& values, const json& references);

// Checks that every include names a template, that no include chain comes back and that none
// nests deeper than the limit; each template is explored once. Throws TemplateError
// (UnknownTemplate, IncludeCycle, Limit).
void check_includes(const TemplateTable& table);

}  // namespace lmthing::prompt

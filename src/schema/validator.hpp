// JSON Schema draft-07 validator. A schema is compiled once (refs resolved, regexes compiled) and
// can then validate any number of instances; errors are reported Ajv-style so that a model can read
// `instancePath + ": " + message` and fix its tool arguments.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "protocol/json.hpp"

namespace lmthing::schema {

// One failed keyword. Both paths are JSON Pointers (RFC 6901): instancePath is "" for the root
// instance, schemaPath starts with "#" (prefixed by the document URI for remote documents).
struct ValidationIssue {
  std::string instancePath;  // e.g. "/items/0/name"
  std::string schemaPath;    // e.g. "#/properties/items/items/required"
  std::string message;       // e.g. "must have required property 'name'"
};

struct ValidationResult {
  bool valid = true;
  std::vector<ValidationIssue> errors;  // empty exactly when valid
};

// Resolves a remote $ref base URI (without fragment) to a schema document, or std::nullopt if unknown.
using RemoteResolver = std::function<std::optional<lmthing::Json>(const std::string& uri)>;

// The schema itself is malformed (not an object/boolean, a keyword of the wrong type, a bad regex,
// an unresolvable or circular $ref ...). The message names the schema location.
class SchemaError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

namespace detail {
struct CompiledSchema;
}

// Compile once, validate many times. Immutable after construction, so validate() may be called
// concurrently; copies share the compiled form.
class Validator {
 public:
  // Throws SchemaError. The draft-07 metaschema (http://json-schema.org/draft-07/schema#) is
  // built in; other remote documents are asked from `resolver`.
  explicit Validator(lmthing::Json schema, RemoteResolver resolver = {});

  ValidationResult validate(const lmthing::Json& instance) const;

 private:
  std::shared_ptr<const detail::CompiledSchema> compiled_;
};

// One-shot convenience; throws SchemaError like the constructor.
ValidationResult validate(const lmthing::Json& schema, const lmthing::Json& instance);

// The issues as people and models read them: "path: message" ("(root)" for the value itself),
// joined by "; ". Empty when valid.
std::string describe(const ValidationResult& result);

// The issues in their wire form: [{instancePath, schemaPath, message}].
lmthing::Json issues_json(const ValidationResult& result);

}  // namespace lmthing::schema

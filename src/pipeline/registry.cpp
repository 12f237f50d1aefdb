#include "pipeline/registry.hpp"

#include <algorithm>

namespace lmthing::pipeline {

namespace registered {
#define KIND(name) extern const DefinitionKind name##_kind;
#define INTERCEPTOR(name) extern const InterceptorType name##_interceptor;
#define SEAM(name) extern const StepSeamType name##_seam;
#include "pipeline/registry.def"
#undef KIND
#undef INTERCEPTOR
#undef SEAM
}  // namespace registered

const std::vector<const DefinitionKind*>& definition_kinds() {
#define KIND(name) &registered::name##_kind,
#define INTERCEPTOR(name)
#define SEAM(name)
  static const std::vector<const DefinitionKind*> list = {
#include "pipeline/registry.def"
  };
#undef KIND
#undef INTERCEPTOR
#undef SEAM
  return list;
}

const std::vector<const InterceptorType*>& interceptor_types() {
#define KIND(name)
#define INTERCEPTOR(name) &registered::name##_interceptor,
#define SEAM(name)
  static const std::vector<const InterceptorType*> list = {
#include "pipeline/registry.def"
  };
#undef KIND
#undef INTERCEPTOR
#undef SEAM
  return list;
}

const std::vector<const StepSeamType*>& step_seam_types() {
#define KIND(name)
#define INTERCEPTOR(name)
#define SEAM(name) &registered::name##_seam,
  static const std::vector<const StepSeamType*> list = {
#include "pipeline/registry.def"
  };
#undef KIND
#undef INTERCEPTOR
#undef SEAM
  return list;
}

const DefinitionKind* find_kind(std::string_view kind) {
  for (const DefinitionKind* k : definition_kinds())
    if (kind == k->kind) return k;
  return nullptr;
}

namespace {

std::vector<std::string> union_of(std::vector<std::string> InterceptorType::*field) {
  std::vector<std::string> out;
  for (const InterceptorType* type : interceptor_types())
    for (const auto& key : type->*field)
      if (std::find(out.begin(), out.end(), key) == out.end()) out.push_back(key);
  return out;
}

}  // namespace

const std::vector<std::string>& known_tool_options() {
  static const std::vector<std::string> keys = union_of(&InterceptorType::tool_options);
  return keys;
}

const std::vector<std::string>& known_model_options() {
  static const std::vector<std::string> keys = union_of(&InterceptorType::model_options);
  return keys;
}

void define_all(RunTree& tree, const json& definitions) {
  if (definitions.is_null()) return;
  if (!definitions.is_array())
    throw protocol::ProtocolError("\"definitions\" must be an array of {kind, name, config}, got " + definitions.dump().substr(0, 200));
  std::vector<std::string> kinds;
  for (const DefinitionKind* k : definition_kinds()) kinds.push_back(k->kind);
  for (std::size_t i = 0; i < definitions.size(); ++i) {
    protocol::FieldReader entry(definitions[i], "definitions[" + std::to_string(i) + "]");
    entry.only({"kind", "name", "config"}, "field");
    const std::string kind = entry.string("kind");
    const DefinitionKind* type = find_kind(kind);
    if (!type) {
      std::string message = "unknown definition kind \"" + kind + "\" (";
      if (auto guess = protocol::nearest(kind, kinds)) message += "did you mean \"" + *guess + "\"? ";
      entry.fail(message + "known: " + protocol::joined(kinds) + ")");
    }
    const std::string name = entry.string("name");
    static const json empty = json::object();
    const json& config = entry.has("config") ? entry.object_field("config") : empty;
    protocol::FieldReader reader(config, std::string(type->noun) + " \"" + name + "\"");
    // What a definition's config says is the user's (a def* call), not the host's wire format.
    protocol::reading_config([&] {
      reader.only(type->fields);
      type->define(tree, name, reader);
    });
  }
  protocol::reading_config([&] {
    for (const DefinitionKind* k : definition_kinds())
      if (k->link) k->link(tree);
  });
}

}  // namespace lmthing::pipeline

#include "pipeline/definitions.hpp"

#include "pipeline/registry.hpp"

namespace lmthing::pipeline {

std::vector<std::string> Definitions::names(std::string_view kind) const {
  std::vector<std::string> out;
  for (const auto& [name, value] : all<void>(kind)) out.push_back(name);
  return out;
}

bool Definitions::own(std::string_view kind, const std::string& name) const {
  auto it = tables_.find(kind);
  if (it == tables_.end()) return false;
  for (const auto& entry : it->second)
    if (entry.name == name) return true;
  return false;
}

void Definitions::unknown(std::string_view kind, const std::string& name) const {
  std::vector<std::string> defined = names(kind);
  std::string message = "unknown " + std::string(noun(kind)) + " \"" + name + "\" (";
  if (auto guess = protocol::nearest(name, defined)) message += "did you mean \"" + *guess + "\"? ";
  throw protocol::config_error(message + "defined: " + protocol::joined(defined) + ")");
}

const char* Definitions::noun(std::string_view kind) {
  const DefinitionKind* type = find_kind(kind);
  return type ? type->noun : "definition";
}

}  // namespace lmthing::pipeline

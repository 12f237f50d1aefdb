#include "prompt/definitions.hpp"

#include <algorithm>

#include "prompt/yaml.hpp"

namespace lmthing::prompt {
namespace {

constexpr std::string_view kNamePattern = "[A-Za-z_][A-Za-z0-9_.-]*";

bool isNameStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }

bool isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9') || c == '.' || c == '-'; }

// Quotes a user-supplied string for an error message; escapes control
// characters and tolerates invalid UTF-8 so the message itself is safe.
std::string quoteForMessage(std::string_view text) {
  return nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string closingTag(std::string_view name) { return "</" + std::string(name) + ">"; }

// A body containing its own closing tag would end the section early.
void validateBody(std::string_view name, std::string_view body) {
  const std::string closing = closingTag(name);
  if (body.find(closing) == std::string_view::npos) return;
  throw DefinitionError("invalid value for definition " + quoteForMessage(name) + ": the value contains \"" + closing +
                        "\", which would close its tag early");
}

// Replaces the body of an existing name in place, or appends a new entry.
void upsert(std::vector<Definition>& entries, Definition definition) {
  const auto existing = std::find_if(entries.begin(), entries.end(), [&](const Definition& entry) { return entry.name == definition.name; });
  if (existing != entries.end()) {
    *existing = std::move(definition);
  } else {
    entries.push_back(std::move(definition));
  }
}

Definition makeDefinition(std::string_view name, DefinitionKind kind, std::string body) {
  validateName(name);
  validateBody(name, body);
  return Definition{std::string(name), kind, std::move(body)};
}

std::string withoutFinalNewline(std::string text) {
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

std::string tagged(const Definition& definition) { return "<" + definition.name + ">\n" + definition.body + "\n" + closingTag(definition.name); }

std::string joinTagged(const std::vector<const Definition*>& entries) {
  std::string out;
  for (const Definition* entry : entries) {
    if (!out.empty()) out += '\n';
    out += tagged(*entry);
  }
  return out;
}

bool isDefined(const std::vector<Definition>& entries, const std::string& name) {
  return std::any_of(entries.begin(), entries.end(), [&](const Definition& entry) { return entry.name == name; });
}

std::string quotedList(const std::vector<std::string>& names) {
  if (names.empty()) return "none";
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += ", ";
    out += quoteForMessage(name);
  }
  return out;
}

std::vector<std::string> namesOf(const std::vector<Definition>& entries) {
  std::vector<std::string> names;
  for (const Definition& entry : entries) names.push_back(entry.name);
  return names;
}

// Throws if the filter lists names that were never defined, naming all of
// them and the defined ones, so a typo in a step is easy to spot.
void checkFilterNames(const std::vector<Definition>& entries, const std::vector<std::string>& wanted, std::string_view kind) {
  std::vector<std::string> unknown;
  for (const std::string& name : wanted) {
    const bool alreadyListed = std::find(unknown.begin(), unknown.end(), name) != unknown.end();
    if (!isDefined(entries, name) && !alreadyListed) unknown.push_back(name);
  }
  if (unknown.empty()) return;
  throw DefinitionError("unknown " + std::string(kind) + " definition(s) in render filter: " + quotedList(unknown) + "; defined " +
                        std::string(kind) + " definitions: " + quotedList(namesOf(entries)));
}

// The entries a step uses, in definition order.
std::vector<const Definition*> select(const std::vector<Definition>& entries, const std::optional<std::vector<std::string>>& wanted,
                                      std::string_view kind) {
  if (wanted) checkFilterNames(entries, *wanted, kind);
  std::vector<const Definition*> selected;
  for (const Definition& entry : entries) {
    const bool active = !wanted || std::find(wanted->begin(), wanted->end(), entry.name) != wanted->end();
    if (active) selected.push_back(&entry);
  }
  return selected;
}

}  // namespace

void validateName(std::string_view name) {
  const bool valid = !name.empty() && isNameStart(name.front()) && std::all_of(name.begin() + 1, name.end(), isNameChar);
  if (valid) return;
  throw DefinitionError("invalid definition name " + quoteForMessage(name) + ": names must match " + std::string(kNamePattern));
}

void Definitions::defSystem(std::string_view name, std::string value) {
  upsert(systems_, makeDefinition(name, DefinitionKind::System, std::move(value)));
}

void Definitions::def(std::string_view name, std::string value) { upsert(variables_, makeDefinition(name, DefinitionKind::Text, std::move(value))); }

void Definitions::defData(std::string_view name, const nlohmann::json& value) {
  validateName(name);  // before the YAML work, so a bad name is the error reported
  std::string yaml = withoutFinalNewline(toYaml(value));
  upsert(variables_, makeDefinition(name, DefinitionKind::Data, std::move(yaml)));
}

std::optional<std::string> render(const Definitions& definitions, const RenderFilter& filter) {
  const auto systems = select(definitions.systems(), filter.systems, "system");
  const auto variables = select(definitions.variables(), filter.variables, "variable");
  if (systems.empty() && variables.empty()) return std::nullopt;

  std::string prompt = joinTagged(systems);
  if (!variables.empty()) {
    if (!prompt.empty()) prompt += '\n';
    prompt += "<variables>\n" + joinTagged(variables) + "\n</variables>";
  }
  return prompt;
}

std::string reference(std::string_view name) {
  validateName(name);
  return "<" + std::string(name) + ">";
}

}  // namespace lmthing::prompt

#include "prompt/definitions.hpp"

#include <algorithm>
#include <optional>
#include <set>

#include "prompt/yaml.hpp"

namespace lmthing::prompt {
namespace {

constexpr std::string_view kNamePattern = "[A-Za-z_][A-Za-z0-9_.-]*";

bool isNameStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }

bool isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9') || c == '.' || c == '-'; }

// Quotes a user-supplied string for an error message; escapes control
// characters and tolerates invalid UTF-8 so the message itself is safe.
std::string quoteForMessage(std::string_view text) {
  return lmthing::Json(std::string(text)).dump(-1, ' ', false, lmthing::Json::error_handler_t::replace);
}

std::string closingTag(std::string_view name) { return "</" + std::string(name) + ">"; }

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// A tag of the renderer found in a value: what was written ("</City >") and the tag's name in
// lower case ("city").
struct TagMention {
  std::string written;
  std::string tag;
  bool closing = false;
};

// The first "<name" or "</name" in `text` whose name, compared without case, is one of `tags`
// (lower case). The name must end there ("<city-guide>" is not "<city"); what follows it does not
// matter, so "</city >", "</city\n" and "<city x>" are all found.
std::optional<TagMention> findTag(std::string_view text, const std::set<std::string>& tags) {
  for (std::size_t at = text.find('<'); at != std::string_view::npos; at = text.find('<', at + 1)) {
    std::size_t start = at + 1;
    const bool closing = start < text.size() && text[start] == '/';
    if (closing) ++start;
    if (start >= text.size() || !isNameStart(text[start])) continue;
    std::size_t end = start + 1;
    while (end < text.size() && isNameChar(text[end])) ++end;
    std::string tag = lowercase(text.substr(start, end - start));
    if (!tags.count(tag)) continue;
    // Show the tag as written, up to its '>' when that follows after spaces.
    std::size_t shown = end;
    while (shown < text.size() && (text[shown] == ' ' || text[shown] == '\t')) ++shown;
    shown = shown < text.size() && text[shown] == '>' ? shown + 1 : end;
    return TagMention{std::string(text.substr(at, shown - at)), std::move(tag), closing};
  }
  return std::nullopt;
}

// A value may not open or close any tag the renderer uses, in any spelling: such text would end
// its section early or start a fake one.
void validateBody(std::string_view name, std::string_view body, const std::set<std::string>& tags) {
  const auto mention = findTag(body, tags);
  if (!mention) return;
  const std::string prefix = "invalid value for definition " + quoteForMessage(name) + ": the value contains " + quoteForMessage(mention->written);
  if (mention->closing && mention->tag == lowercase(name)) throw DefinitionError(prefix + ", which would close its tag early");
  throw DefinitionError(prefix + ", a tag of the system prompt (a value cannot open or close the prompt's sections; references such as <" +
                        mention->tag + "> belong in $ templates and messages)");
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

void Definitions::defSystem(std::string_view name, std::string value) { add(systems_, name, DefinitionKind::System, std::move(value)); }

void Definitions::def(std::string_view name, std::string value) { add(variables_, name, DefinitionKind::Text, std::move(value)); }

void Definitions::defData(std::string_view name, const lmthing::Json& value) {
  validateName(name);  // before the YAML work, so a bad name is the error reported
  add(variables_, name, DefinitionKind::Data, withoutFinalNewline(toYaml(value)));
}

void Definitions::add(std::vector<Definition>& entries, std::string_view name, DefinitionKind kind, std::string body) {
  validateName(name);
  const std::string tag = lowercase(name);
  const bool newTag = !tags_.count(tag);
  if (newTag) {
    // The new name is a new tag: no value defined so far may contain it.
    const std::set<std::string> added{tag};
    for (const auto* list : {&systems_, &variables_})
      for (const Definition& other : *list) validateBody(other.name, other.body, added);
    tags_.insert(tag);
  }
  try {
    validateBody(name, body, tags_);
  } catch (const DefinitionError&) {
    if (newTag) tags_.erase(tag);  // every call validates before changing anything
    throw;
  }
  upsert(entries, Definition{std::string(name), kind, std::move(body)});
}

std::optional<std::string> findRendererTag(std::string_view text, const std::set<std::string>& tags) {
  if (auto mention = findTag(text, tags)) return std::move(mention->written);
  return std::nullopt;
}

std::optional<std::string> render(const Definitions& definitions, const RenderFilter& filter, std::string_view role) {
  const auto systems = select(definitions.systems(), filter.systems, "system");
  const auto variables = select(definitions.variables(), filter.variables, "variable");
  if (systems.empty() && variables.empty() && role.empty()) return std::nullopt;

  std::string prompt = joinTagged(systems);
  if (!role.empty()) {
    if (!prompt.empty()) prompt += '\n';
    prompt += role;
  }
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

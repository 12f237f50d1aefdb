// Prompt definitions (defSystem / def / defData) and the system prompt they
// render to. The output format is part of lmthing's contract with users and
// is exact byte for byte:
//
//   <role>\nYou are R\n</role>\n<variables>\n<city>\nSan Francisco\n</city>\n</variables>
//
// System definitions come first, in first-definition order, each as
// "<name>\n{value}\n</name>" joined by "\n"; then, if any variables exist,
// "<variables>\n" + the variables in the same form + "\n</variables>".
#pragma once

#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/json.hpp"

namespace lmthing::prompt {

// Bad definition name or value, or a render filter naming unknown definitions.
class DefinitionError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

enum class DefinitionKind { System, Text, Data };

struct Definition {
  std::string name;
  DefinitionKind kind;
  std::string body;  // exactly what goes between the tags
};

// The definitions of one agent. System definitions and variables are separate
// name spaces: defSystem("x") and def("x") can coexist. Redefining a name in
// the same space replaces its value (and kind, for def/defData) but keeps its
// first position. Every call validates before changing anything.
//
// No value may contain a tag the renderer writes (any definition's name,
// "variables" or "role"), opening or closing, compared without case and whatever follows
// the name ("</City >", "<role x>"): untrusted text can neither end its own
// section nor start another. Ordinary values render exactly as written.
class Definitions {
 public:
  void defSystem(std::string_view name, std::string value);
  // A string variable, inserted as written.
  void def(std::string_view name, std::string value);
  // A data variable, rendered now as YAML without its final newline.
  void defData(std::string_view name, const lmthing::Json& value);

  const std::vector<Definition>& systems() const noexcept { return systems_; }
  const std::vector<Definition>& variables() const noexcept { return variables_; }
  bool empty() const noexcept { return systems_.empty() && variables_.empty(); }
  // Every tag the renderer may write for these definitions, in lower case: their names,
  // "variables" and "role" (an assumed role's section).
  const std::set<std::string>& tags() const noexcept { return tags_; }

 private:
  void add(std::vector<Definition>& entries, std::string_view name, DefinitionKind kind, std::string body);

  std::vector<Definition> systems_;
  std::vector<Definition> variables_;
  std::set<std::string> tags_{"variables", "role"};  // every tag the renderer may write, in lower case
};

// Which definitions a step uses; std::nullopt means all of that kind.
// Output keeps definition order whatever the order of names here.
struct RenderFilter {
  std::optional<std::vector<std::string>> systems;
  std::optional<std::vector<std::string>> variables;
};

// The system prompt, or std::nullopt when no definition is selected and `role` is empty.
// `role` (the assumed role's section, prompt/role.hpp) goes after the system definitions and
// before the variables, joined by "\n" like them; empty leaves the output exactly as above.
// Throws DefinitionError if the filter names a definition that does not exist.
std::optional<std::string> render(const Definitions& definitions, const RenderFilter& filter = {}, std::string_view role = {});

// The first tag of `tags` (lower case) that `text` opens or closes, as written ("</City >"),
// compared without case and whatever follows the name; std::nullopt when there is none.
std::optional<std::string> findRendererTag(std::string_view text, const std::set<std::string>& tags);

// How a definition is referenced inside templates: "<name>".
// Throws DefinitionError for an invalid name.
std::string reference(std::string_view name);

// Throws DefinitionError unless name matches [A-Za-z_][A-Za-z0-9_.-]*.
void validateName(std::string_view name);

}  // namespace lmthing::prompt

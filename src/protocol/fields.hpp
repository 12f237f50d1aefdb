// Reading the fields of specs and configs as they arrive from the host: one reader for every
// run spec, definition config, tool option bag and command. Every error names where it happened,
// the field, what was expected and what arrived; an unknown key is refused with the nearest known one
// ("unknown option \"retries\" (did you mean \"retry\"? known: ...)"). Errors are ProtocolError.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/messages.hpp"

namespace lmthing::protocol {

// The known word closest to `word` by edit distance, when it is close enough to be a likely typo.
std::optional<std::string> nearest(std::string_view word, const std::vector<std::string>& known);

// `"name"`: a name as messages quote it.
std::string in_quotes(std::string_view name);

// "a, b, c", or "none" for an empty list: for messages that list what is defined or accepted.
std::string joined(const std::vector<std::string>& names);

// `"x" (did you mean "y"? defined tools: a, b)`: the end of a message about a tool name that is
// not among `defined`, after the words that say where it was named.
std::string unknown_tool(std::string_view name, const std::vector<std::string>& defined);

class FieldReader {
 public:
  // `where` prefixes every message, e.g. `retry "api"` or `run.start spec (prompt)`.
  FieldReader(const json& object, std::string where);

  [[noreturn]] void fail(const std::string& message) const;
  [[noreturn]] void bad(std::string_view key, const std::string& expected) const;

  const json& object() const { return object_; }
  const std::string& where() const { return where_; }
  // Present and not null.
  bool has(std::string_view key) const;
  const json& at(std::string_view key) const { return object_.at(std::string(key)); }

  // Refuses any key that is not in `known` (noun: "option", "field" ...).
  void only(const std::vector<std::string>& known, std::string_view noun = "option") const;

  // Required values.
  std::string string(std::string_view key) const;  // a non-empty string
  const json& object_field(std::string_view key) const;
  const json& array_field(std::string_view key) const;

  // Optional values: absent or null → nullopt (or an empty list).
  std::optional<std::string> optional_string(std::string_view key, bool allow_empty = false) const;
  std::optional<bool> optional_bool(std::string_view key) const;
  // A finite number > 0, or >= 0 with `allow_zero`; at most `max`.
  std::optional<double> positive(std::string_view key, bool allow_zero = false, double max = 1e300) const;
  // Milliseconds: 0 < v <= 1e12 (0 allowed with `allow_zero`).
  std::optional<double> ms(std::string_view key, bool allow_zero = false) const;
  std::optional<int> integer(std::string_view key, int min, int max) const;
  std::optional<std::string> choice(std::string_view key, const std::vector<std::string>& choices) const;
  std::vector<std::string> strings(std::string_view key) const;  // non-empty strings
  const json* optional_object(std::string_view key) const;
  const json* optional_array(std::string_view key) const;

 private:
  const json& object_;
  std::string where_;
};

}  // namespace lmthing::protocol

// libFuzzer target: prompt definitions and rendering. The input is a list of records separated by
// NUL bytes: "s<name>\x01<value>" (defSystem), "v..." (def) or "d..." (defData, value as JSON).
// Invariant: whatever the values, the rendered prompt holds exactly one opening and one closing
// tag per section (any spelling of a renderer tag counted): no value can add or end a section.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "prompt/definitions.hpp"
#include "protocol/json_text.hpp"

using namespace lmthing;

namespace {

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Occurrences of "<tag" / "</tag" (case-insensitive) not followed by a name character.
std::size_t count_tag(const std::string& text, const std::string& tag, bool closing) {
  const std::string needle = (closing ? "</" : "<") + tag;
  const std::string haystack = lower(text);
  std::size_t count = 0;
  for (std::size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) {
    const std::size_t end = at + needle.size();
    if (end >= haystack.size() || !name_char(haystack[end])) ++count;
  }
  return count;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  prompt::Definitions definitions;
  std::size_t start = 0;
  while (start < input.size()) {
    std::size_t end = input.find('\0', start);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view record = input.substr(start, end - start);
    start = end + 1;
    const std::size_t sep = record.find('\x01');
    if (record.empty() || sep == std::string_view::npos) continue;
    const std::string name(record.substr(1, sep - 1));
    const std::string value(record.substr(sep + 1));
    try {
      switch (record[0]) {
        case 's': definitions.defSystem(name, value); break;
        case 'v': definitions.def(name, value); break;
        case 'd': definitions.defData(name, protocol::parse_limited(value)); break;
        default: break;
      }
    } catch (const prompt::DefinitionError&) {
    } catch (const std::exception&) {  // defData text that is not JSON, or too deep
    }
  }
  const auto rendered = prompt::render(definitions);
  if (!rendered) return 0;
  std::set<std::string> tags;
  for (const auto& d : definitions.systems()) tags.insert(lower(d.name));
  for (const auto& d : definitions.variables()) tags.insert(lower(d.name));
  const std::size_t variables = definitions.variables().empty() ? 0 : 1;  // the <variables> wrapper
  tags.insert("variables");
  for (const std::string& tag : tags) {
    std::size_t sections = tag == "variables" ? variables : 0;
    for (const auto& d : definitions.systems()) sections += lower(d.name) == tag;
    for (const auto& d : definitions.variables()) sections += lower(d.name) == tag;
    if (count_tag(*rendered, tag, false) != sections || count_tag(*rendered, tag, true) != sections) {
      __builtin_printf("tag <%s> appears more often than its sections\n", tag.c_str());
      std::abort();
    }
  }
  return 0;
}

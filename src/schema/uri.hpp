// Just enough RFC 3986 for JSON Schema: resolving a reference against a base URI (for $id / $ref)
// and checking URI syntax (for the "uri" and "uri-reference" formats).
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace lmthing::schema::uri {

// Resolves `reference` against `base` (RFC 3986 section 5.2, strict mode). Works with an empty or
// relative base too: the result is then as absolute as the base allows.
std::string resolve(std::string_view base, std::string_view reference);

// "a#b" -> {"a", "b"}; without '#' the fragment is empty.
std::pair<std::string, std::string> splitFragment(std::string_view uri);

// Decodes %XX escapes; malformed escapes are kept as they are.
std::string percentDecode(std::string_view text);

// Full URI with a scheme ("uri" format).
bool isUri(std::string_view text);
// URI or relative reference ("uri-reference" format).
bool isUriReference(std::string_view text);

}  // namespace lmthing::schema::uri

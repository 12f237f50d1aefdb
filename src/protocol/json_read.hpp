// A fast parse for the JSON text the engine receives most: well-formed, valid UTF-8, within the
// depth limit. Everything else (a syntax error, text that needs repair, nesting past the limit, a
// number it cannot read exactly as nlohmann reads it) is left to the careful path in json_text.hpp,
// so error messages and repairs stay exactly as they were.
//
// Why: every inbound message (an op's result, a command) was scanned once for depth and repairs and
// then parsed by nlohmann's SAX parser through Emscripten's exception trampolines; together ≈ 5 % of
// a step's profile. This reader makes one recursive pass that builds the value directly.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "protocol/json.hpp"

namespace lmthing::protocol {

// The value of `text` exactly as Json::parse would build it (written key order, a repeated key's
// last value at its first place, the same number types), or nullopt when the text is not plain
// valid JSON of at most `depth_limit` levels of nesting.
std::optional<lmthing::Json> parse_plain_json(std::string_view text, std::size_t depth_limit);

}  // namespace lmthing::protocol

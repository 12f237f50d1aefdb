// JSON text as it enters the engine: one linear, non-recursive pass that measures nesting depth and
// repairs text the parser would refuse (lone UTF-16 surrogate escapes, invalid UTF-8), a parse that
// refuses values nested deeper than the engine's limit, and the recovery of a broken message's
// `type` and `id` so that it can still be answered.
//
// Why a limit: lmthing::Json copies, dumps, compares and destroys values recursively, and the
// validator and the YAML renderer walk them recursively too. In wasm that recursion runs on V8's
// native stack (about 1 MB in Node and browsers), where a trap kills the module. Every value that
// enters the engine is at most `limits().json_depth` deep, which keeps all of that within the stack
// (see docs/limits.md for the measurement behind the default).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "protocol/json_read.hpp"
#include "protocol/messages.hpp"

namespace lmthing::protocol {

// Deepest nesting (arrays and objects) accepted by default, and the highest value a host may
// configure. Measured in the wasm build: see docs/limits.md.
inline constexpr std::size_t kDefaultJsonDepth = 1000;
inline constexpr std::size_t kMaxJsonDepth = 1000;

// The engine's input limits. Process-wide: a wasm module holds one engine.
struct Limits {
  std::size_t json_depth = kDefaultJsonDepth;
};
const Limits& limits();
// Throws ProtocolError naming the field when a value is out of range (json_depth in 1..kMaxJsonDepth).
void set_limits(const Limits& limits);

// A value nested deeper than the limit; travels as a wire error of kind "limit".
class LimitExceeded : public OpFailed {
 public:
  LimitExceeded(std::string_view what, std::size_t limit);
};

// What one pass over a text found.
struct TextScan {
  bool too_deep = false;  // nesting went beyond the limit (the scan stopped counting there)
  std::size_t depth = 0;  // deepest nesting seen (at most limit + 1)
  bool repaired = false;  // the text had lone surrogates or invalid UTF-8, replaced by U+FFFD
};

// Scans `text` (any text, valid JSON or not) without recursion. Inside strings, a \uD800-\uDFFF
// escape that is not half of a surrogate pair becomes \uFFFD, and a byte sequence that is not UTF-8
// becomes U+FFFD; when anything was replaced the repaired text is written to `repaired`.
TextScan scan_json_text(std::string_view text, std::size_t depth_limit, std::string& repaired);

// Length of the valid UTF-8 sequence starting at `at` (a lead byte >= 0x80), or 0 when there is none
// (overlong forms, surrogates and code points above U+10FFFF included).
std::size_t utf8_sequence_length(std::string_view text, std::size_t at);

// Raw text (not JSON) that must be UTF-8: when it is not, writes the text with every invalid byte
// replaced by U+FFFD to `repaired` and returns true.
bool repair_utf8(std::string_view text, std::string& repaired);

// Parses JSON text the engine received (a tool call's argument text, a model's JSON answer, defData
// ...). Lone surrogates and invalid UTF-8 become U+FFFD; nesting deeper than limits().json_depth
// throws LimitExceeded naming `what`; malformed text throws lmthing::Json::parse_error as
// json::parse does. Objects keep the text's key order (the engine's json is ordered_json).
template <class Json = json>
Json parse_limited(std::string_view text, std::string_view what = "JSON text") {
  // nlohmann's lexer takes a NUL byte for the end of its input, so `{}` NUL `junk` would parse as
  // {}. A raw NUL is never valid JSON (inside a string it must be escaped): the text is refused.
  if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos)
    throw Json::parse_error::create(101, nul + 1, "syntax error while parsing value - invalid literal; last read: a NUL byte", nullptr);
  const std::size_t limit = limits().json_depth;
  if constexpr (std::is_same_v<Json, lmthing::Json>)
    if (auto plain = parse_plain_json(text, limit)) return std::move(*plain);
  std::string repaired;
  const TextScan scan = scan_json_text(text, limit, repaired);
  if (scan.too_deep) throw LimitExceeded(what, limit);
  return Json::parse(scan.repaired ? std::string_view(repaired) : text);
}

// The depth of an already built value (a scalar is 0, [] and {} are 1), measured without recursion.
// Stops counting once it passes `stop_after`.
template <class Json>
std::size_t json_depth(const Json& value, std::size_t stop_after) {
  std::size_t deepest = 0;
  std::vector<std::pair<const Json*, std::size_t>> pending{{&value, 0}};
  while (!pending.empty()) {
    auto [node, depth] = pending.back();
    pending.pop_back();
    if (!node->is_structured()) continue;
    if (++depth > deepest) deepest = depth;
    if (deepest > stop_after) return deepest;
    for (const Json& child : *node)
      if (child.is_structured()) pending.emplace_back(&child, depth);
  }
  return deepest;
}

// Throws LimitExceeded naming `what` when `value` is nested deeper than limits().json_depth.
template <class Json>
void check_depth(const Json& value, std::string_view what) {
  const std::size_t limit = limits().json_depth;
  if (json_depth(value, limit) > limit) throw LimitExceeded(what, limit);
}

// An object's members sorted by key. The engine's objects keep their written order (the model's and
// the user's); comparisons and keys that must not depend on that order go through this.
std::vector<const json::object_t::value_type*> members_by_key(const json& object);

// `value` as compact JSON text with every object's keys sorted: values equal whatever their key
// order give the same text (cache keys).
std::string canonical_dump(const json& value);

// Reads the envelope (messages.hpp) of a message that could not be parsed from the top level of
// its text: best effort, without recursion.
Envelope recover_envelope(std::string_view line);

}  // namespace lmthing::protocol

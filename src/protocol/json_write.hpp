// Compact JSON text of engine values, written straight into a string.
//
// Why: every outbound message (ops, events, replies) is dumped on its way to the host. nlohmann's
// dump() builds a serializer per call (a locale lookup, a 512-byte buffer to clear), writes each
// token through a virtual output adapter, and in wasm its recursive calls go through Emscripten's
// exception trampolines. This writer fills a buffer on the stack and appends it to the string in
// pieces, and has nothing to clean up, so its calls need no landing pads.
//
// The text is byte for byte what value.dump(-1, ' ', false, Json::error_handler_t::replace)
// writes: same escapes, same number formatting (nlohmann's own double formatting), written key
// order. A string that is not valid UTF-8 is handed to nlohmann's serializer, so its replacement
// rules (U+FFFD) stay exactly nlohmann's.
#pragma once

#include <string>

#include "protocol/json.hpp"

namespace lmthing::protocol {

// Appends the compact JSON text of `value` to `out`.
void append_json(std::string& out, const lmthing::Json& value);

// A test on string values (not keys) that stops the writing.
using StringStop = bool (*)(const std::string&);
// append_json, unless `value` holds a string `stop` is true for: then returns false at the first
// such string, with part of the text appended (the caller drops it). One pass for a message that
// is written as it is unless it carries a long string.
bool append_json_unless(std::string& out, const lmthing::Json& value, StringStop stop);

// The compact JSON text of `value` (invalid UTF-8 becomes U+FFFD, as above).
std::string json_text(const lmthing::Json& value);

}  // namespace lmthing::protocol

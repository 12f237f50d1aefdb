// The engine <-> host protocol, version 1 (see PROTOCOL.md next to this file).
// Inbound (host -> engine): a batch of newline-separated JSON messages, the first line being the host
// clock. Outbound (engine -> host): one JSON object per op start and per event.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/json.hpp"

namespace lmthing::protocol {

using json = lmthing::Json;

inline constexpr int kVersion = 1;

// A malformed or out-of-place message, spec or config. Reported to the host; never stops the loop.
// Its wire kind says whose mistake it is: "protocol" for a message the host got wrong, "config" for
// a definition, option or name the user got wrong (a ConfigError in JS).
class ProtocolError : public std::invalid_argument {
 public:
  explicit ProtocolError(const std::string& message, std::string kind = "protocol") : std::invalid_argument(message), kind_(std::move(kind)) {}
  const std::string& kind() const { return kind_; }
  // The same error, its message placed after `prefix` (a command's or a definition's name).
  ProtocolError prefixed(const std::string& prefix) const { return ProtocolError(prefix + what(), kind_); }

 private:
  std::string kind_;
};

// The user's mistake in a definition, an option or a name, found by the engine.
inline ProtocolError config_error(const std::string& message) { return ProtocolError(message, "config"); }

// Runs `work`, which reads what the user configured: a ProtocolError it throws becomes a config error.
template <class Work>
decltype(auto) reading_config(Work&& work) {
  try {
    return work();
  } catch (const ProtocolError& e) {
    throw config_error(e.what());
  }
}

// Error values as they travel in op.done / reply messages: {kind, message, ...extra}.
struct WireError {
  std::string kind;  // aborted, timeout, protocol, callback, engine, provider, rate_limit, ...
  std::string message;
  json extra = json::object();  // kind-specific fields (retryAfterMs, status, code ...)

  json to_json() const;
  static WireError from_json(const json& j);  // lenient: missing fields get defaults
};

// "1 attempt", "3 attempts": a count in an error message, with the noun in the right number.
inline std::string counted(long long n, const char* singular, const char* plural) { return std::to_string(n) + " " + (n == 1 ? singular : plural); }

// A failure that travels as its wire error: an op that failed, or input the engine refused (a
// limit exceeded). Thrown into coroutines; a run that lets it escape ends with this error.
class OpFailed : public std::runtime_error {
 public:
  explicit OpFailed(WireError e) : std::runtime_error(e.message), error(std::move(e)) {}
  WireError error;
};

// The `type` and `id` of a message that could not be parsed, as far as they could be read, so that
// the engine can still answer it (a command gets an error reply, an op.done fails its op).
struct Envelope {
  std::optional<std::string> type;
  std::optional<json> id;  // a number or a string
};

// One line of an inbound batch: a message, or the description of why the line is not one.
struct InboundLine {
  json message;                           // an object with a string "type" when `problem` is empty
  std::string problem;                    // set for a line that is not a message
  std::string problem_kind = "protocol";  // "limit" when the line is nested too deeply
  Envelope envelope;                      // of a line with a problem
};

// One parsed inbound batch: the host clock and its lines in order, each parsed on its own so that
// one malformed line is reported alone (in its place) while the others are still delivered.
// Every line goes through scan_json_text first (json_text.hpp): lone surrogates and invalid UTF-8
// become U+FFFD, and a line nested deeper than `depth_limit` is refused without being parsed.
struct InboundBatch {
  double now_ms = 0;
  std::vector<InboundLine> lines;
};

InboundBatch parse_batch(std::string_view text, std::size_t depth_limit);
// The same with the engine's limit (limits().json_depth).
InboundBatch parse_batch(std::string_view text);

// Builders for outbound messages, so their shape lives in one place.
json op_message(std::uint64_t id, std::uint64_t run, std::string_view kind, json payload);
json op_cancel_message(std::uint64_t id, std::string_view reason);
json reply_ok(const json& command_id, json value);
json reply_error(const json& command_id, const WireError& error);
json protocol_error_event(std::string_view message);

// Field access that names what was wrong and what was expected.
const json& require_field(const json& object, std::string_view field, json::value_t type, std::string_view where);
std::uint64_t require_id(const json& object, std::string_view field, std::string_view where);

}  // namespace lmthing::protocol

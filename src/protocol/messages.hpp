// The engine <-> host protocol, version 1 (see PROTOCOL.md next to this file).
// Inbound (host -> engine): a batch of newline-separated JSON messages, the first line being the host
// clock. Outbound (engine -> host): one JSON object per op start and per event.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace lmthing::protocol {

using json = nlohmann::json;

inline constexpr int kVersion = 1;

// A malformed or out-of-place message, spec or config. Reported to the host; never stops the loop.
class ProtocolError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Error values as they travel in op.done / reply messages: {kind, message, ...extra}.
struct WireError {
  std::string kind;  // aborted, timeout, protocol, callback, engine, provider, rate_limit, ...
  std::string message;
  json extra = json::object();  // kind-specific fields (retryAfterMs, status, code ...)

  json to_json() const;
  static WireError from_json(const json& j);  // lenient: missing fields get defaults
};

// One line of an inbound batch: a message, or the description of why the line is not one.
struct InboundLine {
  json message;         // an object with a string "type" when `problem` is empty
  std::string problem;  // set for a malformed line
};

// One parsed inbound batch: the host clock and its lines in order, each parsed on its own so that
// one malformed line is reported alone (in its place) while the others are still delivered.
struct InboundBatch {
  double now_ms = 0;
  std::vector<InboundLine> lines;
};

InboundBatch parse_batch(std::string_view text);

// Builders for outbound messages, so their shape lives in one place.
json op_message(std::uint64_t id, std::uint64_t run, std::string_view kind, json payload);
json op_cancel_message(std::uint64_t id, std::string_view reason);
json reply_ok(const json& command_id, json value);
json reply_error(const json& command_id, const WireError& error);
json protocol_error_event(std::string_view message);
// The envelope of every run event: {type: "run.event", run, event}.
json run_event(std::uint64_t run, json event);

// Field access that names what was wrong and what was expected.
const json& require_field(const json& object, std::string_view field, json::value_t type, std::string_view where);
std::uint64_t require_id(const json& object, std::string_view field, std::string_view where);

}  // namespace lmthing::protocol

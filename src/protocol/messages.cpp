#include "protocol/messages.hpp"

#include <algorithm>
#include <cmath>

#include "protocol/blobs.hpp"
#include "protocol/json_text.hpp"

namespace lmthing::protocol {

json WireError::to_json() const {
  json j = extra.is_object() ? extra : json::object();
  j["kind"] = kind;
  j["message"] = message;
  return j;
}

WireError WireError::from_json(const json& j) {
  WireError e;
  if (!j.is_object()) {
    e.kind = "callback";
    e.message = "error value is not an object: " + j.dump();
    return e;
  }
  // Lenient as promised: a kind or message of another type (a host that passed a thrown number on)
  // must not make the error unreadable, or whatever waits for it would wait forever.
  const auto text = [&](const char* key, const char* fallback) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::string(fallback);
    return it->is_string() ? it->get<std::string>() : it->dump();
  };
  e.kind = text("kind", "engine");
  e.message = text("message", "(no message)");
  for (auto& [key, value] : j.items())
    if (key != "kind" && key != "message") e.extra[key] = value;
  return e;
}

namespace {

const char* type_name(json::value_t t) {
  switch (t) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "object";
    case json::value_t::array: return "array";
    case json::value_t::string: return "string";
    case json::value_t::boolean: return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "number";
    default: return "value";
  }
}

bool is_number(json::value_t t) {
  return t == json::value_t::number_integer || t == json::value_t::number_unsigned || t == json::value_t::number_float;
}

std::string preview(std::string_view line) {
  constexpr std::size_t kMax = 80;
  if (line.size() <= kMax) return std::string(line);
  return std::string(line.substr(0, kMax)) + "...";
}

// One message line: repaired and depth-checked by the scanner before nlohmann parses it.
InboundLine parse_line(std::string_view line, std::size_t depth_limit) {
  InboundLine parsed;
  if (auto plain = parse_plain_json(line, depth_limit); plain && plain->is_object()) {
    if (auto type = plain->find("type"); type != plain->end() && type->is_string()) {
      parsed.message = std::move(*plain);
      return parsed;
    }
  }
  std::string repaired;
  const TextScan scan = scan_json_text(line, depth_limit, repaired);
  if (scan.too_deep) {
    parsed.problem = "message is nested deeper than the limit of " + std::to_string(depth_limit) + " levels: " + preview(line);
    parsed.problem_kind = "limit";
    parsed.envelope = recover_envelope(line);
    return parsed;
  }
  const std::string_view text = scan.repaired ? std::string_view(repaired) : line;
  json message = json::parse(text, nullptr, false);
  if (message.is_discarded()) {
    parsed.problem = "message is not valid JSON: " + preview(line);
    parsed.envelope = recover_envelope(text);
  } else if (!message.is_object() || !message.contains("type") || !message["type"].is_string()) {
    parsed.problem = "message must be an object with a string \"type\", got: " + preview(line);
    if (message.is_object() && message.contains("id") && (message["id"].is_number() || message["id"].is_string())) parsed.envelope.id = message["id"];
  } else {
    parsed.message = std::move(message);
  }
  return parsed;
}

}  // namespace

InboundBatch parse_batch(std::string_view text) { return parse_batch(text, limits().json_depth); }

InboundBatch parse_batch(std::string_view text, std::size_t depth_limit) {
  InboundBatch batch;
  const std::size_t clock_end = std::min(text.find('\n'), text.size());
  const std::string_view clock_line = text.substr(0, clock_end);
  std::string_view body = clock_end < text.size() ? text.substr(clock_end + 1) : std::string_view();

  // The clock line: a number of milliseconds, then the batch's blobs (protocol/blobs.hpp) if any.
  // A bad clock is reported but does not drop the batch.
  const std::size_t space = clock_line.find(' ');
  const std::string_view clock_text = clock_line.substr(0, space);
  // Read by the fast reader: building nlohmann's parser for one number per batch was ≈ 2 % of a step.
  const json clock = parse_plain_json(clock_text, 1).value_or(json());
  if (clock.is_number()) {
    batch.now_ms = clock.get<double>();
  } else {
    InboundLine bad;
    bad.problem = "the first line of a batch must be the host clock in ms, got: " + preview(clock_line);
    batch.lines.push_back(std::move(bad));
  }
  InboundBlobs blobs;
  const bool names_blobs = space != std::string_view::npos;  // markers are resolved (or refused) only then
  if (names_blobs) {
    std::string problem = read_inbound_blobs(clock_line.substr(space + 1), body, blobs);
    if (!problem.empty()) {
      InboundLine bad;
      bad.problem = "the batch's blobs cannot be read: " + problem;
      batch.lines.push_back(std::move(bad));
    }
  }

  for (std::size_t line_start = 0; line_start < body.size();) {
    std::size_t end = std::min(body.find('\n', line_start), body.size());
    std::string_view line = body.substr(line_start, end - line_start);
    line_start = end + 1;
    if (line.empty()) continue;
    InboundLine parsed = parse_line(line, depth_limit);
    if (names_blobs && parsed.problem.empty()) {
      std::string problem = resolve_inbound_markers(parsed.message, blobs);
      if (!problem.empty()) {
        parsed.problem = "message " + problem;
        parsed.envelope = recover_envelope(line);
        parsed.message = json();
      }
    }
    batch.lines.push_back(std::move(parsed));
  }
  return batch;
}

json op_message(std::uint64_t id, std::uint64_t run, std::string_view kind, json payload) {
  json j = payload.is_object() ? std::move(payload) : json::object();
  j["type"] = "op";
  j["id"] = id;
  j["op"] = kind;
  j["run"] = run;
  return j;
}

json op_cancel_message(std::uint64_t id, std::string_view reason) { return json{{"type", "op.cancel"}, {"id", id}, {"reason", reason}}; }

json reply_ok(const json& command_id, json value) { return json{{"type", "reply"}, {"id", command_id}, {"ok", true}, {"value", std::move(value)}}; }

json reply_error(const json& command_id, const WireError& error) {
  return json{{"type", "reply"}, {"id", command_id}, {"ok", false}, {"error", error.to_json()}};
}

json protocol_error_event(std::string_view message) {
  return json{{"type", "protocol.error"}, {"error", {{"kind", "protocol"}, {"message", message}}}};
}

const json& require_field(const json& object, std::string_view field, json::value_t type, std::string_view where) {
  auto it = object.find(field);
  if (it == object.end())
    throw ProtocolError(std::string(where) + ": missing field \"" + std::string(field) + "\" (expected " + type_name(type) + ")");
  bool matches = it->type() == type || (is_number(type) && is_number(it->type()));
  if (!matches)
    throw ProtocolError(std::string(where) + ": field \"" + std::string(field) + "\" must be " + type_name(type) + ", got " + type_name(it->type()));
  return *it;
}

std::uint64_t require_id(const json& object, std::string_view field, std::string_view where) {
  const json& v = require_field(object, field, json::value_t::number_unsigned, where);
  double d = v.get<double>();
  if (d < 0 || std::floor(d) != d || d > 9007199254740991.0)
    throw ProtocolError(std::string(where) + ": field \"" + std::string(field) + "\" must be a non-negative integer id, got " + v.dump());
  return static_cast<std::uint64_t>(d);
}

}  // namespace lmthing::protocol

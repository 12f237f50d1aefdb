#include "state/json_changes.hpp"

#include "protocol/messages.hpp"

namespace lmthing::state {

namespace {

// Arrays grow by at most this much in one change: a stray huge index must not exhaust memory.
constexpr std::size_t kMaxPadding = 1'000'000;

bool is_index(const json& segment) { return segment.is_number_unsigned() || (segment.is_number_integer() && segment.get<std::int64_t>() >= 0); }

std::string key_of(const json& segment) { return segment.is_string() ? segment.get<std::string>() : segment.dump(); }

// The child of `parent` at `segment`, made a container first (an object, unless it is an array
// addressed by an index).
json& child(json& parent, const json& segment) {
  if (parent.is_array() && is_index(segment)) {
    const std::size_t index = segment.get<std::size_t>();
    if (index >= parent.size()) parent.get_ref<json::array_t&>().resize(index + 1);
    return parent[index];
  }
  if (!parent.is_object()) parent = json::object();
  return parent[key_of(segment)];
}

void set(json& value, const json& path, const json& v) {
  json* node = &value;
  for (std::size_t i = 0; i + 1 < path.size(); ++i) node = &child(*node, path[i]);
  const json& last = path.back();
  if (node->is_array() && last.is_string() && last.get_ref<const std::string&>() == "length" && is_index(v)) {
    const std::size_t length = v.get<std::size_t>();
    if (length > node->size() + kMaxPadding)
      throw protocol::ProtocolError("a change sets an array's length to " + std::to_string(length) + ", more than " + std::to_string(kMaxPadding) +
                                    " past its end");
    node->get_ref<json::array_t&>().resize(length);
    return;
  }
  child(*node, last) = v;
}

void remove(json& value, const json& path) {
  json* node = &value;
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    const json& segment = path[i];
    if (node->is_array() && is_index(segment) && segment.get<std::size_t>() < node->size())
      node = &(*node)[segment.get<std::size_t>()];
    else if (node->is_object() && node->contains(key_of(segment)))
      node = &(*node)[key_of(segment)];
    else
      return;
  }
  const json& last = path.back();
  if (node->is_array() && is_index(last)) {
    // As in JS: deleting an element leaves a hole, which JSON writes as null.
    if (last.get<std::size_t>() < node->size()) (*node)[last.get<std::size_t>()] = nullptr;
  } else if (node->is_object()) {
    node->erase(key_of(last));
  }
}

}  // namespace

void check_changes(const json& changes, const std::string& where) {
  if (!changes.is_array())
    throw protocol::ProtocolError(where + ": \"changes\" must be an array of {op, path, value?}, got " + changes.dump().substr(0, 100));
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const json& change = changes[i];
    const std::string at = where + ": changes[" + std::to_string(i) + "]";
    if (!change.is_object() || !change.contains("op") || !change["op"].is_string())
      throw protocol::ProtocolError(at + " must be {op: \"set\" | \"delete\", path, value?}, got " + change.dump().substr(0, 100));
    const std::string op = change["op"].get<std::string>();
    if (op != "set" && op != "delete") throw protocol::ProtocolError(at + ": op must be \"set\" or \"delete\", got \"" + op + "\"");
    if (!change.contains("path") || !change["path"].is_array()) throw protocol::ProtocolError(at + ": \"path\" must be an array of keys and indices");
    for (const json& segment : change["path"])
      if (!segment.is_string() && !is_index(segment))
        throw protocol::ProtocolError(at + ": a path segment must be a string or an index >= 0, got " + segment.dump());
      else if (is_index(segment) && segment.get<std::uint64_t>() > kMaxPadding)
        throw protocol::ProtocolError(at + ": index " + segment.dump() + " is past the largest array index a change may write (" +
                                      std::to_string(kMaxPadding) + ")");
    if (op == "set" && !change.contains("value")) throw protocol::ProtocolError(at + ": a set needs a \"value\"");
    if (op == "delete" && change["path"].empty())
      throw protocol::ProtocolError(at + ": a delete needs a non-empty path (use set to replace the value)");
  }
}

void apply_changes(json& value, const json& changes) {
  for (const json& change : changes) {
    const json& path = change["path"];
    if (change["op"].get_ref<const std::string&>() == "delete") {
      remove(value, path);
    } else if (path.empty()) {
      value = change["value"];
    } else {
      set(value, path, change["value"]);
    }
  }
}

}  // namespace lmthing::state

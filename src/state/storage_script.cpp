#include "state/storage_script.hpp"

#include "state/storage_client.hpp"

namespace lmthing::state {

using protocol::ProtocolError;
using protocol::require_field;
using value_t = json::value_t;

namespace {

constexpr const char* kWhere = "run.start spec (storage)";
constexpr const char* kOps = "get, set, delete, list, cas, increment";

std::string field_where(std::size_t index) { return std::string(kWhere) + " ops[" + std::to_string(index) + "]"; }

void check_op(const json& op, std::size_t index) {
  const std::string where = field_where(index);
  if (!op.is_object()) throw ProtocolError(where + ": must be an object {op, ...}");
  const std::string kind = require_field(op, "op", value_t::string, where).get<std::string>();
  if (kind == "list") {
    require_field(op, "prefix", value_t::string, where);
    return;
  }
  if (kind != "get" && kind != "set" && kind != "delete" && kind != "cas" && kind != "increment")
    throw ProtocolError(where + ": unknown op \"" + kind + "\" (expected one of " + kOps + ")");
  require_field(op, "key", value_t::string, where);
  if ((kind == "set" || kind == "cas") && !op.contains("value")) throw ProtocolError(where + ": " + kind + " needs a \"value\"");
  if (kind == "cas" && (!op.contains("expectedVersion") || !(op["expectedVersion"].is_null() || op["expectedVersion"].is_string())))
    throw ProtocolError(where + ": cas needs \"expectedVersion\" (a version string, or null for \"must not exist\")");
  if (kind == "increment" && !(op.contains("times") && op["times"].is_number_unsigned()))
    throw ProtocolError(where + ": increment needs \"times\" (a non-negative integer)");
  if (op.contains("ttlMs") && !(op["ttlMs"].is_number() && op["ttlMs"].get<double>() > 0))
    throw ProtocolError(where + ": \"ttlMs\" must be a number > 0, got " + op["ttlMs"].dump());
}

// Results are named before they go into JSON literals: GCC 12 rejects co_await inside braced JSON initializers.
Task<json> perform(Loop& loop, RunId run, const std::string& storage, const json& op, double timeout_ms) {
  const std::string kind = op["op"].get<std::string>();
  StorageCallOptions options{op.value("ttlMs", 0.0), timeout_ms};
  json answer;
  if (kind == "list") {
    std::vector<std::string> keys = co_await storage_list(loop, run, storage, op["prefix"].get<std::string>(), options);
    answer["keys"] = std::move(keys);
    co_return answer;
  }
  const std::string key = op["key"].get<std::string>();
  if (kind == "get") {
    std::optional<StoredValue> stored = co_await storage_get(loop, run, storage, key, options);
    if (stored) {
      answer["value"] = std::move(stored->value);
      answer["version"] = stored->version;
    }
  } else if (kind == "set") {
    std::string version = co_await storage_set(loop, run, storage, key, op["value"], options);
    answer["version"] = version;
  } else if (kind == "delete") {
    const bool deleted = co_await storage_delete(loop, run, storage, key, options);
    answer["deleted"] = deleted;
  } else if (kind == "cas") {
    std::optional<std::string> expected;
    if (op["expectedVersion"].is_string()) expected = op["expectedVersion"].get<std::string>();
    std::optional<std::string> version = co_await storage_cas(loop, run, storage, key, expected, op["value"], options);
    answer["ok"] = version.has_value();
    if (version) answer["version"] = *version;
  } else {
    // increment: `times` read-modify-write cycles of a number (absent counts as 0).
    json last = 0;
    const auto times = op["times"].get<std::uint64_t>();
    StorageChange plus_one = [&key](const std::optional<json>& current) {
      if (current && !current->is_number()) throw ProtocolError("increment: key \"" + key + "\" holds " + current->dump() + ", not a number");
      return json(current ? current->get<double>() + 1 : 1.0);
    };
    for (std::uint64_t i = 0; i < times; ++i) last = co_await storage_update(loop, run, storage, key, plus_one, options);
    answer["value"] = last;
  }
  co_return answer;
}

}  // namespace

void check_storage_script(const json& spec) {
  const auto& storage = require_field(spec, "storage", value_t::string, kWhere);
  if (storage.get_ref<const std::string&>().empty()) throw ProtocolError(std::string(kWhere) + ": \"storage\" must name a storage");
  const auto& ops = require_field(spec, "ops", value_t::array, kWhere);
  for (std::size_t i = 0; i < ops.size(); ++i) check_op(ops[i], i);
  if (spec.contains("timeoutMs") && !(spec["timeoutMs"].is_number() && spec["timeoutMs"].get<double>() >= 0))
    throw ProtocolError(std::string(kWhere) + ": \"timeoutMs\" must be a number >= 0, got " + spec["timeoutMs"].dump());
}

Task<json> run_storage_script(Loop& loop, RunId run, json spec) {
  const std::string storage = spec["storage"].get<std::string>();
  const double timeout_ms = spec.value("timeoutMs", 0.0);
  json answers = json::array();
  for (const auto& op : spec["ops"]) answers.push_back(co_await perform(loop, run, storage, op, timeout_ms));
  co_return answers;
}

}  // namespace lmthing::state

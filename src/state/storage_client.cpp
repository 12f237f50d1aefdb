#include "state/storage_client.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include "runtime/random.hpp"

namespace lmthing::state {

using protocol::ProtocolError;

namespace {

json payload(const std::string& storage, const std::string& key) { return json{{"storage", storage}, {"key", key}}; }

void add_ttl(json& p, const StorageCallOptions& options) {
  if (options.ttl_ms > 0) p["ttlMs"] = options.ttl_ms;
  if (options.compress) p["compression"] = "gzip";
}

// A host answer that breaks the protocol fails the caller with a message naming the op and the shape.
[[noreturn]] void bad_answer(const char* op, const char* expected, const json& got) {
  throw ProtocolError(std::string(op) + ": the host answered " + got.dump(-1, ' ', false, json::error_handler_t::replace) + ", expected " + expected);
}

std::string version_of(const char* op, const json& answer, const char* expected) {
  auto v = answer.find("version");
  if (v == answer.end() || !v->is_string() || v->get_ref<const std::string&>().empty()) bad_answer(op, expected, answer);
  return v->get<std::string>();
}

}  // namespace

Task<std::optional<StoredValue>> storage_get(Loop& loop, RunId run, std::string storage, std::string key, StorageCallOptions options) {
  json p = payload(storage, key);
  if (options.compress) p["compression"] = "gzip";
  json answer = co_await loop.op(run, "storage.get", std::move(p), options.timeout_ms);
  constexpr const char* expected = "null or {value, version}";
  if (answer.is_null()) co_return std::nullopt;
  if (!answer.is_object() || !answer.contains("value")) bad_answer("storage.get", expected, answer);
  std::string version = version_of("storage.get", answer, expected);
  co_return StoredValue{std::move(answer["value"]), std::move(version)};
}

Task<std::string> storage_set(Loop& loop, RunId run, std::string storage, std::string key, json value, StorageCallOptions options) {
  json p = payload(storage, key);
  p["value"] = std::move(value);
  add_ttl(p, options);
  json answer = co_await loop.op(run, "storage.set", std::move(p), options.timeout_ms);
  if (!answer.is_object()) bad_answer("storage.set", "{version}", answer);
  co_return version_of("storage.set", answer, "{version}");
}

Task<bool> storage_delete(Loop& loop, RunId run, std::string storage, std::string key, StorageCallOptions options) {
  json answer = co_await loop.op(run, "storage.delete", payload(storage, key), options.timeout_ms);
  if (!answer.is_object() || !answer.contains("deleted") || !answer["deleted"].is_boolean())
    bad_answer("storage.delete", "{deleted: boolean}", answer);
  co_return answer["deleted"].get<bool>();
}

Task<std::vector<std::string>> storage_list(Loop& loop, RunId run, std::string storage, std::string prefix, StorageCallOptions options) {
  // Payloads are built outside co_await expressions: GCC 12 miscompiles braced JSON literals there.
  json p{{"storage", storage}, {"prefix", prefix}};
  json answer = co_await loop.op(run, "storage.list", std::move(p), options.timeout_ms);
  constexpr const char* expected = "{keys: [string]}";
  if (!answer.is_object() || !answer.contains("keys") || !answer["keys"].is_array()) bad_answer("storage.list", expected, answer);
  std::vector<std::string> keys;
  keys.reserve(answer["keys"].size());
  for (const auto& k : answer["keys"]) {
    if (!k.is_string()) bad_answer("storage.list", expected, answer);
    keys.push_back(k.get<std::string>());
  }
  co_return keys;
}

Task<std::optional<std::string>> storage_cas(Loop& loop, RunId run, std::string storage, std::string key, std::optional<std::string> expected_version,
                                             json value, StorageCallOptions options) {
  json p = payload(storage, key);
  p["expectedVersion"] = expected_version ? json(*expected_version) : json();
  p["value"] = std::move(value);
  add_ttl(p, options);
  json answer = co_await loop.op(run, "storage.cas", std::move(p), options.timeout_ms);
  constexpr const char* expected = "{ok: true, version} or {ok: false}";
  if (!answer.is_object() || !answer.contains("ok") || !answer["ok"].is_boolean()) bad_answer("storage.cas", expected, answer);
  if (!answer["ok"].get<bool>()) co_return std::nullopt;
  co_return version_of("storage.cas", answer, expected);
}

Task<void> conflict_pause(Loop& loop, RunId run, const std::string& key, int attempt) {
  Random jitter(static_cast<std::uint64_t>(run) * 0x9E3779B97F4A7C15ULL ^ std::hash<std::string>{}(key) ^ static_cast<std::uint64_t>(attempt));
  const double base = std::min(std::ldexp(1.0, std::min(attempt, 6)), 50.0);
  co_await loop.sleep(run, base * (0.5 + jitter.uniform()));
}

Task<json> storage_update(Loop& loop, RunId run, std::string storage, std::string key, StorageChange change, StorageCallOptions options,
                          int max_attempts) {
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    if (attempt > 0) co_await conflict_pause(loop, run, key, attempt);
    std::optional<StoredValue> current = co_await storage_get(loop, run, storage, key, options);
    std::optional<json> before;
    std::optional<std::string> version;
    if (current) {
      before = std::move(current->value);
      version = std::move(current->version);
    }
    json after = change(before);
    if (co_await storage_cas(loop, run, storage, key, version, after, options)) co_return after;
  }
  throw OpFailed(protocol::WireError{
      "storage",
      "storage \"" + storage + "\": key \"" + key + "\" kept changing under " + std::to_string(max_attempts) + " compare-and-set attempts; giving up",
      json{{"code", "STORAGE_CONFLICT"}, {"storage", storage}, {"key", key}}});
}

}  // namespace lmthing::state

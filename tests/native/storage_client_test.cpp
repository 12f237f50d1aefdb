// The engine's storage.* ops, end to end through a run: the diagnostic run kind "storage" drives
// src/state/storage_client against a host that keeps a versioned map, as the JS storage host does.
#include <catch2/catch.hpp>

#include "scripted_host.hpp"

using namespace lmthing;
using namespace lmthing::testing;

namespace {

// A versioned key-value store answering storage.* ops like js/storage/host.ts does.
struct FakeStorage {
  std::map<std::string, std::pair<json, std::string>> entries;
  std::uint64_t next_version = 1;
  int failed_cas = 0;

  json answer(const json& op) {
    const OpId id = op["id"].get<OpId>();
    const std::string kind = op["op"].get<std::string>();
    if (kind == "timer.sleep") return Harness::done_ok(id, nullptr);
    if (op["storage"] != "main") {
      json error{{"kind", "storage"}, {"code", "STORAGE_UNKNOWN"}, {"message", "unknown storage " + op["storage"].dump()}};
      return json{{"type", "op.done"}, {"id", id}, {"ok", false}, {"error", error}};
    }
    if (kind == "storage.list") {
      json keys = json::array();
      for (const auto& [k, v] : entries)
        if (k.rfind(op["prefix"].get<std::string>(), 0) == 0) keys.push_back(k);
      return Harness::done_ok(id, json{{"keys", keys}});
    }
    const std::string key = op["key"].get<std::string>();
    auto found = entries.find(key);
    if (kind == "storage.get")
      return Harness::done_ok(id, found == entries.end() ? json() : json{{"value", found->second.first}, {"version", found->second.second}});
    if (kind == "storage.delete") {
      const bool existed = found != entries.end();
      if (existed) entries.erase(found);
      return Harness::done_ok(id, json{{"deleted", existed}});
    }
    if (kind == "storage.cas") {
      const json& expected = op["expectedVersion"];
      const bool matches = expected.is_null() ? found == entries.end() : found != entries.end() && found->second.second == expected;
      if (!matches) {
        ++failed_cas;
        return Harness::done_ok(id, json{{"ok", false}});
      }
    }
    const std::string version = std::to_string(next_version++);
    entries[key] = {op["value"], version};
    return Harness::done_ok(id, kind == "storage.cas" ? json{{"ok", true}, {"version", version}} : json{{"version", version}});
  }
};

json storage_run(std::uint64_t id, json ops, std::string storage = "main") {
  return json{{"type", "run.start"}, {"id", id}, {"spec", {{"kind", "storage"}, {"storage", storage}, {"ops", std::move(ops)}}}};
}

// Answers every op as soon as it is seen.
void answer_all(Harness& h, FakeStorage& store, std::size_t& seen) {
  for (; seen < h.host.started.size(); ++seen) h.post(store.answer(h.host.started[seen]));
}

}  // namespace

TEST_CASE("storage ops: set, get, cas, list and delete round-trip through the host", "[state][storage]") {
  Harness h;
  FakeStorage store;
  h.post(storage_run(1, json::array({
                            {{"op", "get"}, {"key", "user:1"}},
                            {{"op", "set"}, {"key", "user:1"}, {"value", {{"name", "Ada"}}}, {"ttlMs", 60000}},
                            {{"op", "get"}, {"key", "user:1"}},
                            {{"op", "cas"}, {"key", "user:1"}, {"expectedVersion", "999"}, {"value", "stale"}},
                            {{"op", "cas"}, {"key", "user:1"}, {"expectedVersion", "1"}, {"value", {{"name", "Grace"}}}},
                            {{"op", "cas"}, {"key", "user:2"}, {"expectedVersion", nullptr}, {"value", 2}},
                            {{"op", "cas"}, {"key", "user:2"}, {"expectedVersion", nullptr}, {"value", 3}},
                            {{"op", "set"}, {"key", "other"}, {"value", nullptr}},
                            {{"op", "list"}, {"prefix", "user:"}},
                            {{"op", "delete"}, {"key", "user:1"}},
                            {{"op", "delete"}, {"key", "user:1"}},
                            {{"op", "get"}, {"key", "user:1"}},
                        })));
  std::size_t seen = 0;
  REQUIRE(h.run([&](Harness& hh) { answer_all(hh, store, seen); }));
  auto reply = *h.reply(1);
  REQUIRE(reply["ok"] == true);
  REQUIRE(reply["value"] == json::array({
                                nullptr,
                                {{"version", "1"}},
                                {{"value", {{"name", "Ada"}}}, {"version", "1"}},
                                {{"ok", false}},
                                {{"ok", true}, {"version", "2"}},
                                {{"ok", true}, {"version", "3"}},
                                {{"ok", false}},
                                {{"version", "4"}},
                                {{"keys", {"user:1", "user:2"}}},
                                {{"deleted", true}},
                                {{"deleted", false}},
                                nullptr,
                            }));
  // What the host saw: the storage name and key on every op, the TTL where one was given.
  const json& set = h.host.started[1];
  REQUIRE(set["op"] == "storage.set");
  REQUIRE(set["run"] == 1);
  REQUIRE(set["storage"] == "main");
  REQUIRE(set["key"] == "user:1");
  REQUIRE(set["ttlMs"] == 60000);
  REQUIRE_FALSE(h.host.started[4].contains("ttlMs"));
  REQUIRE(h.host.started[5]["expectedVersion"].is_null());
  REQUIRE(h.host.started[8] == json{{"type", "op"}, {"id", 9}, {"op", "storage.list"}, {"run", 1}, {"storage", "main"}, {"prefix", "user:"}});
}

TEST_CASE("storage ops: concurrent read-modify-write cycles never lose an update", "[state][storage]") {
  Harness h;
  FakeStorage store;
  for (std::uint64_t run = 1; run <= 4; ++run) h.post(storage_run(run, json::array({{{"op", "increment"}, {"key", "counter"}, {"times", 50}}})));
  RandomLatencyResponder responder(7, 20.0, [&](const json& op) { return store.answer(op); });
  REQUIRE(h.run(std::ref(responder)));
  for (std::uint64_t run = 1; run <= 4; ++run) REQUIRE((*h.reply(run))["ok"] == true);
  REQUIRE(store.entries["counter"].first == 200);
  REQUIRE(store.failed_cas > 0);  // the runs really did collide, and retried
}

TEST_CASE("storage ops: the host's storage errors reach the run unchanged", "[state][storage]") {
  Harness h;
  FakeStorage store;
  h.post(storage_run(1, json::array({{{"op", "get"}, {"key", "k"}}}), "nope"));
  h.post(storage_run(2, json::array({{{"op", "get"}, {"key", "k"}}})));
  REQUIRE(h.run([&](Harness& hh) {
    for (auto& op : hh.host.started) {
      if (op.contains("answered")) continue;
      op["answered"] = true;
      if (op["run"] == 2) {
        json error{{"kind", "storage"}, {"code", "STORAGE_CORRUPT"}, {"message", "stored record is not JSON"}, {"adapter", "file"}, {"key", "k"}};
        hh.post(json{{"type", "op.done"}, {"id", op["id"]}, {"ok", false}, {"error", error}});
      } else {
        hh.post(store.answer(op));
      }
    }
  }));
  auto unknown = *h.reply(1);
  REQUIRE(unknown["error"]["kind"] == "storage");
  REQUIRE(unknown["error"]["code"] == "STORAGE_UNKNOWN");
  auto corrupt = *h.reply(2);
  REQUIRE(corrupt["error"] ==
          json{{"kind", "storage"}, {"code", "STORAGE_CORRUPT"}, {"message", "stored record is not JSON"}, {"adapter", "file"}, {"key", "k"}});
}

TEST_CASE("storage ops: a malformed host answer fails the run with a message naming the op and the expected shape", "[state][storage]") {
  Harness h;
  h.post(storage_run(1, json::array({{{"op", "get"}, {"key", "k"}}})));
  h.post(storage_run(2, json::array({{{"op", "cas"}, {"key", "k"}, {"expectedVersion", nullptr}, {"value", 1}}})));
  h.post(storage_run(3, json::array({{{"op", "list"}, {"prefix", ""}}})));
  REQUIRE(h.run([](Harness& hh) {
    for (auto& op : hh.host.started) {
      if (op.contains("answered")) continue;
      op["answered"] = true;
      const json bad = op["op"] == "storage.get" ? json{{"value", 1}} : op["op"] == "storage.cas" ? json{{"ok", true}} : json{{"keys", {1}}};
      hh.post(Harness::done_ok(op["id"].get<OpId>(), bad));
    }
  }));
  CHECK((*h.reply(1))["error"]["message"] == "storage.get: the host answered {\"value\":1}, expected null or {value, version}");
  CHECK((*h.reply(2))["error"]["message"] == "storage.cas: the host answered {\"ok\":true}, expected {ok: true, version} or {ok: false}");
  CHECK((*h.reply(3))["error"]["message"] == "storage.list: the host answered {\"keys\":[1]}, expected {keys: [string]}");
  for (std::uint64_t run = 1; run <= 3; ++run) CHECK((*h.reply(run))["error"]["kind"] == "protocol");
}

TEST_CASE("storage ops: read-modify-write gives up with STORAGE_CONFLICT when the key never stops changing", "[state][storage]") {
  Harness h;
  h.post(storage_run(1, json::array({{{"op", "increment"}, {"key", "hot"}, {"times", 1}}})));
  int cas_attempts = 0;
  REQUIRE(h.run([&](Harness& hh) {
    for (auto& op : hh.host.started) {
      if (op.contains("answered")) continue;
      op["answered"] = true;
      if (op["op"] == "storage.cas") ++cas_attempts;
      // Another writer always gets there first: every read sees a new version, every CAS fails.
      json value = op["op"] == "storage.get" ? json{{"value", cas_attempts}, {"version", "v" + std::to_string(cas_attempts)}} : json{{"ok", false}};
      hh.post(Harness::done_ok(op["id"].get<OpId>(), value));
    }
  }));
  auto reply = *h.reply(1);
  REQUIRE(cas_attempts == 100);
  REQUIRE(reply["error"]["kind"] == "storage");
  REQUIRE(reply["error"]["code"] == "STORAGE_CONFLICT");
  REQUIRE(reply["error"]["key"] == "hot");
  REQUIRE(reply["error"]["message"] == "storage \"main\": key \"hot\" kept changing under 100 compare-and-set attempts; giving up");
}

TEST_CASE("storage ops: a bad storage spec is refused before any op starts", "[state][storage]") {
  Harness h;
  auto spec = [](json fields) {
    json s{{"kind", "storage"}, {"storage", "main"}, {"ops", json::array()}};
    s.update(fields);
    return s;
  };
  h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", spec({{"storage", ""}})}});
  h.post(json{{"type", "run.start"}, {"id", 2}, {"spec", spec({{"ops", {{{"op", "explode"}, {"key", "k"}}}}})}});
  h.post(json{{"type", "run.start"}, {"id", 3}, {"spec", spec({{"ops", {{{"op", "cas"}, {"key", "k"}, {"value", 1}}}}})}});
  h.post(json{{"type", "run.start"}, {"id", 4}, {"spec", spec({{"ops", {{{"op", "set"}, {"key", "k"}, {"value", 1}, {"ttlMs", -1}}}}})}});
  h.post(json{{"type", "run.start"}, {"id", 5}, {"spec", spec({{"ops", {{{"op", "get"}}}}})}});
  REQUIRE(h.run([](Harness&) {}));
  REQUIRE(h.host.started.empty());
  CHECK((*h.reply(1))["error"]["message"] == "run.start spec (storage): \"storage\" must name a storage");
  CHECK_THAT((*h.reply(2))["error"]["message"].get<std::string>(), Catch::Contains("ops[0]: unknown op \"explode\" (expected one of get, set"));
  CHECK_THAT((*h.reply(3))["error"]["message"].get<std::string>(), Catch::Contains("cas needs \"expectedVersion\""));
  CHECK_THAT((*h.reply(4))["error"]["message"].get<std::string>(), Catch::Contains("\"ttlMs\" must be a number > 0, got -1"));
  CHECK_THAT((*h.reply(5))["error"]["message"].get<std::string>(), Catch::Contains("ops[0]: missing field \"key\""));
}

// defState and defCache in the engine (docs/state-and-caches.md): the cache interceptor (a hit
// skips the call, identical concurrent calls run once, LRU eviction reported, a model hit replayed
// to the host) and the state store (loaded before the first step, changes from the prompt function
// and from the host applied, saved with compare-and-set, a conflicting save reported, not lost).
#include <catch2/catch.hpp>

#include "pipeline/registry.hpp"
#include "prompt_script.hpp"

using namespace lmthing;
using namespace lmthing::testing;

namespace {

// A storage with versions, as the host's adapters keep it: answers storage.get/set/cas.
struct ScriptedStorage {
  std::map<std::string, std::pair<json, int>> entries;
  int next_version = 1;
  int cas_calls = 0;

  std::optional<json> answer(const json& op) {
    const std::string kind = op["op"];
    const std::string key = op.value("key", "");
    if (kind == "storage.get") {
      auto it = entries.find(key);
      if (it == entries.end()) return json(nullptr);
      return json{{"value", it->second.first}, {"version", std::to_string(it->second.second)}};
    }
    if (kind == "storage.set") {
      entries[key] = {op["value"], next_version};
      return json{{"version", std::to_string(next_version++)}};
    }
    if (kind == "storage.cas") {
      ++cas_calls;
      auto it = entries.find(key);
      const json& expected = op["expectedVersion"];
      const bool matches = it == entries.end() ? expected.is_null() : expected.is_string() && expected == std::to_string(it->second.second);
      if (!matches) return json{{"ok", false}};
      entries[key] = {op["value"], next_version};
      return json{{"ok", true}, {"version", std::to_string(next_version++)}};
    }
    return std::nullopt;
  }

  // Another process writes `key`.
  void external_write(const std::string& key, json value) { entries[key] = {std::move(value), next_version++}; }
};

// The prompt script plus a storage and model.replay (recorded, answered at once).
struct StateHost {
  Script script;
  ScriptedStorage storage;
  std::vector<json> replays;
  std::size_t seen = 0;
  std::function<void(Harness&, const json&)> on_op;  // sees every op first

  void operator()(Harness& h) {
    for (; seen < h.host.started.size(); ++seen) {
      const json& op = h.host.started[seen];
      if (on_op) on_op(h, op);
      if (op["op"] == "model.replay") {
        replays.push_back(op);
        h.post(Harness::done_ok(op["id"].get<OpId>(), nullptr));
      } else if (auto answer = storage.answer(op)) {
        h.post(Harness::done_ok(op["id"].get<OpId>(), *answer));
      }
    }
    script(h);
  }
};

json cached_tool(const std::string& name, const std::string& cache) {
  return json{
      {"name", name}, {"description", name}, {"parameters", {{"type", "object"}}}, {"callback", "tool:" + name}, {"options", {{"cache", cache}}}};
}

json start(Harness& h, StateHost& host, json spec, int id = 1) {
  h.post(json{{"type", "run.start"}, {"id", id}, {"spec", std::move(spec)}});
  REQUIRE(h.run(std::ref(host)));
  auto reply = h.reply(id);
  REQUIRE(reply);
  return *reply;
}

std::vector<std::string> cache_chain_of(pipeline::RunTree& tree, const json& options) {
  agent::ToolSpec tool;
  tool.name = "t";
  tool.options = options;
  pipeline::Target target{pipeline::CallKind::Tool, &tool, options, pipeline::RunSettings{}, tree};
  return pipeline::build_chain(target)->names();
}

}  // namespace

TEST_CASE("the cache sits after the gate and before the output validator, fallback and retry", "[cache]") {
  Harness h;
  pipeline::RunTree tree(h.engine.loop(), 1, 1);
  pipeline::define_all(tree, definitions({definition("cache", "c", {{"strategy", "lru"}}), definition("approval", "ok"),
                                          definition("validator", "v", {{"schema", {{"type", "string"}}}}), definition("retry", "r")}));
  CHECK(cache_chain_of(tree, {{"approval", "ok"}, {"validator", "v"}, {"cache", "c"}, {"retry", "r"}}) ==
        std::vector<std::string>{"gate", "cache", "output_validator", "retry", "observe_attempt"});
}

TEST_CASE("a cached tool runs once for identical calls, concurrent ones included", "[cache]") {
  Harness h;
  StateHost host;
  int executions = 0;
  host.script.callbacks["tool:lookup"] = [&](const json& args) -> json {
    ++executions;
    return json{{"found", args[0]["q"]}};
  };
  // Step 1: three identical calls at once (coalesced); step 2: the same call again (a memory hit);
  // step 3: a different one (a miss).
  std::vector<json> three{call_part("c1", "lookup", {{"q", "x"}}), call_part("c2", "lookup", {{"q", "x"}}), call_part("c3", "lookup", {{"q", "x"}})};
  std::vector<json> again{call_part("c4", "lookup", {{"q", "x"}})};
  std::vector<json> other{call_part("c5", "lookup", {{"q", "y"}})};
  host.script.model_responses = {response(three, "tool-calls"), response(again, "tool-calls"), response(other, "tool-calls"),
                                 response({text_part("done")})};
  json reply = start(h, host,
                     prompt_spec({{"tools", json::array({cached_tool("lookup", "c")})},
                                  {"definitions", definitions({definition("cache", "c", {{"strategy", "lru"}, {"maxSize", 10}})})}}));
  REQUIRE(reply["ok"] == true);
  CHECK(executions == 2);
  CHECK(run_events(h, "cache-miss").size() == 2);
  auto hits = run_events(h, "cache-hit");
  REQUIRE(hits.size() == 3);
  int in_flight = 0, memory = 0;
  for (const auto& hit : hits) {
    CHECK(hit["cache"] == "c");
    CHECK(hit["toolName"] == "lookup");
    (hit["source"] == "in-flight" ? in_flight : memory) += 1;
  }
  CHECK(in_flight + memory == 3);
  CHECK(in_flight >= 1);  // at least one of the concurrent three waited on the leader
  // Every caller got the result.
  for (const auto& result : run_events(h, "tool-result")) CHECK(result["result"]["found"] == result["args"]["q"]);
}

TEST_CASE("an LRU cache evicts the least recently used entry and says so", "[cache]") {
  Harness h;
  StateHost host;
  int executions = 0;
  host.script.callbacks["tool:f"] = [&](const json& args) -> json {
    ++executions;
    return args[0]["n"];
  };
  std::vector<json> responses;
  int n = 0;
  for (int arg : {1, 2, 1}) {
    std::vector<json> call{call_part("c" + std::to_string(++n), "f", {{"n", arg}})};
    responses.push_back(response(call, "tool-calls"));
  }
  responses.push_back(response({text_part("done")}));
  host.script.model_responses = responses;
  json reply = start(h, host,
                     prompt_spec({{"tools", json::array({cached_tool("f", "one")})},
                                  {"definitions", definitions({definition("cache", "one", {{"strategy", "lru"}, {"maxSize", 1}})})}}));
  REQUIRE(reply["ok"] == true);
  CHECK(executions == 3);  // 1 was evicted by 2, so it ran again
  auto evicted = run_events(h, "cache-evict");
  REQUIRE(evicted.size() >= 1);
  CHECK(evicted[0]["reason"] == "capacity");
  CHECK(evicted[0]["key"].get<std::string>().find("\"n\":1") != std::string::npos);
}

TEST_CASE("a TTL cache lets entries expire on the engine clock", "[cache]") {
  Harness h;
  StateHost host;
  int executions = 0;
  host.script.callbacks["tool:f"] = [&](const json&) -> json { return ++executions; };
  std::vector<json> first{call_part("c1", "f", json::object())};
  std::vector<json> second{call_part("c2", "f", json::object())};
  host.script.model_responses = {response(first, "tool-calls"), response(second, "tool-calls"), response({text_part("done")})};
  // The clock moves 2 s between the two calls (on the second model call).
  host.on_op = [&, models = 0](Harness& hh, const json& op) mutable {
    if (op["op"] == "model.generate" && ++models == 2) hh.clock += 2000;
  };
  json reply = start(h, host,
                     prompt_spec({{"tools", json::array({cached_tool("f", "short")})},
                                  {"definitions", definitions({definition("cache", "short", {{"strategy", "ttl"}, {"ttl", 1000}})})}}));
  REQUIRE(reply["ok"] == true);
  CHECK(executions == 2);
  auto evicted = run_events(h, "cache-evict");
  REQUIRE(evicted.size() == 1);
  CHECK(evicted[0]["reason"] == "expired");
}

TEST_CASE("a model cache answers an identical request from the recorded response and replays it to the host", "[cache]") {
  Harness h;
  StateHost host;
  host.script.model_responses = {response({text_part("Sunny in Paris.")})};
  auto spec = [] {
    return prompt_spec({{"cache", "answers"}, {"definitions", definitions({definition("cache", "answers", {{"strategy", "lru"}})})}});
  };
  json first = start(h, host, spec(), 1);
  REQUIRE(first["ok"] == true);
  CHECK(first["value"]["steps"].back()["text"] == "Sunny in Paris.");
  json second = start(h, host, spec(), 2);  // a new run on the same engine: the cache outlives runs
  REQUIRE(second["ok"] == true);
  CHECK(second["value"]["steps"].back()["text"] == "Sunny in Paris.");
  CHECK(host.script.model_requests.size() == 1);  // the model was called once
  REQUIRE(host.replays.size() == 1);
  CHECK(host.replays[0]["content"][0]["text"] == "Sunny in Paris.");
  CHECK(second["value"]["usage"]["totalTokens"] == 0);  // a hit costs nothing
  CHECK(run_events(h, "cache-hit").size() == 1);
}

TEST_CASE("a model cache's key holds the run's own provider options: other options miss, the same hit, a bad value is refused", "[cache]") {
  Harness h;
  StateHost host;
  host.script.model_responses = {response({text_part("low")}), response({text_part("high")})};
  auto spec = [](json options) {
    json fields{{"cache", "answers"}, {"definitions", definitions({definition("cache", "answers", {{"strategy", "lru"}})})}};
    if (!options.is_null()) fields["providerOptions"] = std::move(options);
    return prompt_spec(fields);
  };
  const json low{{"openai", {{"reasoningEffort", "low"}}}};
  CHECK(start(h, host, spec(low), 1)["value"]["steps"].back()["text"] == "low");
  CHECK(start(h, host, spec({{"openai", {{"reasoningEffort", "high"}}}}), 2)["value"]["steps"].back()["text"] == "high");
  CHECK(start(h, host, spec(low), 3)["value"]["steps"].back()["text"] == "low");
  CHECK(host.script.model_requests.size() == 2);
  CHECK(run_events(h, "cache-hit").size() == 1);

  json refused = start(h, host, spec("low"), 4);
  REQUIRE(refused["ok"] == false);
  CHECK_THAT(refused["error"]["message"].get<std::string>(), Catch::Contains("providerOptions"));
}

TEST_CASE("a persistent cache keeps entries in storage under its key prefix", "[cache]") {
  Harness h;
  StateHost host;
  int executions = 0;
  host.script.callbacks["tool:embed"] = [&](const json&) -> json {
    ++executions;
    return json::array({0.1, 0.2});
  };
  std::vector<json> call{call_part("c1", "embed", {{"text", "hi"}})};
  auto spec = [&] {
    return prompt_spec({{"tools", json::array({cached_tool("embed", "emb")})},
                        {"definitions", definitions({definition("cache", "emb", {{"strategy", "persistent"}, {"keyPrefix", "embeddings:"}})})}});
  };
  host.script.model_responses = {response(call, "tool-calls"), response({text_part("a")}), response(call, "tool-calls"), response({text_part("b")})};
  REQUIRE(start(h, host, spec(), 1)["ok"] == true);
  REQUIRE(host.storage.entries.size() == 1);
  CHECK(host.storage.entries.begin()->first.rfind("embeddings:tool:embed:", 0) == 0);
  REQUIRE(start(h, host, spec(), 2)["ok"] == true);
  CHECK(executions == 1);
  auto hits = run_events(h, "cache-hit");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0]["source"] == "storage");
}

TEST_CASE("a cache with a corrupted stored record is bypassed and reports it", "[cache]") {
  Harness h;
  StateHost host;
  int executions = 0;
  host.script.callbacks["tool:t"] = [&](const json&) -> json { return ++executions; };
  std::vector<json> call{call_part("c1", "t", json::object())};
  host.script.model_responses = {response(call, "tool-calls"), response({text_part("a")})};
  host.storage.external_write("cache:p:tool:t:{}", "not an entry");
  json reply = start(h, host,
                     prompt_spec({{"tools", json::array({cached_tool("t", "p")})},
                                  {"definitions", definitions({definition("cache", "p", {{"strategy", "persistent"}})})}}));
  REQUIRE(reply["ok"] == true);
  CHECK(executions == 1);
  auto errors = run_events(h, "cache-error");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0]["code"] == "STORAGE_CORRUPT");
  CHECK(host.storage.entries["cache:p:tool:t:{}"].first == json{{"value", 1}});  // overwritten with a good entry
}

TEST_CASE("a cache option naming no cache is refused when the run starts", "[cache]") {
  Harness h;
  StateHost host;
  json reply = start(h, host, prompt_spec({{"tools", json::array({cached_tool("t", "nope")})}}));
  REQUIRE(reply["ok"] == false);
  CHECK(reply["error"]["message"].get<std::string>().find("nope") != std::string::npos);
}

TEST_CASE("persisted state: the prompt function's changes are applied when loaded and saved with compare-and-set", "[state]") {
  Harness h;
  StateHost host;
  host.storage.external_write("state:session:s1:prefs", json{{"codeStyle", "functional"}, {"language", "ts"}});
  json state_config{{"initial", {{"codeStyle", "functional"}}},
                    {"persist", true},
                    {"scope", "session"},
                    {"changes", json::array({json{{"op", "set"}, {"path", {"codeStyle"}}, {"value", "imperative"}}})},
                    {"save", true}};
  host.script.model_responses = {response({text_part("ok")})};
  json reply = start(h, host, prompt_spec({{"sessionId", "s1"}, {"definitions", definitions({definition("state", "prefs", state_config)})}}));
  REQUIRE(reply["ok"] == true);
  // The stored value was the base; the change went on top; other fields kept.
  CHECK(host.storage.entries["state:session:s1:prefs"].first == json{{"codeStyle", "imperative"}, {"language", "ts"}});
  auto loaded = run_events(h, "state-loaded");
  REQUIRE(loaded.size() == 1);
  CHECK(loaded[0]["found"] == true);
  CHECK(run_events(h, "state-saved").size() == 1);
  // The model call came after the load.
  std::size_t first_load = h.host.started.size(), first_model = h.host.started.size();
  for (std::size_t i = 0; i < h.host.started.size(); ++i) {
    if (h.host.started[i]["op"] == "storage.get" && first_load == h.host.started.size()) first_load = i;
    if (h.host.started[i]["op"] == "model.generate" && first_model == h.host.started.size()) first_model = i;
  }
  CHECK(first_load < first_model);
}

TEST_CASE("persisted session state needs a sessionId", "[state]") {
  Harness h;
  StateHost host;
  json reply = start(h, host, prompt_spec({{"definitions", definitions({definition("state", "s", {{"initial", 1}, {"persist", true}})})}}));
  REQUIRE(reply["ok"] == false);
  CHECK(reply["error"]["kind"] == "config");  // the user's definition, not the host's message
  CHECK(reply["error"]["message"].get<std::string>().find("sessionId") != std::string::npos);
}

TEST_CASE("the host changes state while the run is live; it is saved at the end of the run", "[state]") {
  Harness h;
  StateHost host;
  std::vector<json> call{call_part("c1", "bump", json::object())};
  host.script.model_responses = {response(call, "tool-calls"), response({text_part("done")})};
  // The tool changes the state through the commands a JS live object sends.
  host.script.callbacks["tool:bump"] = [&](const json&) -> json {
    h.post(json{{"type", "state.view"}, {"id", 100}, {"run", 1}});
    h.post(json{{"type", "state.change"},
                {"id", 101},
                {"run", 1},
                {"name", "counter"},
                {"changes", json::array({json{{"op", "set"}, {"path", {"n"}}, {"value", 5}}})}});
    return "bumped";
  };
  json tool{{"name", "bump"}, {"description", "bump"}, {"parameters", {{"type", "object"}}}, {"callback", "tool:bump"}};
  json reply =
      start(h, host,
            prompt_spec(
                {{"tools", json::array({tool})},
                 {"definitions", definitions({definition("state", "counter", {{"initial", {{"n", 0}}}, {"persist", true}, {"scope", "global"}})})}}));
  REQUIRE(reply["ok"] == true);
  auto view = h.reply(100);
  REQUIRE(view);
  REQUIRE((*view)["ok"] == true);
  CHECK((*view)["value"]["states"][0]["name"] == "counter");
  CHECK((*view)["value"]["states"][0]["persisted"] == true);
  CHECK((*h.reply(101))["ok"] == true);
  CHECK(host.storage.entries["state:global:counter"].first == json{{"n", 5}});
}

TEST_CASE("a save that lost the race to another writer fails with STORAGE_CONFLICT and keeps the other value", "[state]") {
  Harness h;
  StateHost host;
  std::vector<json> call{call_part("c1", "bump", json::object())};
  host.script.model_responses = {response(call, "tool-calls"), response({text_part("done")})};
  host.script.callbacks["tool:bump"] = [&](const json&) -> json {
    host.storage.external_write("state:agent:root:counter", json{{"n", 42}});  // another process saved first
    h.post(json{{"type", "state.change"},
                {"id", 101},
                {"run", 1},
                {"name", "counter"},
                {"changes", json::array({json{{"op", "set"}, {"path", {"n"}}, {"value", 1}}})}});
    return "bumped";
  };
  json tool{{"name", "bump"}, {"description", "bump"}, {"parameters", {{"type", "object"}}}, {"callback", "tool:bump"}};
  json reply =
      start(h, host,
            prompt_spec(
                {{"tools", json::array({tool})},
                 {"definitions", definitions({definition("state", "counter", {{"initial", {{"n", 0}}}, {"persist", true}, {"scope", "agent"}})})}}));
  REQUIRE(reply["ok"] == false);
  CHECK(reply["error"]["kind"] == "storage");
  CHECK(reply["error"]["code"] == "STORAGE_CONFLICT");
  CHECK(reply["error"]["state"] == "counter");
  CHECK(reply["error"]["key"] == "state:agent:root:counter");
  CHECK(host.storage.entries["state:agent:root:counter"].first == json{{"n", 42}});  // the other writer's value is not lost
  CHECK(run_events(h, "state-conflict").size() == 1);
}

TEST_CASE("state.update is a read-modify-write retried on conflict", "[state]") {
  Harness h;
  StateHost host;
  std::vector<json> call{call_part("c1", "inc", json::object())};
  host.script.model_responses = {response(call, "tool-calls"), response({text_part("done")})};
  int conflicts_left = 2;
  host.script.callbacks["tool:inc"] = [&](const json&) -> json {
    h.post(json{{"type", "state.update"}, {"id", 200}, {"run", 1}, {"name", "n"}, {"fn", "inc"}});
    return "ok";
  };
  // The update function; the first two attempts lose the race to another writer.
  host.script.callbacks["inc"] = [&](const json& args) -> json {
    if (conflicts_left-- > 0) host.storage.external_write("state:global:n", 10);
    return args[0].get<int>() + 1;
  };
  json tool{{"name", "inc"}, {"description", "inc"}, {"parameters", {{"type", "object"}}}, {"callback", "tool:inc"}};
  json reply =
      start(h, host,
            prompt_spec({{"tools", json::array({tool})},
                         {"definitions", definitions({definition("state", "n", {{"initial", 0}, {"persist", true}, {"scope", "global"}})})}}));
  REQUIRE(reply["ok"] == true);
  auto update = h.reply(200);
  REQUIRE(update);
  REQUIRE((*update)["ok"] == true);
  CHECK((*update)["value"]["value"] == 11);
  CHECK(host.storage.entries["state:global:n"].first == 11);
}

TEST_CASE("state commands name what is wrong", "[state]") {
  Harness h;
  StateHost host;
  std::vector<json> call{call_part("c1", "t", json::object())};
  host.script.model_responses = {response(call, "tool-calls"), response({text_part("done")})};
  host.script.callbacks["tool:t"] = [&](const json&) -> json {
    h.post(json{{"type", "state.save"}, {"id", 300}, {"run", 1}, {"name", "missing"}});
    h.post(json{{"type", "state.change"}, {"id", 301}, {"run", 1}, {"name", "s"}, {"changes", json::array({json{{"op", "frobnicate"}}})}});
    return "ok";
  };
  json tool{{"name", "t"}, {"description", "t"}, {"parameters", {{"type", "object"}}}, {"callback", "tool:t"}};
  json reply =
      start(h, host, prompt_spec({{"tools", json::array({tool})}, {"definitions", definitions({definition("state", "s", {{"initial", 0}})})}}));
  REQUIRE(reply["ok"] == true);
  auto unknown = h.reply(300);
  REQUIRE(unknown);
  CHECK((*unknown)["ok"] == false);
  CHECK((*unknown)["error"]["message"].get<std::string>().find("missing") != std::string::npos);
  auto bad = h.reply(301);
  REQUIRE(bad);
  CHECK((*bad)["ok"] == false);
}

// defMemory wired into the engine (docs/memory.md): the `memory` run kind, `model.embed` ops and
// their usage in the ledger, store/search/delete/clear on the engine's HNSW index, typed errors that
// leave the memory untouched, and persistence through storage ops (reloaded, not rebuilt).
#include <catch2/catch.hpp>

#include <map>

#include "scripted_host.hpp"

using namespace lmthing;
using namespace lmthing::testing;

namespace {

// The host side: a toy embedder (texts → fixed 3-d vectors), a versioned storage, and knobs to fail.
struct MemoryHost {
  std::map<std::string, std::vector<float>> vectors{
      {"cats purr", {1, 0, 0}}, {"kittens meow", {0.9f, 0.1f, 0}}, {"stocks fell", {0, 1, 0}}, {"bonds rose", {0, 0.9f, 0.1f}},
      {"rain", {0, 0, 1}},      {"pets", {1, 0.05f, 0}},           {"markets", {0, 1, 0.05f}}};
  VersionedStorage store;
  std::vector<json> embed_ops, storage_ops;
  int embed_tokens = 0;  // reported per text
  bool fail_embed = false;
  bool short_answer = false;
  std::size_t seen = 0;

  void operator()(Harness& h) {
    bool posted = false;
    for (; seen < h.host.started.size(); ++seen) {
      const json& op = h.host.started[seen];
      const OpId id = op["id"].get<OpId>();
      posted = true;
      if (op["op"] == "model.embed") {
        embed_ops.push_back(op);
        if (fail_embed) {
          h.post(Harness::done_error(id, "provider", "embeddings: 500 on the second batch"));
          continue;
        }
        json out = json::array();
        for (const auto& v : op["values"]) out.push_back(vectors.at(v.get<std::string>()));
        if (short_answer) out.erase(out.begin());
        h.post(Harness::done_ok(id, json{{"embeddings", out}, {"usage", {{"tokens", embed_tokens * int(op["values"].size())}}}}));
      } else if (auto answer = store.answer(op)) {
        storage_ops.push_back(op);
        h.post(Harness::done_ok(id, *answer));
      } else {
        FAIL("unexpected op " << op.dump());
      }
    }
    if (!posted) FAIL("the engine waits on nothing this host knows");
  }
};

json memory_def(const std::string& name, json config) { return json{{"kind", "memory"}, {"name", name}, {"config", std::move(config)}}; }

json kb(json extra = json::object()) {
  json config{{"dimensions", 3}, {"embeddingModel", "toy:embed"}};
  config.update(extra);
  return memory_def("kb", config);
}

int next_id = 1;

// Starts a memory run and returns its reply.
json memory_run(Harness& h, MemoryHost& host, json spec) {
  spec["kind"] = "memory";
  const int id = next_id++;
  h.post(json{{"type", "run.start"}, {"id", id}, {"spec", std::move(spec)}});
  REQUIRE(h.run(std::ref(host)));
  auto reply = h.reply(id);
  REQUIRE(reply);
  return *reply;
}

json ok_value(const json& reply) {
  INFO(reply.dump());
  REQUIRE(reply["ok"] == true);
  return reply["value"];
}

std::vector<json> wiring_events(Harness& h, const std::string& type) {
  std::vector<json> out;
  for (const auto& e : h.host.events)
    if (e["type"] == "run.event" && e["event"]["type"] == type) out.push_back(e["event"]);
  return out;
}

json store_spec(const std::string& memory, json items, json defs) {
  return json{{"action", "store"}, {"name", memory}, {"items", std::move(items)}, {"definitions", std::move(defs)}};
}

}  // namespace

TEST_CASE("model.embed carries the batch to the host and its usage reaches the tree's token budget", "[memory]") {
  Harness h;
  MemoryHost host;
  host.embed_tokens = 7;
  json defs = json::array({json{{"kind", "constraint"},
                                {"name", "budget"},
                                {"config", {{"type", "tokens"}, {"max", 100}, {"warn", 10}, {"track", json::array({"embeddings"})}}}}});
  json value =
      ok_value(memory_run(h, host, json{{"action", "embed"}, {"model", "toy:embed"}, {"values", {"cats purr", "rain"}}, {"definitions", defs}}));
  REQUIRE(host.embed_ops.size() == 1);  // one op for the whole batch
  REQUIRE(host.embed_ops[0]["model"] == "toy:embed");
  REQUIRE(host.embed_ops[0]["values"] == json::array({"cats purr", "rain"}));
  REQUIRE(value["embeddings"].size() == 2);
  REQUIRE(value["embeddings"][1] == json::array({0, 0, 1}));
  REQUIRE(value["usage"]["tokens"] == 14);
  auto warnings = wiring_events(h, "constraint-warning");
  REQUIRE(warnings.size() == 1);  // 14 embedding tokens crossed the warn level of 10
  REQUIRE(warnings[0]["constraint"] == "budget");
}

TEST_CASE("an embedder that answers another number of vectors is a typed error", "[memory]") {
  Harness h;
  MemoryHost host;
  host.short_answer = true;
  json reply = memory_run(h, host, json{{"action", "embed"}, {"model", "toy:embed"}, {"values", {"cats purr", "rain"}}});
  REQUIRE(reply["ok"] == false);
  REQUIRE(reply["error"]["kind"] == "memory");
  REQUIRE(reply["error"]["code"] == "EMBEDDING_MISMATCH");
  REQUIRE_THAT(reply["error"]["message"].get<std::string>(), Catch::Contains("1 vector(s) for 2 input(s)"));
}

TEST_CASE("store embeds a batch in one op, search finds by similarity with content, metadata, filter and threshold", "[memory]") {
  Harness h;
  MemoryHost host;
  json stored = ok_value(memory_run(h, host,
                                    store_spec("kb",
                                               {{{"content", "cats purr"}, {"metadata", {{"topic", "pets"}}}},
                                                {{"content", "kittens meow"}, {"id", "k1"}, {"metadata", {{"topic", "pets"}}}},
                                                {{"content", "stocks fell"}, {"metadata", {{"topic", "finance"}}}},
                                                {{"content", "bonds rose"}, {"metadata", {{"topic", "finance"}}}}},
                                               json::array({kb()}))));
  REQUIRE(host.embed_ops.size() == 1);
  REQUIRE(stored["ids"] == json::array({"mem-1", "k1", "mem-2", "mem-3"}));
  REQUIRE(stored["size"] == 4);

  json found = ok_value(memory_run(h, host, json{{"action", "search"}, {"name", "kb"}, {"query", "pets"}, {"limit", 2}, {"definitions", {kb()}}}));
  REQUIRE(found["results"].size() == 2);
  REQUIRE(found["results"][0]["content"] == "cats purr");
  REQUIRE(found["results"][1]["id"] == "k1");
  REQUIRE(found["results"][0]["metadata"]["topic"] == "pets");
  REQUIRE(found["results"][0]["score"].get<double>() > 0.99);

  json finance = ok_value(memory_run(
      h, host, json{{"action", "search"}, {"name", "kb"}, {"query", "pets"}, {"filter", {{"topic", "finance"}}}, {"definitions", {kb()}}}));
  REQUIRE(finance["results"].size() == 2);
  REQUIRE(finance["results"][0]["metadata"]["topic"] == "finance");

  json strict =
      ok_value(memory_run(h, host, json{{"action", "search"}, {"name", "kb"}, {"query", "pets"}, {"threshold", 0.5}, {"definitions", {kb()}}}));
  REQUIRE(strict["results"].size() == 2);  // only the two pet memories score above 0.5
}

TEST_CASE("a failing embedder, wrong dimensions or a NaN leave the memory untouched", "[memory]") {
  Harness h;
  MemoryHost host;
  json defs = json::array({memory_def("m2", {{"dimensions", 3}, {"embeddingModel", "toy:embed"}})});
  ok_value(memory_run(h, host, store_spec("m2", {{{"content", "rain"}}}, defs)));

  host.fail_embed = true;
  json failed = memory_run(h, host, store_spec("m2", {{{"content", "cats purr"}}, {{"content", "stocks fell"}}}, defs));
  REQUIRE(failed["ok"] == false);
  REQUIRE(failed["error"]["kind"] == "provider");
  host.fail_embed = false;

  json wrong = memory_run(h, host, store_spec("m2", {{{"vector", {1, 0}}, {"id", "a"}}, {{"content", "cats purr"}, {"id", "b"}}}, defs));
  REQUIRE(wrong["ok"] == false);
  REQUIRE(wrong["error"]["kind"] == "memory");
  REQUIRE(wrong["error"]["code"] == "DIMENSION_MISMATCH");
  REQUIRE(wrong["error"]["memory"] == "m2");

  json nan = memory_run(h, host, store_spec("m2", {{{"vector", {1, nullptr, 0}}}}, defs));
  REQUIRE(nan["error"]["code"] == "NON_FINITE_VECTOR");

  json all = ok_value(memory_run(h, host, json{{"action", "search"}, {"name", "m2"}, {"vector", {0, 0, 1}}, {"limit", 10}, {"definitions", defs}}));
  REQUIRE(all["results"].size() == 1);  // only "rain": no half-inserted batch
  REQUIRE(all["results"][0]["content"] == "rain");
}

TEST_CASE("maxSize evicts by importance, delete is all-or-nothing, clear empties", "[memory]") {
  Harness h;
  MemoryHost host;
  json defs = json::array({memory_def("small", {{"dimensions", 3}, {"embeddingModel", "toy:embed"}, {"maxSize", 2}})});
  json stored = ok_value(memory_run(h, host,
                                    store_spec("small",
                                               {{{"content", "cats purr"}, {"id", "a"}, {"metadata", {{"importance", 0.9}}}},
                                                {{"content", "stocks fell"}, {"id", "b"}, {"metadata", {{"importance", 0.1}}}},
                                                {{"content", "rain"}, {"id", "c"}, {"metadata", {{"importance", 0.5}}}}},
                                               defs)));
  REQUIRE(stored["evicted"] == json::array({"b"}));
  REQUIRE(stored["size"] == 2);

  json unknown = memory_run(h, host, json{{"action", "delete"}, {"name", "small"}, {"ids", {"a", "zzz"}}, {"definitions", defs}});
  REQUIRE(unknown["error"]["code"] == "UNKNOWN_ID");
  json deleted = ok_value(memory_run(h, host, json{{"action", "delete"}, {"name", "small"}, {"ids", {"a"}}, {"definitions", defs}}));
  REQUIRE(deleted["deleted"] == 1);
  REQUIRE(deleted["size"] == 1);  // "a" was still there after the refused delete
  json cleared = ok_value(memory_run(h, host, json{{"action", "clear"}, {"name", "small"}, {"definitions", defs}}));
  REQUIRE(cleared["cleared"] == 1);
}

TEST_CASE("a persisted memory is saved with compare-and-set and reloaded by another engine without re-embedding", "[memory]") {
  MemoryHost host;
  json defs = json::array({memory_def("notes", {{"dimensions", 3}, {"embeddingModel", "toy:embed"}, {"persist", true}})});
  {
    Harness h;
    ok_value(memory_run(h, host, store_spec("notes", {{{"content", "cats purr"}}, {{"content", "stocks fell"}}, {{"content", "rain"}}}, defs)));
  }
  REQUIRE(host.store.values.count("memory:global:notes") == 1);
  const json record = host.store.values["memory:global:notes"];
  REQUIRE(record["format"] == "lmthing.memory/1");
  REQUIRE(record["contents"].size() == 3);

  host.embed_ops.clear();
  Harness fresh;  // a new engine: nothing in its heap
  MemoryHost& same = host;
  same.seen = 0;
  json found =
      ok_value(memory_run(fresh, same, json{{"action", "search"}, {"name", "notes"}, {"query", "markets"}, {"limit", 1}, {"definitions", defs}}));
  REQUIRE(found["results"][0]["content"] == "stocks fell");
  REQUIRE(host.embed_ops.size() == 1);  // the query only: the stored memories were loaded, not re-embedded
  REQUIRE(host.embed_ops[0]["values"] == json::array({"markets"}));
}

TEST_CASE("memory configs and run specs are checked before anything runs", "[memory]") {
  Harness h;
  MemoryHost host;
  json typo = memory_run(h, host, store_spec("kb", {{{"content", "rain"}}}, json::array({memory_def("kb", {{"dimensions", 3}, {"maxSise", 2}})})));
  REQUIRE(typo["error"]["kind"] == "config");
  REQUIRE_THAT(typo["error"]["message"].get<std::string>(), Catch::Contains("maxSize"));

  json unknown = memory_run(h, host, json{{"action", "search"}, {"name", "nope"}, {"query", "x"}, {"definitions", {kb()}}});
  REQUIRE_THAT(unknown["error"]["message"].get<std::string>(), Catch::Contains("unknown memory \"nope\""));

  ok_value(memory_run(h, host, store_spec("kb", {{{"content", "rain"}}}, json::array({kb()}))));
  json other = memory_run(h, host, store_spec("kb", {{{"vector", {1, 0, 0, 0}}}}, json::array({memory_def("kb", {{"dimensions", 4}})})));
  REQUIRE(other["error"]["code"] == "INVALID_CONFIG");
  REQUIRE(host.embed_ops.size() == 1);
}

TEST_CASE("store and search refuse what the memory would silently ignore or never match", "[memory]") {
  Harness h;
  MemoryHost host;
  const auto message = [](const json& reply) { return reply["error"]["message"].get<std::string>(); };
  // An ISO date as timestamp would become the time of storing, a word as importance 0.
  json date = memory_run(h, host, store_spec("kb", {{{"content", "rain"}, {"metadata", {{"timestamp", "2026-01-01"}}}}}, json::array({kb()})));
  REQUIRE_THAT(message(date), Catch::Contains("\"metadata.timestamp\" must be a time in ms (a number, such as Date.now()), got \"2026-01-01\""));
  json importance = memory_run(h, host, store_spec("kb", {{{"content", "rain"}, {"metadata", {{"importance", "high"}}}}}, json::array({kb()})));
  REQUIRE_THAT(message(importance), Catch::Contains("\"metadata.importance\" must be a number"));
  json empty = memory_run(h, host, store_spec("kb", {{{"content", ""}}}, json::array({kb()})));
  REQUIRE_THAT(message(empty), Catch::Contains("\"content\" is empty"));
  REQUIRE(host.embed_ops.empty());  // refused before anything was embedded

  ok_value(
      memory_run(h, host, store_spec("kb", {{{"content", "rain"}, {"metadata", {{"importance", 0.5}, {"timestamp", 1000}}}}}, json::array({kb()}))));
  const auto search = [&](json extra) {
    json spec{{"action", "search"}, {"name", "kb"}, {"query", "rain"}, {"definitions", {kb()}}};
    spec.update(extra);
    return memory_run(h, host, spec);
  };
  REQUIRE_THAT(message(search({{"threshold", 1.5}})), Catch::Contains("\"threshold\" 1.5: no score can reach it: cosine scores are at most 1"));
  REQUIRE_THAT(message(search({{"from", 10}, {"to", 5}})), Catch::Contains("\"from\" (10) is after \"to\" (5)"));
  REQUIRE_THAT(message(search({{"query", ""}})), Catch::Contains("\"query\" is empty"));
  REQUIRE(ok_value(search({{"threshold", 1}}))["results"].size() <= 1);
  REQUIRE(ok_value(search({{"from", 5}, {"to", 5000}}))["results"].size() == 1);
}

TEST_CASE("a graph memory stores entities and relations, finds neighbourhoods and persists its relations", "[memory][graph]") {
  MemoryHost host;
  host.vectors["cats"] = {1, 0, 0};
  host.vectors["kittens: young cats"] = {0.9f, 0.1f, 0};
  host.vectors["markets"] = {0, 1, 0.05f};
  json defs = json::array({memory_def("g", {{"type", "graph"}, {"dimensions", 3}, {"embeddingModel", "toy:embed"}, {"persist", true}})});
  json store{
      {"action", "store"},
      {"name", "g"},
      {"entities", {{{"name", "cats"}, {"type", "animal"}}, {{"name", "kittens"}, {"description", "young cats"}}, {{"name", "rain"}}}},
      {"relations", {{{"from", "kittens"}, {"relation", "grow into"}, {"to", "cats"}}, {{"from", "rain"}, {"relation", "wets"}, {"to", "cats"}}}},
      {"definitions", defs}};
  {
    Harness h;
    json stored = ok_value(memory_run(h, host, store));
    REQUIRE(host.embed_ops.size() == 1);  // one batch: "cats", "kittens: young cats", "rain"
    REQUIRE(host.embed_ops[0]["values"] == json::array({"cats", "kittens: young cats", "rain"}));
    REQUIRE(stored["ids"] == json::array({"cats", "kittens", "rain"}));
    REQUIRE(stored["relations"] == 2);
    REQUIRE(stored["relationCount"] == 2);

    json bad = memory_run(h, host,
                          json{{"action", "store"},
                               {"name", "g"},
                               {"entities", {{{"name", "dogs"}, {"vector", {0, 1, 0}}}}},
                               {"relations", {{{"from", "dogs"}, {"relation", "chase"}, {"to", "mice"}}}},
                               {"definitions", defs}});
    REQUIRE(bad["ok"] == false);
    REQUIRE(bad["error"]["code"] == "UNKNOWN_ENTITY");
    REQUIRE(bad["error"]["memory"] == "g");

    json wrong = memory_run(h, host, json{{"action", "search"}, {"name", "g"}, {"query", "x"}, {"from", 1}, {"definitions", defs}});
    REQUIRE(wrong["error"]["kind"] == "protocol");
    json items = memory_run(h, host, store_spec("g", {{{"content", "cats"}}}, defs));
    REQUIRE(items["error"]["kind"] == "protocol");
    REQUIRE_THAT(items["error"]["message"].get<std::string>(), Catch::Contains("items"));
  }
  REQUIRE(host.store.values.at("memory:global:g")["graph"]["relations"].size() == 2);

  host.embed_ops.clear();
  host.seen = 0;
  Harness fresh;  // a new engine: loaded from storage, not re-embedded
  json found = ok_value(
      memory_run(fresh, host, json{{"action", "search"}, {"name", "g"}, {"vector", {1, 0, 0}}, {"limit", 1}, {"depth", 1}, {"definitions", defs}}));
  REQUIRE(host.embed_ops.empty());
  REQUIRE(found["entities"].size() == 3);
  REQUIRE(found["entities"][0]["name"] == "cats");
  REQUIRE(found["entities"][0]["depth"] == 0);
  REQUIRE(found["entities"][0]["score"].get<double>() > 0.99);
  REQUIRE(found["entities"][1]["depth"] == 1);
  REQUIRE(!found["entities"][1].contains("score"));
  REQUIRE(found["relations"].size() == 2);

  json around = ok_value(memory_run(
      fresh, host,
      json{{"action", "neighbors"}, {"name", "g"}, {"entity", "kittens"}, {"depth", 2}, {"relation", "grow into"}, {"definitions", defs}}));
  REQUIRE(around["entities"].size() == 2);  // kittens → cats; "wets" is not followed
  REQUIRE(around["entities"][1]["name"] == "cats");
  REQUIRE(around["entities"][1]["type"] == "animal");

  json gone = ok_value(memory_run(fresh, host, json{{"action", "delete"}, {"name", "g"}, {"ids", {"cats"}}, {"definitions", defs}}));
  REQUIRE(gone["deleted"] == 1);
  REQUIRE(host.store.values.at("memory:global:g")["graph"]["relations"].empty());  // both relations touched "cats"

  json vector_only = memory_run(fresh, host, json{{"action", "neighbors"}, {"name", "kb"}, {"entity", "x"}, {"definitions", {kb()}}});
  REQUIRE_THAT(vector_only["error"]["message"].get<std::string>(), Catch::Contains("applies to graph memories"));
  json max = memory_run(
      fresh, host,
      json{{"action", "clear"}, {"name", "g2"}, {"definitions", {memory_def("g2", {{"type", "graph"}, {"dimensions", 3}, {"maxSize", 2}})}}});
  REQUIRE_THAT(max["error"]["message"].get<std::string>(), Catch::Contains("'maxSize' does not apply to graph memories"));
}

// Memories that make model calls (docs/memory.md): `hierarchical` memories (summaries at levels
// built by the model, searched top-down, all-or-nothing stores, persistence) and graph memories
// extracting entities and relations from text. The host is scripted: a keyword embedder and a
// model whose answers the tests choose.
#include <catch2/catch.hpp>

#include <functional>
#include <map>

#include "scripted_host.hpp"
#include "state/memory_hierarchy.hpp"
#include "state/state_error.hpp"

using namespace lmthing;
using namespace lmthing::testing;

namespace {

std::size_t count_of(const std::string& text, const std::string& word) {
  std::size_t n = 0;
  for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) ++n;
  return n;
}

// Embeds a text as its counts of "cat", "stock" and "rain" (plus a small constant: never zero);
// the model answers `answer(op)` (by default: the entries it was given, joined, so a summary holds
// every keyword of its children).
struct ModelHost {
  std::vector<json> generate_ops, embed_ops;
  VersionedStorage store;
  std::function<json(const json& op)> answer;
  bool fail_generate = false;
  std::size_t seen = 0;

  static std::string user_text(const json& op) { return op["messages"].back()["content"].get<std::string>(); }

  void operator()(Harness& h) {
    bool posted = false;
    for (; seen < h.host.started.size(); ++seen) {
      const json& op = h.host.started[seen];
      const OpId id = op["id"].get<OpId>();
      posted = true;
      if (op["op"] == "model.embed") {
        embed_ops.push_back(op);
        json out = json::array();
        for (const auto& v : op["values"]) {
          const std::string t = v.get<std::string>();
          out.push_back(json::array({double(count_of(t, "cat")), double(count_of(t, "stock")), double(count_of(t, "rain")), 0.01}));
        }
        h.post(Harness::done_ok(id, json{{"embeddings", out}, {"usage", {{"tokens", 0}}}}));
      } else if (op["op"] == "model.generate") {
        generate_ops.push_back(op);
        if (fail_generate) {
          h.post(Harness::done_error(id, "validation", "the model is down"));
          continue;
        }
        json text = answer ? answer(op) : json("Summary: " + user_text(op));
        h.post(Harness::done_ok(id, json{{"content", {{{"type", "text"}, {"text", text}}}},
                                         {"finishReason", "stop"},
                                         {"usage", {{"inputTokens", 30}, {"outputTokens", 10}, {"totalTokens", 40}}}}));
      } else if (auto answer = store.answer(op)) {
        h.post(Harness::done_ok(id, *answer));
      } else if (op["op"] == "timer.sleep") {
        h.post(Harness::done_ok(id, nullptr));
      } else {
        FAIL("unexpected op " << op.dump());
      }
    }
    if (!posted) FAIL("the engine waits on nothing this host knows");
  }
};

int next_memory_id = 1;

json run_memory(Harness& h, ModelHost& host, json spec) {
  spec["kind"] = "memory";
  const int id = next_memory_id++;
  h.post(json{{"type", "run.start"}, {"id", id}, {"spec", std::move(spec)}});
  REQUIRE(h.run(std::ref(host)));
  auto reply = h.reply(id);
  REQUIRE(reply);
  return *reply;
}

json ok(const json& reply) {
  INFO(reply.dump());
  REQUIRE(reply["ok"] == true);
  return reply["value"];
}

json hier_def(json extra = json::object()) {
  json config{{"type", "hierarchical"}, {"dimensions", 4}, {"embeddingModel", "toy:embed"}, {"chunkSize", 2}, {"levels", 3}, {"model", "toy:sum"}};
  config.update(extra);
  return json::array({json{{"kind", "memory"}, {"name", "h"}, {"config", std::move(config)}}});
}

json store(json items, json defs) { return json{{"action", "store"}, {"name", "h"}, {"items", std::move(items)}, {"definitions", std::move(defs)}}; }

json text_list(std::initializer_list<const char*> list) {
  json out = json::array();
  for (const char* t : list) out.push_back(json{{"content", t}});
  return out;
}

}  // namespace

TEST_CASE("a hierarchy plans chunk summaries level by level and commits them", "[memory][hierarchy]") {
  state::MemoryHierarchy h("h", state::HierarchyConfig{2, 3});
  int n = 0;
  auto next = [&] { return "s" + std::to_string(++n); };
  auto plan = h.plan({"a", "b", "c"}, next);
  REQUIRE(plan.size() == 1);  // a+b → s1; c waits
  REQUIRE(plan[0].children == std::vector<std::string>{"a", "b"});
  h.commit({"a", "b", "c"}, plan);
  REQUIRE(h.roots() == std::vector<std::string>{"c", "s1"});
  plan = h.plan({"d"}, next);  // c+d → s2, then s1+s2 → s3
  REQUIRE(plan.size() == 2);
  REQUIRE(plan[1].level == 2);
  REQUIRE(plan[1].children == std::vector<std::string>{"s1", "s2"});
  h.commit({"d"}, plan);
  REQUIRE(h.roots() == std::vector<std::string>{"s3"});
  REQUIRE(h.node("a").parent == "s1");

  const auto copy = state::MemoryHierarchy::from_json("h", state::HierarchyConfig{2, 3}, h.to_json());
  REQUIRE(copy.to_json() == h.to_json());
  json broken = h.to_json();
  broken["nodes"]["a"]["parent"] = "s2";
  REQUIRE_THROWS_AS(state::MemoryHierarchy::from_json("h", state::HierarchyConfig{2, 3}, broken), state::StateError);
  REQUIRE_THROWS_WITH(h.remove({"s1"}), Catch::Contains("is a summary"));
  h.remove({"a"});
  REQUIRE(h.node("s1").children == std::vector<std::string>{"b"});
}

TEST_CASE("a hierarchical memory summarizes every chunkSize items with one model call and is searched top-down", "[memory][hierarchy]") {
  Harness h;
  ModelHost host;
  json stored = ok(run_memory(h, host, store(text_list({"cat naps", "cat purrs", "stock fell", "stock rose"}), hier_def())));
  REQUIRE(stored["ids"] == json::array({"mem-1", "mem-2", "mem-3", "mem-4"}));
  REQUIRE(stored["summaries"].size() == 3);  // two chunks at level 1, one session summary at level 2
  REQUIRE(host.generate_ops.size() == 3);    // one call per summary
  REQUIRE(host.generate_ops[0]["model"] == "toy:sum");
  REQUIRE(host.generate_ops[0]["purpose"] == "summary");
  REQUIRE(ModelHost::user_text(host.generate_ops[0]) == "Entries:\n1. cat naps\n2. cat purrs\n");
  REQUIRE_THAT(ModelHost::user_text(host.generate_ops[2]), Catch::Contains("Summaries of earlier entries:\n1. Summary: Entries:"));
  REQUIRE(host.embed_ops.size() == 2);  // the items, then every summary in one batch
  REQUIRE(stored["size"] == 7);

  // beam 1: only the best level-1 summary is opened, so only its items can be found.
  json found = ok(run_memory(h, host, json{{"action", "search"}, {"name", "h"}, {"query", "stock"}, {"beam", 1}, {"definitions", hier_def()}}));
  REQUIRE(found["results"].size() == 2);
  for (const json& r : found["results"]) {
    REQUIRE_THAT(r["content"].get<std::string>(), Catch::StartsWith("stock"));
    REQUIRE(r["level"] == 0);
    REQUIRE(r["path"].size() == 2);  // the session summary, then the chunk summary
    REQUIRE(r["path"][0]["level"] == 2);
    REQUIRE(r["path"][1]["level"] == 1);
    REQUIRE_THAT(r["path"][1]["content"].get<std::string>(), Catch::Contains("stock fell"));
  }
  json chunks =
      ok(run_memory(h, host, json{{"action", "search"}, {"name", "h"}, {"query", "cat"}, {"level", 1}, {"limit", 1}, {"definitions", hier_def()}}));
  REQUIRE(chunks["results"].size() == 1);
  REQUIRE(chunks["results"][0]["level"] == 1);
  REQUIRE_THAT(chunks["results"][0]["content"].get<std::string>(), Catch::Contains("cat naps"));

  // An item that fills no chunk is a root: found directly, with no path.
  ok(run_memory(h, host, store(text_list({"rain falls"}), hier_def())));
  REQUIRE(host.generate_ops.size() == 3);
  json rain = ok(run_memory(h, host, json{{"action", "search"}, {"name", "h"}, {"query", "rain"}, {"limit", 1}, {"definitions", hier_def()}}));
  REQUIRE(rain["results"][0]["content"] == "rain falls");
  REQUIRE(rain["results"][0]["path"].empty());

  json summary_delete =
      run_memory(h, host, json{{"action", "delete"}, {"name", "h"}, {"ids", json::array({stored["summaries"][0]})}, {"definitions", hier_def()}});
  REQUIRE(summary_delete["error"]["code"] == "UNKNOWN_ID");
  REQUIRE_THAT(summary_delete["error"]["message"].get<std::string>(), Catch::Contains("is a summary"));
}

TEST_CASE("a summary call goes through the tree's model chain: its tokens count in the tree's budget", "[memory][hierarchy]") {
  Harness h;
  ModelHost host;
  json defs = hier_def();
  defs.push_back(json{{"kind", "constraint"},
                      {"name", "budget"},
                      {"config", {{"type", "tokens"}, {"max", 1000}, {"warn", 50}, {"track", json::array({"input", "output"})}}}});
  ok(run_memory(h, host, store(text_list({"cat naps", "cat purrs"}), defs)));
  REQUIRE(host.generate_ops.size() == 1);
  REQUIRE(h.host.events_of_type("run.event").size() > 0);
  bool warned = false;
  for (const auto& e : h.host.events_of_type("run.event"))
    if (e["event"]["type"] == "constraint-warning" && e["event"]["constraint"] == "budget") warned = true;
  REQUIRE_FALSE(warned);  // 40 tokens: under the warn level
  ok(run_memory(h, host,
                store(text_list({"stock fell", "stock rose"}), defs)));  // two summaries (a chunk, the session): 80 tokens in this run's tree
  for (const auto& e : h.host.events_of_type("run.event"))
    if (e["event"]["type"] == "constraint-warning" && e["event"]["constraint"] == "budget") warned = true;
  REQUIRE(warned);
}

TEST_CASE("a summarizer failure mid-store leaves the hierarchical memory unchanged", "[memory][hierarchy]") {
  Harness h;
  ModelHost host;
  ok(run_memory(h, host, store(text_list({"cat naps"}), hier_def())));
  host.fail_generate = true;
  json failed = run_memory(h, host, store(text_list({"cat purrs", "stock fell"}), hier_def()));
  REQUIRE(failed["ok"] == false);
  REQUIRE(failed["error"]["kind"] == "validation");  // the model's own error
  host.fail_generate = false;
  host.answer = [](const json&) { return json(""); };
  json empty = run_memory(h, host, store(text_list({"cat purrs"}), hier_def()));
  REQUIRE(empty["error"]["kind"] == "memory");
  REQUIRE(empty["error"]["code"] == "SUMMARY_FAILED");
  REQUIRE(empty["error"]["memory"] == "h");

  host.answer = nullptr;
  json all = ok(run_memory(h, host, json{{"action", "search"}, {"name", "h"}, {"query", "cat stock"}, {"definitions", hier_def()}}));
  REQUIRE(all["results"].size() == 1);  // only the first store happened
  REQUIRE(all["results"][0]["content"] == "cat naps");
  json next = ok(run_memory(h, host, store(text_list({"cat purrs"}), hier_def())));
  REQUIRE(next["ids"] == json::array({"mem-2"}));  // no id was used up by the failed stores
  REQUIRE(next["summaries"].size() == 1);
}

TEST_CASE("a hierarchical memory persists its tree and is reloaded without embedding or summarizing again", "[memory][hierarchy]") {
  ModelHost host;
  const json defs = hier_def({{"persist", true}});
  {
    Harness h;
    ok(run_memory(h, host, store(text_list({"cat naps", "cat purrs", "stock fell", "stock rose", "rain falls"}), defs)));
  }
  const json record = host.store.values.at("memory:global:h");
  REQUIRE(record["hierarchy"]["nodes"].size() == 8);
  REQUIRE(host.generate_ops.size() == 3);
  host.seen = 0;
  host.embed_ops.clear();
  Harness fresh;
  json found = ok(run_memory(fresh, host, json{{"action", "search"}, {"name", "h"}, {"query", "stock"}, {"beam", 1}, {"definitions", defs}}));
  REQUIRE(host.embed_ops.size() == 1);  // the query only
  REQUIRE(host.generate_ops.size() == 3);
  REQUIRE(found["results"].size() == 3);  // both stock items through their summaries, then the open root "rain falls"
  REQUIRE(found["results"][0]["path"].size() == 2);
  REQUIRE_THAT(found["results"][1]["content"].get<std::string>(), Catch::StartsWith("stock"));
  REQUIRE(found["results"][2]["content"] == "rain falls");
  ok(run_memory(fresh, host, store(text_list({"rain pours"}), defs)));  // completes the open chunk of the reloaded tree
  REQUIRE(host.generate_ops.size() == 4);
  REQUIRE(ModelHost::user_text(host.generate_ops[3]) == "Entries:\n1. rain falls\n2. rain pours\n");

  json other = run_memory(fresh, host, json{{"action", "clear"}, {"name", "h"}, {"definitions", hier_def({{"persist", true}, {"chunkSize", 3}})}});
  REQUIRE(other["ok"] == false);  // the held memory has another shape
}

TEST_CASE("hierarchical configs: the model falls back to the run's, bad keys are refused", "[memory][hierarchy]") {
  Harness h;
  ModelHost host;
  json defs = hier_def();
  defs[0]["config"].erase("model");
  json none = run_memory(h, host, store(text_list({"cat naps", "cat purrs"}), defs));
  REQUIRE(none["error"]["code"] == "INVALID_CONFIG");
  REQUIRE_THAT(none["error"]["message"].get<std::string>(), Catch::Contains("needs a model"));
  json spec = store(text_list({"cat naps", "cat purrs"}), defs);
  spec["runModel"] = "toy:run";
  ok(run_memory(h, host, spec));
  REQUIRE(host.generate_ops.back()["model"] == "toy:run");

  auto refused = [&](json extra, const std::string& words) {
    json d = hier_def(std::move(extra));
    d[0]["name"] = "h2";
    json reply = run_memory(h, host, json{{"action", "clear"}, {"name", "h2"}, {"definitions", d}});
    INFO(reply.dump());
    REQUIRE_THAT(reply["error"]["message"].get<std::string>(), Catch::Contains(words));
  };
  refused({{"maxSize", 3}}, "'maxSize' does not apply to hierarchical memories");
  refused({{"chunkSize", 1}}, "'chunkSize' must be an integer from 2");
  refused({{"levels", 11}}, "'levels' must be an integer from 2 to 10");
  json vector_def = json::array({json{{"kind", "memory"}, {"name", "v"}, {"config", {{"dimensions", 3}, {"chunkSize", 4}}}}});
  json reply = run_memory(h, host, json{{"action", "clear"}, {"name", "v"}, {"definitions", vector_def}});
  REQUIRE_THAT(reply["error"]["message"].get<std::string>(), Catch::Contains("'chunkSize' applies to hierarchical memories only"));
}

TEST_CASE("a graph memory extracts entities and relations from text with one model call", "[memory][graph]") {
  Harness h;
  ModelHost host;
  json defs = json::array({json{
      {"kind", "memory"}, {"name", "g"}, {"config", {{"type", "graph"}, {"dimensions", 4}, {"embeddingModel", "toy:embed"}, {"model", "toy:x"}}}}});
  host.answer = [](const json&) {
    return json(
        "```json\n{\"entities\": [{\"name\": \"Tom\", \"type\": \"cat\", \"description\": \"a cat\", \"properties\": {\"age\": 3}},"
        " {\"name\": \"Rain\", \"type\": \"weather\"}], \"relations\": [{\"from\": \"Tom\", \"relation\": \"hides from\", \"to\": \"Rain\"}]}\n```");
  };
  json stored = ok(run_memory(h, host,
                              json{{"action", "store"},
                                   {"name", "g"},
                                   {"text", "Tom the cat hides from the rain."},
                                   {"instructions", "Only animals and weather."},
                                   {"definitions", defs}}));
  REQUIRE(host.generate_ops.size() == 1);
  REQUIRE(host.generate_ops[0]["model"] == "toy:x");
  REQUIRE(host.generate_ops[0]["purpose"] == "extraction");
  REQUIRE_THAT(host.generate_ops[0]["system"].get<std::string>(), Catch::Contains("\"relations\""));
  REQUIRE(ModelHost::user_text(host.generate_ops[0]) == "Only animals and weather.\n\nText:\nTom the cat hides from the rain.");
  REQUIRE(stored["ids"] == json::array({"Tom", "Rain"}));
  REQUIRE(stored["relationCount"] == 1);
  REQUIRE(stored["extracted"]["relations"][0]["relation"] == "hides from");
  json around = ok(run_memory(h, host, json{{"action", "neighbors"}, {"name", "g"}, {"entity", "Tom"}, {"definitions", defs}}));
  REQUIRE(around["entities"][0]["metadata"]["age"] == 3);
  REQUIRE(around["entities"][1]["name"] == "Rain");

  auto refused = [&](const std::string& answer, const std::string& words) {
    host.answer = [answer](const json&) { return json(answer); };
    json reply = run_memory(h, host, json{{"action", "store"}, {"name", "g"}, {"text", "More text"}, {"definitions", defs}});
    INFO(reply.dump());
    REQUIRE(reply["error"]["kind"] == "memory");
    REQUIRE(reply["error"]["memory"] == "g");
    REQUIRE_THAT(reply["error"]["message"].get<std::string>(), Catch::Contains(words));
  };
  refused("Sure! Tom is a cat.", "is not JSON");
  refused(R"({"entities": [{"type": "dog"}], "relations": []})", "is not {entities");
  refused(R"({"entities": [{"name": "Rex"}], "relations": [{"from": "Rex", "relation": "chases", "to": "Mouse"}]})", "Mouse");
  json size = ok(
      run_memory(h, host, json{{"action", "search"}, {"name", "g"}, {"vector", {1, 0, 0, 0}}, {"limit", 10}, {"depth", 0}, {"definitions", defs}}));
  REQUIRE(size["entities"].size() == 2);  // Tom and Rain only: no failed extraction stored anything
}

// defPipeline, defParallel and defBatcher in the engine (docs/orchestration.md): stages in a line
// with retries, timeouts and a failure naming the stage; parallel aggregations (first cancels the
// rest, majority decided early, consensus with a compare callback, minSuccess, the group's
// timeout); batches grouped by size and by maxWait on the virtual clock; definition errors.
#include <catch2/catch.hpp>

#include "flow_host.hpp"

using namespace lmthing;
using namespace lmthing::testing;

namespace {

json spec_with(json definition_list) { return prompt_spec({{"definitions", std::move(definition_list)}}); }

json command(const std::string& type, const std::string& name, json input, const std::string& id = "c") {
  json c{{"type", type}, {"id", id}, {"run", 1}, {"name", name}};
  c[type == "batch.add" ? "item" : "input"] = std::move(input);
  return c;
}

// Runs `spec` with `host`; returns the reply to host.command.
json run_flow(Harness& h, FlowHost& host, json spec) {
  h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", std::move(spec)}});
  REQUIRE(h.run(std::ref(host)));
  auto run = h.reply(1);
  REQUIRE(run);
  CHECK((*run)["ok"] == true);
  auto reply = h.reply(host.command["id"]);
  REQUIRE(reply);
  return *reply;
}

std::string message_of(const json& reply) { return reply["error"]["message"].get<std::string>(); }

bool mentions(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

json tasks(const std::vector<std::string>& names) {
  json out = json::array();
  for (const auto& n : names) out.push_back(json{{"name", n}, {"fn", "task:" + n}});
  return out;
}

json parallel_spec(json config) { return spec_with(definitions({definition("parallel", "p", std::move(config))})); }

// How many ops the host was told to cancel among the callbacks named `fn`.
std::size_t cancelled_callbacks(const Harness& h, const std::string& fn) {
  std::size_t n = 0;
  for (const auto& op : h.host.started)
    if (op["op"] == "callback.invoke" && op["fn"] == fn &&
        std::find(h.host.cancelled.begin(), h.host.cancelled.end(), op["id"].get<OpId>()) != h.host.cancelled.end())
      ++n;
  return n;
}

}  // namespace

// ------------------------------------------------------------------------------------ pipelines

TEST_CASE("pipeline: each stage gets the previous output and its context; stage events in order", "[pipeline]") {
  Harness h;
  FlowHost host;
  host.command = command("pipeline.run", "doc", {{"file", "doc.pdf"}});
  host.with_args["s:extract"] = [](const json& args) {
    CHECK(args[0]["file"] == "doc.pdf");
    CHECK(args[1]["pipeline"] == "doc");
    CHECK(args[1]["stage"] == "extract");
    CHECK(args[1]["index"] == 0);
    CHECK(args[1]["attempt"] == 1);
    return json("  Some Text  ");
  };
  host.callbacks["s:clean"] = [](const json& text) { return json("some text"); };
  host.callbacks["s:chunk"] = [](const json& text) { return json::array({text, text}); };
  json stages = json::array(
      {json{{"stage", "extract"}, {"fn", "s:extract"}}, json{{"stage", "clean"}, {"fn", "s:clean"}}, json{{"stage", "chunk"}, {"fn", "s:chunk"}}});
  json reply = run_flow(h, host, spec_with(definitions({definition("pipeline", "doc", {{"stages", stages}})})));
  REQUIRE(reply["ok"] == true);
  CHECK(reply["value"] == json::array({"some text", "some text"}));
  CHECK(host.calls == std::vector<std::string>{"s:extract", "s:clean", "s:chunk"});
  auto started = run_events(h, "pipeline-stage-start");
  auto finished = run_events(h, "pipeline-stage-finish");
  REQUIRE(started.size() == 3);
  REQUIRE(finished.size() == 3);
  CHECK(started[1]["stage"] == "clean");
  CHECK(finished[2]["status"] == "success");
}

TEST_CASE("pipeline: a failing stage fails the pipeline naming the stage; later stages do not run", "[pipeline]") {
  Harness h;
  FlowHost host;
  host.command = command("pipeline.run", "doc", "in");
  host.callbacks["s:a"] = [](const json&) { return json("a"); };
  host.callbacks["s:b"] = [](const json&) -> json { throw std::runtime_error("parser crashed"); };
  host.callbacks["s:c"] = [](const json&) -> json { throw std::runtime_error("must not run"); };
  json stages = json::array({json{{"stage", "a"}, {"fn", "s:a"}}, json{{"stage", "b"}, {"fn", "s:b"}}, json{{"stage", "c"}, {"fn", "s:c"}}});
  json reply = run_flow(h, host, spec_with(definitions({definition("pipeline", "doc", {{"stages", stages}})})));
  REQUIRE(reply["ok"] == false);
  CHECK(reply["error"]["kind"] == "pipeline");
  CHECK(reply["error"]["code"] == "PIPELINE_STAGE_FAILED");
  CHECK(reply["error"]["stage"] == "b");
  CHECK(reply["error"]["cause"]["message"] == "parser crashed");
  CHECK(mentions(message_of(reply), "pipeline \"doc\": stage \"b\" failed: parser crashed"));
  CHECK(host.calls == std::vector<std::string>{"s:a", "s:b"});
  CHECK(run_events(h, "pipeline-stage-finish").back()["status"] == "error");
}

TEST_CASE("pipeline: per-stage retries (retry events) and a timeout that is retried like any failure", "[pipeline]") {
  Harness h;
  FlowHost host;
  host.command = command("pipeline.run", "doc", 1);
  int attempts = 0;
  host.callbacks["s:flaky"] = [&](const json& v) -> json {
    if (++attempts < 3) throw std::runtime_error("try again");
    return v.get<int>() + 1;
  };
  host.silent = {"s:slow"};
  json stages = json::array(
      {json{{"stage", "flaky"}, {"fn", "s:flaky"}, {"retries", 2}}, json{{"stage", "slow"}, {"fn", "s:slow"}, {"timeout", 1000}, {"retries", 1}}});
  json reply = run_flow(h, host, spec_with(definitions({definition("pipeline", "doc", {{"stages", stages}})})));
  CHECK(attempts == 3);
  auto retries = run_events(h, "retry");
  REQUIRE(retries.size() == 3);  // two for flaky, one for slow
  CHECK(retries[0]["toolName"] == "doc.flaky");
  CHECK(retries[2]["toolName"] == "doc.slow");
  REQUIRE(reply["ok"] == false);
  CHECK(reply["error"]["stage"] == "slow");
  CHECK(reply["error"]["cause"]["kind"] == "timeout");
  CHECK(cancelled_callbacks(h, "s:slow") == 2);  // both attempts were cancelled at the host
  // 500 + 1000 ms of backoff for flaky, then two 1000 ms attempts and a 500 ms wait for slow.
  CHECK(h.clock == Approx(500 + 1000 + 1000 + 500 + 1000));
}

// ------------------------------------------------------------------------------- parallel groups

TEST_CASE("parallel: 'all' collects every task's result by name and runs them concurrently", "[parallel]") {
  Harness h;
  FlowHost host;
  Random random(3);
  host.random = &random;
  host.command = command("parallel.run", "p", "q");
  for (const char* n : {"a", "b", "c"})
    host.with_args[std::string("task:") + n] = [n](const json& args) {
      CHECK(args[0] == "q");
      CHECK(args[1]["task"] == n);
      return json(std::string(n) + "!");
    };
  json reply = run_flow(h, host, parallel_spec({{"tasks", tasks({"a", "b", "c"})}}));
  REQUIRE(reply["ok"] == true);
  CHECK(reply["value"] == json{{"a", "a!"}, {"b", "b!"}, {"c", "c!"}});
  CHECK(host.max_pending == 3);
  auto finish = run_events(h, "parallel-finish");
  REQUIRE(finish.size() == 1);
  CHECK(finish[0]["tasks"] == json{{"a", "success"}, {"b", "success"}, {"c", "success"}});
}

TEST_CASE("parallel: 'first' resolves with the first success and cancels the rest at the host", "[parallel]") {
  Harness h;
  FlowHost host;
  host.command = command("parallel.run", "p", nullptr);
  host.silent = {"task:slow1", "task:slow2"};
  host.callbacks["task:fast"] = [](const json&) { return json("fast wins"); };
  json reply = run_flow(h, host, parallel_spec({{"tasks", tasks({"slow1", "fast", "slow2"})}, {"aggregation", "first"}}));
  REQUIRE(reply["ok"] == true);
  CHECK(reply["value"] == "fast wins");
  CHECK(cancelled_callbacks(h, "task:slow1") == 1);
  CHECK(cancelled_callbacks(h, "task:slow2") == 1);
  auto finish = run_events(h, "parallel-finish").at(0);
  CHECK(finish["winner"] == "fast");
  CHECK(finish["tasks"]["slow1"] == "cancelled");
  CHECK(h.clock == Approx(0));  // nothing waited on a timer
}

TEST_CASE("parallel: 'first' with every task failing is a ParallelError listing each task's error", "[parallel]") {
  Harness h;
  FlowHost host;
  host.command = command("parallel.run", "p", nullptr);
  host.callbacks["task:a"] = [](const json&) -> json { throw std::runtime_error("a broke"); };
  host.callbacks["task:b"] = [](const json&) -> json { throw std::runtime_error("b broke"); };
  json reply = run_flow(h, host, parallel_spec({{"tasks", tasks({"a", "b"})}, {"aggregation", "first"}}));
  REQUIRE(reply["ok"] == false);
  CHECK(reply["error"]["kind"] == "parallel");
  CHECK(reply["error"]["code"] == "PARALLEL_MIN_SUCCESS");
  CHECK(reply["error"]["errors"]["a"]["message"] == "a broke");
  CHECK(reply["error"]["errors"]["b"]["message"] == "b broke");
  CHECK(mentions(message_of(reply), "a: a broke; b: b broke"));
}

TEST_CASE("parallel: 'majority' is decided as soon as more than half agree (deep equality); the rest is cancelled", "[parallel]") {
  Harness h;
  FlowHost host;
  host.command = command("parallel.run", "p", nullptr);
  host.silent = {"task:e"};
  host.callbacks["task:a"] = [](const json&) { return json{{"answer", 42}, {"unit", "m"}}; };
  host.callbacks["task:b"] = [](const json&) { return json{{"unit", "m"}, {"answer", 42}}; };  // same object, other key order
  host.callbacks["task:c"] = [](const json&) { return json{{"answer", 41}}; };
  host.callbacks["task:d"] = [](const json&) { return json{{"answer", 42}, {"unit", "m"}}; };
  json reply = run_flow(h, host, parallel_spec({{"tasks", tasks({"a", "b", "c", "d", "e"})}, {"aggregation", "majority"}}));
  REQUIRE(reply["ok"] == true);
  CHECK(reply["value"] == json{{"answer", 42}, {"unit", "m"}});
  CHECK(cancelled_callbacks(h, "task:e") == 1);
}

TEST_CASE("parallel: 'majority' with no majority fails naming the aggregation; 'consensus' uses the compare callback", "[parallel]") {
  {
    Harness h;
    FlowHost host;
    host.command = command("parallel.run", "p", nullptr);
    host.callbacks["task:a"] = [](const json&) { return json("x"); };
    host.callbacks["task:b"] = [](const json&) { return json("y"); };
    host.callbacks["task:c"] = [](const json&) { return json("z"); };
    json reply = run_flow(h, host, parallel_spec({{"tasks", tasks({"a", "b", "c"})}, {"aggregation", "majority"}}));
    REQUIRE(reply["ok"] == false);
    CHECK(reply["error"]["code"] == "PARALLEL_NO_MAJORITY");
  }
  {
    Harness h;
    FlowHost host;
    host.command = command("parallel.run", "p", nullptr);
    host.callbacks["task:a"] = [](const json&) { return json("Paris"); };
    host.callbacks["task:b"] = [](const json&) { return json("paris."); };
    host.callbacks["task:c"] = [](const json&) -> json { throw std::runtime_error("model down"); };
    int compared = 0;
    host.with_args["same"] = [&](const json& args) {
      ++compared;
      auto norm = [](std::string s) {
        std::string out;
        for (char ch : s)
          if (std::isalpha(static_cast<unsigned char>(ch))) out += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        return out;
      };
      return json(norm(args[0].get<std::string>()) == norm(args[1].get<std::string>()));
    };
    json reply =
        run_flow(h, host, parallel_spec({{"tasks", tasks({"a", "b", "c"})}, {"aggregation", "consensus"}, {"minSuccess", 2}, {"compare", "same"}}));
    REQUIRE(reply["ok"] == true);
    CHECK(compared == 1);
    CHECK(reply["value"] == "Paris");
  }
}

TEST_CASE("parallel: a judge model decides free text that does not agree, with one call through the run's model chain", "[parallel][judge]") {
  Harness h;
  FlowHost host;
  host.command = command("parallel.run", "p", nullptr);
  host.callbacks["task:a"] = [](const json&) { return json("Paris"); };
  host.callbacks["task:b"] = [](const json&) { return json("It is Paris, of course."); };
  host.callbacks["task:c"] = [](const json&) { return json("Lyon"); };
  std::vector<json> judged;
  host.judge = [&](const json& op) {
    judged.push_back(op);
    return std::string("```json\n{\"winner\": \"b\"}\n```");
  };
  json reply = run_flow(h, host,
                        parallel_spec({{"tasks", tasks({"a", "b", "c"})},
                                       {"aggregation", "majority"},
                                       {"judge", {{"model", "m:judge"}, {"instructions", "Answers naming the same city agree."}}}}));
  REQUIRE(reply["ok"] == true);
  CHECK(reply["value"] == "It is Paris, of course.");
  REQUIRE(judged.size() == 1);  // one call, after every task finished
  const json& op = judged[0];
  CHECK(op["model"] == "m:judge");
  CHECK(op["purpose"] == "judge");
  CHECK(mentions(op["system"].get<std::string>(), "more than half of all 3 attempts"));
  CHECK(mentions(op["system"].get<std::string>(), "Answers naming the same city agree."));
  const std::string asked = op["messages"][0]["content"].get<std::string>();
  CHECK(mentions(asked, "\"a\": \"Paris\""));
  CHECK(mentions(asked, "\"c\": \"Lyon\""));
  CHECK(op["responseFormat"]["schema"]["properties"]["winner"]["enum"] == json::array({"a", "b", "c", nullptr}));
  auto event = run_events(h, "parallel-judge").at(0);
  CHECK(event["parallel"] == "p");
  CHECK(event["winner"] == "b");
  CHECK(event["candidates"] == json::array({"a", "b", "c"}));
  CHECK(event["usage"]["totalTokens"] == 30);
  CHECK(run_events(h, "parallel-finish").at(0)["winner"] == "b");
}

TEST_CASE("parallel: a judge model's garbage, unknown task or 'no winner' is a ParallelError naming the group", "[parallel][judge]") {
  struct Case {
    std::string answer;
    std::string code;
    std::string says;
  };
  for (const Case& c : {Case{"I think b is right", "PARALLEL_JUDGE_INVALID", "expected {\"winner\": one of a, b, or null}"},
                        Case{"{\"winner\": \"bb\"}", "PARALLEL_JUDGE_INVALID", "named \"bb\", which is not a candidate (did you mean \"b\"?)"},
                        Case{"{\"winner\": null}", "PARALLEL_NO_CONSENSUS", "found no answer that every task supports"}}) {
    Harness h;
    FlowHost host;
    host.command = command("parallel.run", "p", nullptr);
    host.callbacks["task:a"] = [](const json&) { return json("yes"); };
    host.callbacks["task:b"] = [](const json&) { return json("no"); };
    host.judge = [&](const json&) { return c.answer; };
    json reply = run_flow(h, host, parallel_spec({{"tasks", tasks({"a", "b"})}, {"aggregation", "consensus"}, {"judge", json::object()}}));
    INFO(reply.dump());
    REQUIRE(reply["ok"] == false);
    CHECK(reply["error"]["kind"] == "parallel");
    CHECK(reply["error"]["code"] == c.code);
    CHECK(reply["error"]["parallel"] == "p");
    CHECK(mentions(message_of(reply), "parallel \"p\": "));
    CHECK(mentions(message_of(reply), c.says));
    // Without its own model the judge is the run's model.
    CHECK(run_events(h, "parallel-judge").at(0)["model"] == h.host.started.at(0)["model"]);
  }
}

TEST_CASE("parallel: the group's timeout cancels the stragglers; minSuccess decides whether that is a failure", "[parallel]") {
  for (int min_success : {2, 3}) {
    Harness h;
    FlowHost host;
    host.command = command("parallel.run", "p", nullptr);
    host.silent = {"task:slow"};
    host.callbacks["task:a"] = [](const json&) { return json(1); };
    host.callbacks["task:b"] = [](const json&) { return json(2); };
    json reply = run_flow(h, host, parallel_spec({{"tasks", tasks({"a", "b", "slow"})}, {"timeout", 3000}, {"minSuccess", min_success}}));
    CHECK(h.clock == Approx(3000));
    CHECK(cancelled_callbacks(h, "task:slow") == 1);
    if (min_success == 2) {
      REQUIRE(reply["ok"] == true);
      CHECK(reply["value"] == json{{"a", 1}, {"b", 2}});
    } else {
      REQUIRE(reply["ok"] == false);
      CHECK(reply["error"]["code"] == "PARALLEL_MIN_SUCCESS");
      CHECK(reply["error"]["errors"]["slow"]["kind"] == "timeout");
      CHECK(mentions(message_of(reply), "2 of 3 tasks succeeded, minSuccess is 3"));
    }
  }
}

// ------------------------------------------------------------------------------------- batchers

TEST_CASE("batcher: items are grouped up to maxSize, the rest after maxWait on the engine clock; each caller gets its result", "[batcher]") {
  Harness h;
  FlowHost host;
  host.command = command("batch.add", "b", 0, "i0");
  for (int i = 1; i < 5; ++i) host.more_commands.push_back(command("batch.add", "b", i, "i" + std::to_string(i)));
  std::vector<std::size_t> sizes;
  std::vector<double> at;
  host.callbacks["process"] = [&](const json& items) {
    sizes.push_back(items.size());
    at.push_back(h.clock);
    json out = json::array();
    for (const auto& item : items) out.push_back(item.get<int>() * 10);
    return out;
  };
  json definition_list = definitions({definition("batcher", "b", {{"maxSize", 2}, {"maxWait", 50}, {"processor", "process"}})});
  json reply = run_flow(h, host, spec_with(definition_list));
  REQUIRE(reply["ok"] == true);
  CHECK(sizes == std::vector<std::size_t>{2, 2, 1});
  CHECK(at == std::vector<double>{0, 0, 50});  // the last item waited for maxWait
  for (int i = 0; i < 5; ++i) {
    auto r = h.reply("i" + std::to_string(i));
    REQUIRE(r);
    CHECK((*r)["value"] == i * 10);
  }
  auto flushes = run_events(h, "batch-flush");
  REQUIRE(flushes.size() == 3);
  CHECK(flushes[0]["reason"] == "size");
  CHECK(flushes[2]["reason"] == "wait");
}

TEST_CASE("batcher: a processor that throws or answers the wrong number of results fails every caller of its batch", "[batcher]") {
  for (bool throws : {true, false}) {
    Harness h;
    FlowHost host;
    host.command = command("batch.add", "b", "x", "i0");
    host.more_commands.push_back(command("batch.add", "b", "y", "i1"));
    host.callbacks["process"] = [&](const json&) -> json {
      if (throws) throw std::runtime_error("embedding service down");
      return json::array({"only one"});
    };
    json reply = run_flow(h, host, spec_with(definitions({definition("batcher", "b", {{"maxSize", 10}, {"maxWait", 5}, {"processor", "process"}})})));
    for (const char* id : {"i0", "i1"}) {
      auto r = h.reply(std::string(id));
      REQUIRE(r);
      REQUIRE((*r)["ok"] == false);
      CHECK((*r)["error"]["kind"] == "batch");
      CHECK((*r)["error"]["batcher"] == "b");
      CHECK((*r)["error"]["code"] == (throws ? "BATCH_FAILED" : "BATCH_RESULT_COUNT"));
      CHECK(mentions(message_of(*r), throws ? "the processor failed: embedding service down" : "returned 1 results for a batch of 2 items"));
    }
    CHECK(reply["ok"] == false);
  }
}

// ------------------------------------------------------------------------------------ bad input

TEST_CASE("flow definitions: bad input is refused naming the definition and the field", "[pipeline][parallel][batcher]") {
  auto refused = [](json definition_list) {
    Harness h;
    Script script;
    json reply = run_prompt(h, script, spec_with(std::move(definition_list)));
    REQUIRE(reply["ok"] == false);
    return message_of(reply);
  };
  auto stage = [](const std::string& name) { return json{{"stage", name}, {"fn", "f"}}; };
  CHECK(mentions(refused(definitions({definition("pipeline", "doc", {{"stages", {stage("a"), stage("a")}}})})),
                 "stage \"a\" is already used by stages[0]"));
  CHECK(mentions(refused(definitions({definition("pipeline", "doc", {{"stages", json::array()}})})), "at least one stage"));
  CHECK(mentions(refused(definitions({definition("pipeline", "doc", {{"stages", {{{"stage", "a"}, {"fn", "f"}, {"timout", 5}}}}})})), "\"timout\""));
  CHECK(mentions(refused(definitions({definition("pipeline", "doc", {{"stages", {{{"stage", "a"}, {"fn", "f"}, {"retry", "nope"}}}}})})),
                 "unknown retry policy \"nope\""));
  CHECK(mentions(refused(definitions({definition("parallel", "p", {{"tasks", tasks({"a", "a"})}})})), "task \"a\" is defined twice"));
  CHECK(mentions(refused(definitions({definition("parallel", "p", {{"tasks", tasks({"a"})}, {"aggregation", "majorty"}})})), "majority"));
  CHECK(mentions(refused(definitions({definition("parallel", "p", {{"tasks", tasks({"a", "b"})}, {"minSuccess", 3}})})),
                 "\"minSuccess\" is 3 but there are only 2 tasks"));
  CHECK(mentions(
      refused(definitions({definition("parallel", "p", {{"tasks", tasks({"a", "b"})}, {"aggregation", "majority"}, {"judge", {{"modle", "x"}}}})})),
      "did you mean \"model\""));
  CHECK(mentions(refused(definitions({definition("parallel", "p", {{"tasks", tasks({"a"})}, {"aggregation", "first"}, {"minSuccess", 1}})})),
                 "does not apply to aggregation 'first'"));
  CHECK(mentions(refused(definitions({definition("batcher", "b", {{"maxSize", 0}, {"processor", "f"}})})), "maxSize"));
  CHECK(mentions(refused(definitions({definition("batcher", "b", {{"maxSize", 5}})})), "processor"));
}

TEST_CASE("flow commands: an unknown definition is named with a did-you-mean", "[pipeline][parallel][batcher]") {
  Harness h;
  FlowHost host;
  host.command = command("pipeline.run", "docs", nullptr);
  host.more_commands = {command("parallel.run", "pp", nullptr, "p2"), command("batch.add", "bb", nullptr, "b2")};
  json list = definitions({definition("pipeline", "doc", {{"stages", json::array({json{{"stage", "a"}, {"fn", "f"}}})}}),
                           definition("parallel", "p", {{"tasks", tasks({"a"})}}), definition("batcher", "b", {{"processor", "f"}})});
  json reply = run_flow(h, host, spec_with(list));
  REQUIRE(reply["ok"] == false);
  CHECK(mentions(message_of(reply), "unknown pipeline \"docs\""));
  CHECK(mentions(message_of(*h.reply("p2")), "unknown parallel group \"pp\""));
  CHECK(mentions(message_of(*h.reply("b2")), "unknown batcher \"bb\""));
}

// The engine's half of tracing (src/observe/tracer.*, docs/observability.md): with a `tracing`
// definition the engine announces spans as `span-start` / `span-end` run events — a run, its
// steps, each model attempt, each tool call, retry waits — with parents, times on the engine clock
// and GenAI attributes; sampling 0 makes none; every span that starts ends.
#include <catch2/catch.hpp>

#include <map>

#include "prompt_script.hpp"

using namespace lmthing;
using namespace lmthing::testing;

namespace {

struct Span {
  json start;
  json end;
};

// The run tree's spans by id, from every run's events.
std::map<std::uint64_t, Span> spans_of(const Harness& h) {
  std::map<std::uint64_t, Span> spans;
  for (const auto& e : h.host.events_of_type("run.event")) {
    const json& event = e["event"];
    if (event["type"] == "span-start") spans[event["span"].get<std::uint64_t>()].start = event;
    if (event["type"] == "span-end") spans[event["span"].get<std::uint64_t>()].end = event;
  }
  return spans;
}

const Span& named(const std::map<std::uint64_t, Span>& spans, const std::string& name) {
  for (const auto& [id, span] : spans)
    if (span.start["name"] == name) return span;
  FAIL("no span named " << name);
  throw std::logic_error("unreachable");
}

json rate_limited_reply() { return json{{"error", {{"kind", "provider"}, {"message", "429 slow down"}, {"retryable", true}}}}; }

}  // namespace

TEST_CASE("a traced run: spans for the run, steps, model attempts, a retry and a failing tool, all closed", "[observe_tracing]") {
  Harness h;
  Script script;
  script.callbacks["tool:broken"] = [](const json&) -> json { throw std::runtime_error("disk full"); };
  script.model_responses = {rate_limited_reply(), response({call_part("c1", "broken", json::object())}, "tool-calls"), response({text_part("done")})};
  json spec = prompt_spec({{"tools", json::array({tool_named("broken")})},
                           {"options", {{"maxRetries", 2}}},
                           {"definitions", definitions({definition("tracing", "t", json::object())})}});
  json reply = run_prompt(h, script, spec);
  REQUIRE(reply["ok"] == true);
  auto spans = spans_of(h);
  for (const auto& [id, span] : spans) {
    INFO(span.start.dump());
    REQUIRE(span.end.is_object());  // every span ends
    CHECK(span.end["endMs"].get<double>() >= span.start["startMs"].get<double>());
    if (!span.start["parent"].is_null()) CHECK(spans.count(span.start["parent"].get<std::uint64_t>()) == 1);
  }
  const Span& run = named(spans, "invoke_agent root");
  CHECK(run.start["parent"].is_null());
  CHECK(run.start["attributes"]["gen_ai.operation.name"] == "invoke_agent");
  CHECK(run.end["attributes"]["gen_ai.usage.input_tokens"] == 20);
  const Span& step0 = named(spans, "step 0");
  CHECK(step0.start["parent"] == run.start["span"]);
  int chats = 0, failed = 0;
  for (const auto& [id, span] : spans) {
    if (span.start["kind"] != "model") continue;
    ++chats;
    CHECK(span.start["attributes"]["gen_ai.operation.name"] == "chat");
    if (span.end["status"] == "error") {
      ++failed;
      CHECK(span.start["parent"] == step0.start["span"]);
    }
  }
  CHECK(chats == 3);
  CHECK(failed == 1);
  const Span& tool = named(spans, "execute_tool broken");
  CHECK(tool.start["parent"] == step0.start["span"]);
  CHECK(tool.start["attributes"]["gen_ai.tool.name"] == "broken");
  CHECK(tool.end["status"] == "error");
  CHECK(tool.end["error"] == "disk full");
  CHECK_FALSE(tool.start["attributes"].contains("gen_ai.tool.call.arguments"));  // contents only when asked
  const Span& retry = named(spans, "retry m");
  CHECK(retry.start["parent"] == step0.start["span"]);
  CHECK(retry.end["endMs"].get<double>() - retry.start["startMs"].get<double>() == retry.start["attributes"]["lmthing.retry.delay_ms"].get<double>());
}

TEST_CASE("sampling 0 makes no spans; recordInputs puts tool arguments on the span; bad options are refused", "[observe_tracing]") {
  {
    Harness h;
    Script script;
    script.model_responses = {response({text_part("x")})};
    json reply = run_prompt(h, script, prompt_spec({{"definitions", definitions({definition("tracing", "t", {{"sampling", 0}})})}}));
    REQUIRE(reply["ok"] == true);
    CHECK(spans_of(h).empty());
  }
  {
    Harness h;
    Script script;
    script.callbacks["tool:echo"] = [](const json& args) -> json { return args; };
    script.model_responses = {response({call_part("c1", "echo", json{{"q", "wasm"}})}, "tool-calls"), response({text_part("done")})};
    json reply =
        run_prompt(h, script,
                   prompt_spec({{"tools", json::array({tool_named("echo")})},
                                {"definitions", definitions({definition("tracing", "t", {{"recordInputs", true}, {"recordOutputs", true}})})}}));
    REQUIRE(reply["ok"] == true);
    auto spans = spans_of(h);
    const Span& tool = named(spans, "execute_tool echo");
    CHECK(tool.start["attributes"]["gen_ai.tool.call.arguments"] == json{{"q", "wasm"}});
    CHECK(tool.end["attributes"].contains("gen_ai.tool.call.result"));
  }
  {
    Harness h;
    Script script;
    json reply = run_prompt(h, script, prompt_spec({{"definitions", definitions({definition("tracing", "t", {{"sampleRate", 1}})})}}));
    REQUIRE(reply["ok"] == false);
    CHECK_THAT(reply["error"]["message"].get<std::string>(), Catch::Contains("sampleRate"));
  }
}

TEST_CASE("a tool's fallback span is part of its tool call", "[observe_tracing]") {
  Harness h;
  Script script;
  script.callbacks["tool:weather"] = [](const json&) -> json { throw std::runtime_error("upstream down"); };
  script.model_responses = {response({call_part("c1", "weather", json::object())}, "tool-calls"), response({text_part("done")})};
  json weather = tool_named("weather");
  weather["options"] = {{"fallback", "unknown"}};
  json spec = prompt_spec({{"tools", json::array({weather})},
                           {"definitions", definitions({definition("tracing", "t", json::object()),
                                                        definition("fallback", "unknown", {{"strategy", "default"}, {"value", "n/a"}})})}});
  json reply = run_prompt(h, script, spec);
  REQUIRE(reply["ok"] == true);
  auto spans = spans_of(h);
  const Span& tool = named(spans, "execute_tool weather");
  const Span& fallback = named(spans, "fallback unknown");
  CHECK(fallback.start["parent"] == tool.start["span"]);
  CHECK(fallback.start["attributes"]["lmthing.fallback.strategy"] == "default");
  CHECK(tool.end["status"] == "ok");  // the fallback answered the call
}

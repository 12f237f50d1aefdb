// Lifecycle events of the observability layer (docs/observability.md): run-start / run-finish,
// model-call per attempt, `error` events with a severity, token thresholds and custom events, for a
// run with a tool error, a retried model call and a sub-agent.
#include <catch2/catch.hpp>

#include "prompt_script.hpp"

using namespace lmthing;
using namespace lmthing::testing;

namespace {

// Every run event of run `run` as "type" strings, in emit order.
std::vector<std::string> event_types(const Harness& h, RunId run) {
  std::vector<std::string> out;
  for (const auto& e : h.host.events_of_type("run.event"))
    if (e["run"] == run) out.push_back(e["event"]["type"].get<std::string>());
  return out;
}

std::vector<json> events_of(const Harness& h, RunId run, const std::string& type) {
  std::vector<json> out;
  for (const auto& e : h.host.events_of_type("run.event"))
    if (e["run"] == run && e["event"]["type"] == type) out.push_back(e["event"]);
  return out;
}

json rate_limited() { return json{{"error", {{"kind", "provider"}, {"message", "429 slow down"}, {"retryable", true}}}}; }

}  // namespace

TEST_CASE("a run with a tool error and a retried model call reports every lifecycle event in order", "[observe_events]") {
  Harness h;
  Script script;
  script.callbacks["tool:broken"] = [](const json&) -> json { throw std::runtime_error("disk full"); };
  script.model_responses = {rate_limited(), response({call_part("c1", "broken", json::object())}, "tool-calls"), response({text_part("done")})};
  json spec = prompt_spec(
      {{"tools", json::array({tool_named("broken")})}, {"options", {{"maxRetries", 2}}}, {"observe", {{"tokenThresholds", json::array({50})}}}});
  json reply = run_prompt(h, script, spec);
  REQUIRE(reply["ok"] == true);

  const std::vector<std::string> expected = {
      "run-start",       "step-start",
      "model-call",  // attempt 1: 429
      "error",       // severity warning, source model
      "retry",
      "model-call",  // attempt 2: tool call
      "tool-call",       "tool-error",
      "error",  // severity error, source tool
      "step-finish",     "step-start", "model-call",
      "token-threshold",  // 60 tokens ≥ 50
      "step-finish",     "run-finish",
  };
  CHECK(event_types(h, 1) == expected);

  auto calls = events_of(h, 1, "model-call");
  REQUIRE(calls.size() == 3);
  CHECK(calls[0]["ok"] == false);
  CHECK(calls[0]["attempt"] == 1);
  CHECK(calls[1]["ok"] == true);
  CHECK(calls[1]["attempt"] == 2);
  CHECK(calls[2]["attempt"] == 1);  // a new step starts counting again
  CHECK(calls[1]["usage"]["inputTokens"] == 10);

  auto errors = events_of(h, 1, "error");
  REQUIRE(errors.size() == 2);
  CHECK(errors[0]["severity"] == "warning");
  CHECK(errors[0]["source"] == "model");
  CHECK(errors[1]["severity"] == "error");
  CHECK(errors[1]["source"] == "tool");
  CHECK(errors[1]["context"]["toolName"] == "broken");
  CHECK(errors[1]["error"]["message"] == "disk full");

  auto threshold = events_of(h, 1, "token-threshold");
  REQUIRE(threshold.size() == 1);
  CHECK(threshold[0]["threshold"] == 50);
  CHECK(threshold[0]["usage"] == 60);
  CHECK(threshold[0]["source"] == "config");

  auto finish = events_of(h, 1, "run-finish");
  REQUIRE(finish.size() == 1);
  CHECK(finish[0]["ok"] == true);
  CHECK(finish[0]["steps"] == 2);
  CHECK(finish[0]["path"] == json::array({"root"}));
}

TEST_CASE("a sub-agent's lifecycle events carry its path and sit inside the parent's", "[observe_events]") {
  Harness h;
  h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", prompt_spec()}});
  h.post(json{{"type", "run.start"}, {"id", 2}, {"spec", prompt_spec({{"parentRun", 1}, {"path", json::array({"root", "helper"})}})}});
  int answered = 0;
  REQUIRE(h.run([&](Harness& hh) {
    // Answer the sub-agent's model call first, the root's afterwards.
    std::vector<json> pending = hh.host.started;
    hh.host.started.clear();
    std::stable_sort(pending.begin(), pending.end(), [](const json& a, const json& b) { return a["run"] > b["run"]; });
    for (const auto& op : pending)
      if (op["op"] == "model.generate") {
        hh.post(Harness::done_ok(op["id"].get<OpId>(), response({text_part("x")})));
        ++answered;
      }
  }));
  REQUIRE(answered == 2);
  CHECK((*h.reply(1))["ok"] == true);
  CHECK((*h.reply(2))["ok"] == true);
  auto child_start = events_of(h, 2, "run-start");
  auto child_finish = events_of(h, 2, "run-finish");
  REQUIRE(child_start.size() == 1);
  REQUIRE(child_finish.size() == 1);
  CHECK(child_start[0]["path"] == json::array({"root", "helper"}));
  CHECK(child_finish[0]["path"] == json::array({"root", "helper"}));
  CHECK(events_of(h, 1, "run-start")[0]["path"] == json::array({"root"}));
}

TEST_CASE("a failing run ends with a critical error event and a failed run-finish", "[observe_events]") {
  Harness h;
  Script script;
  script.model_responses = {json{{"error", {{"kind", "provider"}, {"message", "401 bad key"}, {"retryable", false}}}}};
  json reply = run_prompt(h, script, prompt_spec({{"options", {{"maxRetries", 0}}}}));
  REQUIRE(reply["ok"] == false);
  auto errors = events_of(h, 1, "error");
  REQUIRE(errors.size() == 2);
  CHECK(errors[0]["severity"] == "warning");   // the attempt
  CHECK(errors[1]["severity"] == "critical");  // the run
  CHECK(errors[1]["source"] == "run");
  auto finish = events_of(h, 1, "run-finish");
  REQUIRE(finish.size() == 1);
  CHECK(finish[0]["ok"] == false);
  CHECK(finish[0]["error"]["message"] == "401 bad key");
  CHECK(event_types(h, 1).back() == "run-finish");
}

TEST_CASE("custom events: emitted before the run is live arrive after run-start, event.emit while live", "[observe_events]") {
  Harness h;
  Script script;
  script.callbacks["tool:note"] = [&](const json&) -> json {
    h.post(json{{"type", "event.emit"}, {"id", 50}, {"run", 1}, {"name", "noted"}, {"value", {{"n", 2}}}});
    return "ok";
  };
  script.model_responses = {response({call_part("c1", "note", json::object())}, "tool-calls"), response({text_part("done")})};
  json spec =
      prompt_spec({{"tools", json::array({tool_named("note")})}, {"observe", {{"emits", json::array({json{{"name", "setup"}, {"value", 1}}})}}}});
  json reply = run_prompt(h, script, spec);
  REQUIRE(reply["ok"] == true);
  auto emitted = events_of(h, 1, "emitted");
  REQUIRE(emitted.size() == 2);
  CHECK(emitted[0]["name"] == "setup");
  CHECK(emitted[0]["value"] == 1);
  CHECK(emitted[1]["name"] == "noted");
  CHECK(emitted[1]["value"]["n"] == 2);
  CHECK(event_types(h, 1)[0] == "run-start");
  CHECK(event_types(h, 1)[1] == "emitted");
  CHECK((*h.reply(50))["ok"] == true);
}

TEST_CASE("the observe field of a run spec is checked strictly", "[observe_events]") {
  auto refused = [](json observe) {
    Harness h;
    Script script;
    json reply = run_prompt(h, script, prompt_spec({{"observe", std::move(observe)}}));
    REQUIRE(reply["ok"] == false);
    return reply["error"]["message"].get<std::string>();
  };
  CHECK_THAT(refused({{"tokenThreshold", json::array({5})}}), Catch::Contains("tokenThresholds"));
  CHECK_THAT(refused({{"tokenThresholds", json::array({-1})}}), Catch::Contains("token counts > 0"));
  CHECK_THAT(refused({{"emits", json::array({1})}}), Catch::Contains("{name, value}"));
}

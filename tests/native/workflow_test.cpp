// defWorkflow in the engine (docs/orchestration.md): step order, condition skips, onSuccess /
// onError routing, the loop bound, retries through the retry interceptor, per-step timeouts,
// maxDuration, a dependsOn DAG on a random-latency host, `workflow.tool` through a tool's chain,
// and the definition errors that name the workflow and the field.
#include <catch2/catch.hpp>

#include <set>

#include "flow_host.hpp"

using namespace lmthing;
using namespace lmthing::testing;

namespace {

json step(const std::string& id, json extra = json::object()) {
  json s{{"id", id}, {"action", "act:" + id}};
  s.update(extra);
  return s;
}

json workflow_spec(json config) { return prompt_spec({{"definitions", definitions({definition("workflow", "wf", std::move(config))})}}); }

json run_command(json input = json::object()) {
  return json{{"type", "workflow.run"}, {"id", "w"}, {"run", 1}, {"name", "wf"}, {"input", std::move(input)}};
}

// Runs `spec` with `host`; returns the workflow command's reply.
json run_workflow_spec(Harness& h, FlowHost& host, json spec) {
  h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", std::move(spec)}});
  REQUIRE(h.run(std::ref(host)));
  auto run = h.reply(1);
  REQUIRE(run);
  CHECK((*run)["ok"] == true);
  auto reply = h.reply("w");
  REQUIRE(reply);
  return *reply;
}

json value(json v) { return json{{"value", std::move(v)}}; }

std::vector<std::string> statuses(const json& result) {
  std::vector<std::string> out;
  for (const auto& s : result["steps"]) out.push_back(s["id"].get<std::string>() + ":" + s["status"].get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("workflow: steps run in order, a false condition skips, onSuccess routes, results and state reach the next steps", "[workflow]") {
  Harness h;
  FlowHost host;
  host.command = run_command({{"files", {"a.ts"}}});
  host.callbacks["act:analyze"] = [](const json& w) {
    CHECK(w["start"]["input"]["files"][0] == "a.ts");
    CHECK(w["start"]["state"]["files"][0] == "a.ts");  // the state starts as a copy of the input
    return json{{"value", {{"score", 5}}}, {"state", {{"files", {"a.ts"}}, {"seen", 1}}}};
  };
  host.callbacks["when:check"] = [](const json& w) {
    REQUIRE(w["results"].size() == 1);  // analyze's result, sent once
    CHECK(w["results"][0][0] == "analyze");
    return json(w["results"][0][1]["score"].get<int>() < 7);
  };
  host.callbacks["act:check"] = [](const json&) { return value("suggestions"); };
  host.callbacks["when:skipMe"] = [](const json& w) {
    CHECK(w["results"] == json::array({json::array({"check", "suggestions"})}));
    return json(false);
  };
  host.callbacks["act:skipMe"] = [](const json&) -> json { throw std::runtime_error("a skipped step must not run"); };
  host.callbacks["act:apply"] = [](const json& w) {
    CHECK(w["results"].empty());  // check's result went to skipMe's condition, the first callback after it
    return value("applied");
  };
  host.callbacks["act:never"] = [](const json&) -> json { throw std::runtime_error("routed past"); };
  json config{{"steps",
               {step("analyze"), step("check", {{"condition", "when:check"}, {"onSuccess", "skipMe"}}), step("never"),
                step("skipMe", {{"condition", "when:skipMe"}, {"onSuccess", "never"}}), step("apply")}}};
  // skipMe is skipped, so its onSuccess is not taken: apply comes next; `never` was routed around.
  config["steps"][4]["onSuccess"] = nullptr;
  config["steps"][4].erase("onSuccess");
  json reply = run_workflow_spec(h, host, workflow_spec(config));
  REQUIRE(reply["ok"] == true);
  const json& result = reply["value"];
  CHECK(statuses(result) == std::vector<std::string>{"analyze:success", "check:success", "skipMe:skipped", "apply:success"});
  CHECK(result["output"] == "applied");
  CHECK(result["results"]["analyze"]["score"] == 5);
  CHECK(result["state"]["seen"] == 1);
  CHECK(std::find(host.calls.begin(), host.calls.end(), "act:never") == host.calls.end());
  auto finished = run_events(h, "workflow-step-finish");
  REQUIRE(finished.size() == 4);
  CHECK(finished[2]["status"] == "skipped");
  CHECK(run_events(h, "workflow-start").size() == 1);
  CHECK(run_events(h, "workflow-finish").at(0)["status"] == "success");
}

TEST_CASE("workflow: a failed step routes to its onError handler, which gets the error; without one the workflow fails naming the step",
          "[workflow]") {
  {
    Harness h;
    FlowHost host;
    host.command = run_command();
    host.callbacks["act:risky"] = [](const json&) -> json { throw std::runtime_error("disk full"); };
    host.callbacks["act:report"] = [](const json& w) {
      CHECK(w["error"]["step"] == "risky");
      CHECK(w["error"]["message"] == "disk full");
      return value("reported");
    };
    json reply = run_workflow_spec(h, host, workflow_spec({{"steps", {step("risky", {{"onError", "report"}}), step("report")}}}));
    REQUIRE(reply["ok"] == true);
    CHECK(statuses(reply["value"]) == std::vector<std::string>{"risky:error", "report:success"});
    CHECK(reply["value"]["output"] == "reported");
  }
  {
    Harness h;
    FlowHost host;
    host.command = run_command();
    host.callbacks["act:first"] = [](const json&) { return value(1); };
    host.callbacks["act:risky"] = [](const json&) -> json { throw std::runtime_error("disk full"); };
    json reply = run_workflow_spec(h, host, workflow_spec({{"steps", {step("first"), step("risky"), step("after")}}}));
    REQUIRE(reply["ok"] == false);
    CHECK(reply["error"]["kind"] == "workflow");
    CHECK(reply["error"]["code"] == "WORKFLOW_STEP_FAILED");
    CHECK(reply["error"]["step"] == "risky");
    CHECK(reply["error"]["cause"]["message"] == "disk full");
    CHECK(reply["error"]["message"].get<std::string>().find("workflow \"wf\": step \"risky\" failed: disk full") != std::string::npos);
    CHECK(run_events(h, "workflow-finish").at(0)["status"] == "error");
  }
}

TEST_CASE("workflow: routing back is a loop, bounded by maxIterations with a clear error", "[workflow]") {
  Harness h;
  FlowHost host;
  host.command = run_command();
  int refined = 0;
  host.callbacks["act:refine"] = [&](const json&) { return value(++refined); };
  json reply = run_workflow_spec(h, host, workflow_spec({{"steps", {step("refine", {{"onSuccess", "refine"}})}}, {"maxIterations", 3}}));
  REQUIRE(reply["ok"] == false);
  CHECK(refined == 3);
  CHECK(reply["error"]["code"] == "WORKFLOW_LOOP_LIMIT");
  CHECK(reply["error"]["message"].get<std::string>().find("more than 3 times (maxIterations)") != std::string::npos);
}

TEST_CASE("workflow: a loop that finds its way out ends normally", "[workflow]") {
  Harness h;
  FlowHost host;
  host.command = run_command();
  int drafts = 0;
  host.callbacks["act:draft"] = [&](const json&) { return value(++drafts); };
  host.callbacks["when:again"] = [&](const json&) { return json(drafts < 3); };
  host.callbacks["act:again"] = [](const json&) { return value("again"); };
  host.callbacks["act:done"] = [](const json&) { return value("done"); };
  // draft → again (only while drafts < 3) routes back to draft; once skipped, done follows.
  json reply = run_workflow_spec(
      h, host, workflow_spec({{"steps", {step("draft"), step("again", {{"condition", "when:again"}, {"onSuccess", "draft"}}), step("done")}}}));
  REQUIRE(reply["ok"] == true);
  CHECK(drafts == 3);
  CHECK(reply["value"]["output"] == "done");
}

TEST_CASE("workflow: per-step retries go through the retry interceptor", "[workflow]") {
  Harness h;
  FlowHost host;
  host.command = run_command();
  int attempts = 0;
  host.callbacks["act:flaky"] = [&](const json& w) -> json {
    CHECK(w["attempt"] == attempts + 1);
    if (++attempts < 3) throw std::runtime_error("try again");
    return value("finally");
  };
  json reply = run_workflow_spec(h, host, workflow_spec({{"steps", {step("flaky", {{"retries", 3}})}}}));
  REQUIRE(reply["ok"] == true);
  CHECK(attempts == 3);
  auto retries = run_events(h, "retry");
  REQUIRE(retries.size() == 2);
  CHECK(retries[0]["toolName"] == "wf.flaky");
  CHECK(retries[0]["delayMs"] == 500);
  CHECK(retries[1]["delayMs"] == 1000);
}

TEST_CASE("workflow: a step's timeout fails the attempt (and the host is told to cancel it)", "[workflow]") {
  Harness h;
  FlowHost host;
  host.command = run_command();
  host.silent = {"act:slow"};
  host.callbacks["act:handle"] = [](const json& w) {
    CHECK(w["error"]["kind"] == "timeout");
    return value("handled");
  };
  json reply = run_workflow_spec(h, host, workflow_spec({{"steps", {step("slow", {{"timeout", 2000}, {"onError", "handle"}}), step("handle")}}}));
  REQUIRE(reply["ok"] == true);
  CHECK(reply["value"]["output"] == "handled");
  CHECK(h.clock == Approx(2000));
  CHECK(h.host.cancelled.size() >= 1);  // the slow callback op
}

TEST_CASE("workflow: past maxDuration the workflow fails with a timeout, not routed to a handler", "[workflow]") {
  Harness h;
  FlowHost host;
  host.command = run_command();
  host.silent = {"act:slow"};
  host.callbacks["act:first"] = [](const json&) { return value(1); };
  host.callbacks["act:handle"] = [](const json&) -> json { throw std::runtime_error("a maxDuration timeout is not routed"); };
  json reply = run_workflow_spec(
      h, host,
      workflow_spec({{"steps", {step("first"), step("slow", {{"timeout", 60000}, {"onError", "handle"}}), step("handle")}}, {"maxDuration", 5000}}));
  REQUIRE(reply["ok"] == false);
  CHECK(reply["error"]["kind"] == "timeout");
  CHECK(reply["error"]["code"] == "WORKFLOW_TIMEOUT");
  CHECK(reply["error"]["message"].get<std::string>().find("maxDuration of 5000 ms") != std::string::npos);
  CHECK(h.clock == Approx(5000));
}

TEST_CASE("workflow: a dependsOn DAG runs independent steps concurrently and each after its dependencies", "[workflow]") {
  Harness h;
  std::map<std::string, std::vector<std::string>> deps = {{"a", {}}, {"b", {}}, {"c", {}}, {"d", {"a", "b"}}, {"e", {"c"}}, {"f", {"d", "e"}}};
  json steps = json::array();
  for (const auto& [id, on] : deps) steps.push_back(step(id, on.empty() ? json::object() : json{{"dependsOn", on}}));
  std::set<std::string> done;
  std::vector<std::string> order;
  FlowHost host;
  Random random(7);
  host.random = &random;
  host.command = run_command();
  for (const auto& [id, on] : deps) {
    host.callbacks["act:" + id] = [&, id = id, on = on](const json&) {
      for (const auto& dep : on) CHECK(done.count(dep) == 1);
      done.insert(id);
      order.push_back(id);
      return value(id);
    };
  }
  json reply = run_workflow_spec(h, host, workflow_spec({{"steps", steps}}));
  REQUIRE(reply["ok"] == true);
  CHECK(done.size() == 6);
  CHECK(host.max_pending >= 3);  // a, b and c were in flight together
  CHECK(order.back() == "f");
  CHECK(reply["value"]["output"] == "f");
}

TEST_CASE("workflow: adjacent parallel steps run concurrently as a group; the next step waits for the whole group", "[workflow]") {
  Harness h;
  FlowHost host;
  Random random(11);
  host.random = &random;
  host.command = run_command();
  std::vector<std::string> order;
  for (const char* id : {"a", "b", "c", "d", "e"})
    host.callbacks[std::string("act:") + id] = [&, id](const json&) {
      order.push_back(id);
      return value(id);
    };
  json p{{"parallel", true}};
  json reply = run_workflow_spec(h, host, workflow_spec({{"steps", {step("a"), step("b", p), step("c", p), step("d", p), step("e")}}}));
  REQUIRE(reply["ok"] == true);
  CHECK(host.max_pending == 3);  // b, c and d were in flight together
  REQUIRE(order.size() == 5);
  CHECK(order.front() == "a");
  CHECK(order.back() == "e");
  CHECK(reply["value"]["output"] == "e");
  CHECK(reply["value"]["results"]["c"] == "c");
}

TEST_CASE("workflow: a failing parallel step fails the workflow after its group has finished", "[workflow]") {
  Harness h;
  FlowHost host;
  host.command = run_command();
  host.callbacks["act:ok"] = [](const json&) { return value(1); };
  host.callbacks["act:bad"] = [](const json&) -> json { throw std::runtime_error("bad member"); };
  host.callbacks["act:after"] = [](const json&) -> json { throw std::runtime_error("must not run"); };
  json p{{"parallel", true}};
  json reply = run_workflow_spec(h, host, workflow_spec({{"steps", {step("bad", p), step("ok", p), step("after")}}}));
  REQUIRE(reply["ok"] == false);
  CHECK(reply["error"]["code"] == "WORKFLOW_STEP_FAILED");
  CHECK(reply["error"]["step"] == "bad");
  CHECK(std::find(host.calls.begin(), host.calls.end(), "act:ok") != host.calls.end());
  CHECK(std::find(host.calls.begin(), host.calls.end(), "act:after") == host.calls.end());
}

TEST_CASE("workflow: workflow.tool calls a run's tool through its chain", "[workflow]") {
  Harness h;
  FlowHost host;
  host.command = run_command();
  host.also_wait = {"t", "t2"};
  json tool{{"name", "lookup"},
            {"description", "lookup"},
            {"parameters", {{"type", "object"}}},
            {"callback", "tool:lookup"},
            {"options", {{"retry", "twice"}}}};
  int tool_calls = 0;
  host.callbacks["tool:lookup"] = [&](const json& args) -> json {
    CHECK(args["q"] == "x");
    if (++tool_calls == 1) throw std::runtime_error("flaky tool");
    return "found x";
  };
  host.callbacks["act:call"] = [&](const json&) {
    h.post(json{{"type", "workflow.tool"}, {"id", "t"}, {"run", 1}, {"name", "lookup"}, {"args", {{"q", "x"}}}});
    h.post(json{{"type", "workflow.tool"}, {"id", "t2"}, {"run", 1}, {"name", "lokup"}, {"args", json::object()}});
    return value("asked");
  };
  json spec = prompt_spec({{"tools", json::array({tool})},
                           {"definitions", definitions({definition("retry", "twice", {{"maxAttempts", 2}, {"baseDelay", 10}}),
                                                        definition("workflow", "wf", {{"steps", {step("call")}}})})}});
  json reply = run_workflow_spec(h, host, spec);
  REQUIRE(reply["ok"] == true);
  auto tool_reply = h.reply("t");
  REQUIRE(tool_reply);
  CHECK((*tool_reply)["ok"] == true);
  CHECK((*tool_reply)["value"] == "found x");
  CHECK(tool_calls == 2);  // the tool's own retry policy applied
  // The same events as a model's call, without a step: one call, one result (the retry is inside).
  auto started = run_events(h, "tool-call");
  auto ended = run_events(h, "tool-result");
  REQUIRE(started.size() == 1);
  REQUIRE(ended.size() == 1);
  CHECK(started[0]["toolName"] == "lookup");
  CHECK(started[0]["args"]["q"] == "x");
  CHECK(started[0]["stepNumber"].is_null());
  CHECK(ended[0]["toolCallId"] == started[0]["toolCallId"]);
  CHECK(ended[0]["result"] == "found x");
  CHECK(run_events(h, "tool-error").empty());
  auto unknown = h.reply("t2");
  REQUIRE(unknown);
  CHECK((*unknown)["ok"] == false);
  CHECK((*unknown)["error"]["message"].get<std::string>().find("did you mean \"lookup\"") != std::string::npos);
}

TEST_CASE("workflow: bad definitions are refused naming the workflow, the step and the field", "[workflow]") {
  auto refused = [](json config) {
    Harness h;
    Script script;
    json reply = run_prompt(h, script, workflow_spec(std::move(config)));
    REQUIRE(reply["ok"] == false);
    return reply["error"]["message"].get<std::string>();
  };
  std::string unknown = refused({{"steps", {step("a", {{"onSuccess", "revew"}}), step("review")}}});
  CHECK(unknown.find("workflow \"wf\"") != std::string::npos);
  CHECK(unknown.find("onSuccess names unknown step \"revew\"") != std::string::npos);
  CHECK(unknown.find("did you mean \"review\"") != std::string::npos);
  CHECK(refused({{"steps", {step("a"), step("a")}}}).find("id \"a\" is already used by steps[0]") != std::string::npos);
  CHECK(refused({{"steps", {step("a", {{"dependsOn", {"b"}}}), step("b", {{"dependsOn", {"a"}}})}}}).find("cycle") != std::string::npos);
  CHECK(refused({{"steps", {step("a", {{"retrys", 2}})}}}).find("\"retrys\"") != std::string::npos);
  CHECK(refused({{"steps", json::array()}}).find("at least one step") != std::string::npos);
  CHECK(refused({{"steps", {step("a", {{"retry", "nope"}})}}}).find("unknown retry policy \"nope\"") != std::string::npos);
  CHECK(refused({{"steps", {step("a", {{"parallel", true}, {"onSuccess", "b"}}), step("b")}}}).find("a parallel step cannot route (onSuccess)") !=
        std::string::npos);
  CHECK(
      refused({{"steps", {step("a", {{"parallel", true}}), step("b", {{"dependsOn", {"a"}}})}}}).find("parallel cannot be combined with dependsOn") !=
      std::string::npos);
}

TEST_CASE("workflow: workflow.run names an unknown workflow and refuses a run that is not live", "[workflow]") {
  Harness h;
  FlowHost host;
  host.command = json{{"type", "workflow.run"}, {"id", "w"}, {"run", 1}, {"name", "wff"}};
  host.callbacks["act:a"] = [](const json&) { return value(1); };
  json reply = run_workflow_spec(h, host, workflow_spec({{"steps", {step("a")}}}));
  REQUIRE(reply["ok"] == false);
  CHECK(reply["error"]["message"].get<std::string>().find("did you mean \"wf\"") != std::string::npos);
  h.post(json{{"type", "workflow.run"}, {"id", "late"}, {"run", 1}, {"name", "wf"}});
  h.run([](Harness&) {});
  REQUIRE(h.reply("late"));
  CHECK((*h.reply("late"))["error"]["message"].get<std::string>().find("no active") != std::string::npos);
}

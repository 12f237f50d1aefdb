#include <catch2/catch.hpp>
#include <functional>

#include "prompt_script.hpp"

using namespace lmthing;
using namespace lmthing::testing;

TEST_CASE("the system prompt is rendered exactly and sent first", "[agent]") {
  Harness h;
  Script script;
  script.model_responses = {response({text_part("Hi")})};
  json reply = run_prompt(
      h, script,
      prompt_spec(
          {{"systems", {{{"name", "role"}, {"value", "You are R"}}}},
           {"variables", {{{"name", "city"}, {"text", "San Francisco"}}, {{"name", "config"}, {"data", R"({"precision":1,"tags":["a","b"]})"}}}}}));
  const std::string expected =
      "<role>\nYou are R\n</role>\n<variables>\n<city>\nSan Francisco\n</city>\n<config>\nprecision: 1\ntags:\n  - a\n  - b\n</config>\n</variables>";
  REQUIRE(script.model_requests[0]["messages"][0] == json{{"role", "system"}, {"content", expected}});
  REQUIRE(script.model_requests[0]["messages"][1]["content"] == "Weather in Paris?");
  REQUIRE(run_events(h, "step-start")[0]["system"] == expected);
  REQUIRE(reply["value"]["steps"].back()["text"] == "Hi");
  REQUIRE_FALSE(reply["value"].contains("text"));  // the run's text is its last step's (docs/prompt-runs.md)
}

TEST_CASE("defData keeps the user's key order", "[agent]") {
  Harness h;
  Script script;
  run_prompt(h, script, prompt_spec({{"variables", {{{"name", "d"}, {"data", R"({"zeta":1,"alpha":{"y":2,"b":3}})"}}}}}));
  REQUIRE(script.model_requests[0]["messages"][0]["content"] == "<variables>\n<d>\nzeta: 1\nalpha:\n  y: 2\n  b: 3\n</d>\n</variables>");
}

TEST_CASE("no definitions means no system message", "[agent]") {
  Harness h;
  Script script;
  run_prompt(h, script, prompt_spec());
  REQUIRE(script.model_requests[0]["messages"].size() == 1);
  REQUIRE(script.model_requests[0]["messages"][0]["role"] == "user");
}

TEST_CASE("a tool loop: call, result appended, final answer; usage summed", "[agent]") {
  Harness h;
  Script script;
  script.model_responses = {response({text_part("Let me check. "), call_part("c1", "weather", {{"city", "Paris"}})}, "tool-calls"),
                            response({text_part("It is 21 C in Paris.")})};
  script.callbacks["tool:weather"] = [](const json& args) {
    REQUIRE(args[1]["toolCallId"] == "c1");
    return json{{"tempC", 21}, {"city", args[0]["city"]}};
  };
  json reply = run_prompt(h, script, prompt_spec({{"tools", json::array({weather_tool()})}}));
  const json& value = reply["value"];
  REQUIRE(value["steps"].back()["text"] == "It is 21 C in Paris.");
  REQUIRE(value["finishReason"] == "stop");
  REQUIRE(value["steps"].size() == 2);
  REQUIRE(value["usage"] == json{{"inputTokens", 20.0}, {"outputTokens", 40.0}, {"totalTokens", 60.0}});
  // The host has the conversation in its synced copy: the reply does not carry it again.
  std::vector<std::string> keys;
  for (const auto& [key, _] : value.items()) keys.push_back(key);
  CHECK(keys == std::vector<std::string>{"finishReason", "usage", "steps", "metricsJson"});
  // The second model call saw the assistant turn and the tool result.
  const json& messages = script.model_requests[1]["messages"];
  REQUIRE(messages.size() == 3);
  REQUIRE(messages[1]["role"] == "assistant");
  REQUIRE(
      messages[2] ==
      json{{"role", "tool"},
           {"content", {{{"type", "tool-result"}, {"toolCallId", "c1"}, {"toolName", "weather"}, {"result", {{"tempC", 21}, {"city", "Paris"}}}}}}});
  REQUIRE(script.model_requests[0]["tools"][0]["name"] == "weather");
  REQUIRE(run_events(h, "tool-result")[0]["result"]["tempC"] == 21);
}

TEST_CASE("a tool-call event carries the provider's signature of the call, and only a signed call has one", "[agent]") {
  Harness h;
  Script script;
  json signed_call = call_part("s1", "weather", {{"city", "Paris"}});
  signed_call["signature"] = "CpEDARFN";
  signed_call["signedBy"] = "google";
  script.model_responses = {response({signed_call, call_part("u1", "weather", {{"city", "Rome"}})}, "tool-calls"), response({text_part("done")})};
  script.callbacks["tool:weather"] = [](const json& args) { return args[0]["city"]; };
  run_prompt(h, script, prompt_spec({{"tools", json::array({weather_tool()})}}));
  const auto calls = run_events(h, "tool-call");
  REQUIRE(calls.size() == 2);
  CHECK(calls[0]["signature"] == "CpEDARFN");
  CHECK(calls[0]["signedBy"] == "google");
  CHECK_FALSE(calls[1].contains("signature"));
  CHECK_FALSE(calls[1].contains("signedBy"));
  // The model gets the signed call back as it made it.
  CHECK(script.model_requests[1]["messages"][1]["content"][0]["signature"] == "CpEDARFN");
}

TEST_CASE("several tool calls in one step run concurrently; results keep call order", "[agent]") {
  Harness h;
  Script script;
  script.model_responses = {
      response({call_part("a", "weather", {{"city", "A"}}), call_part("b", "weather", {{"city", "B"}}), call_part("c", "weather", {{"city", "C"}})},
               "tool-calls"),
      response({text_part("done")})};
  h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", prompt_spec({{"tools", json::array({weather_tool()})}})}});
  int wait = 0;
  std::size_t seen = 0;
  REQUIRE(h.run([&](Harness& hh) {
    ++wait;
    std::vector<json> fresh(hh.host.started.begin() + static_cast<long>(seen), hh.host.started.end());
    seen = hh.host.started.size();
    if (wait == 2) {
      // All three tool ops were issued before any completed; answer them in reverse order.
      REQUIRE(fresh.size() == 3);
      for (auto it = fresh.rbegin(); it != fresh.rend(); ++it) hh.post(Harness::done_ok((*it)["id"].get<OpId>(), (*it)["args"][0]["city"]));
      return;
    }
    for (const auto& op : fresh) {
      script.model_requests.push_back(script.conversation.request(op));
      const json& r = script.model_responses[wait == 1 ? 0 : 1];
      script.conversation.answered(op, r);
      hh.post(Harness::done_ok(op["id"].get<OpId>(), r));
    }
  }));
  const json& tool_message = script.model_requests[1]["messages"][2];
  REQUIRE(tool_message["content"].size() == 3);
  REQUIRE(tool_message["content"][0]["result"] == "A");
  REQUIRE(tool_message["content"][1]["result"] == "B");
  REQUIRE(tool_message["content"][2]["result"] == "C");
}

TEST_CASE("what the model gets wrong goes back to it", "[agent]") {
  Harness h;
  Script script;
  json bad_json = {{"type", "tool-call"}, {"toolCallId", "j"}, {"toolName", "weather"}, {"argsText", "{\"city\": "}};
  script.model_responses = {response({call_part("u", "teleport", json::object()), bad_json, call_part("s", "weather", {{"city", 5}}),
                                      call_part("t", "weather", {{"city", "Oslo"}})},
                                     "tool-calls"),
                            response({text_part("ok")})};
  script.callbacks["tool:weather"] = [](const json&) -> json { throw std::runtime_error("weather service down"); };
  json reply = run_prompt(h, script, prompt_spec({{"tools", json::array({weather_tool()})}}));
  REQUIRE(reply["ok"] == true);
  const json& results = script.model_requests[1]["messages"][2]["content"];
  REQUIRE(results.size() == 4);
  for (const auto& r : results) REQUIRE(r["isError"] == true);
  REQUIRE(results[0]["result"]["error"] == "Tool \"teleport\" is not available. Available tools: weather.");
  CHECK_THAT(results[1]["result"]["error"].get<std::string>(), Catch::StartsWith("Invalid JSON in arguments of tool \"weather\": "));
  CHECK_THAT(results[2]["result"]["error"].get<std::string>(), Catch::Contains("Invalid arguments for tool \"weather\": /city: must be string"));
  REQUIRE(results[3]["result"]["error"] == "weather service down");
  REQUIRE(run_events(h, "tool-error").size() == 4);
}

TEST_CASE("maxSteps bounds the loop and stopWhen can end it early", "[agent]") {
  json looping = response({call_part("c", "weather", {{"city", "X"}})}, "tool-calls");
  {
    Harness h;
    Script script;
    script.model_responses = {looping, looping, looping, looping};
    script.callbacks["tool:weather"] = [](const json&) { return json("sunny"); };
    json reply = run_prompt(h, script, prompt_spec({{"tools", json::array({weather_tool()})}, {"options", {{"maxSteps", 3}}}}));
    REQUIRE(reply["value"]["steps"].size() == 3);
    REQUIRE(reply["value"]["finishReason"] == "tool-calls");
  }
  {
    Harness h;
    Script script;
    script.model_responses = {looping, looping, looping, looping};
    script.callbacks["tool:weather"] = [](const json&) { return json("sunny"); };
    script.callbacks["stop"] = [](const json& args) { return json(args[0]["stepNumber"] == 1); };
    json reply = run_prompt(h, script, prompt_spec({{"tools", json::array({weather_tool()})}, {"stopWhen", "stop"}}));
    REQUIRE(reply["value"]["steps"].size() == 2);
  }
}

TEST_CASE("steering: messages the host gives after a step join the conversation and the run goes on, also after a final answer, unless it stops",
          "[agent]") {
  const json steered{{"role", "user"}, {"content", "Use Paris, Texas."}};
  {
    Harness h;
    Script script;
    script.model_responses = {response({call_part("c", "weather", {{"city", "Paris"}})}, "tool-calls"), response({text_part("Paris, France: sunny")}),
                              response({text_part("Paris, Texas: hot")})};
    script.callbacks["tool:weather"] = [](const json&) { return json("sunny"); };
    std::vector<json> asked;
    script.callbacks["steer"] = [&](const json& args) {
      asked.push_back(args[0]);
      return args[0]["stepNumber"] == 1 ? json::array({steered}) : json::array();
    };
    json reply = run_prompt(h, script, prompt_spec({{"tools", json::array({weather_tool()})}, {"steering", "steer"}}));
    REQUIRE(reply["value"]["steps"].size() == 3);
    REQUIRE(asked.size() == 3);
    CHECK(asked[0] == json{{"stepNumber", 0}, {"final", false}});
    CHECK(asked[1] == json{{"stepNumber", 1}, {"final", true}});
    const json& last = script.model_requests[2]["messages"];
    CHECK(last.back() == steered);  // after the final answer it went on, with the message last
    CHECK(last[last.size() - 2]["role"] == "assistant");
  }
  {
    Harness h;  // a stop condition ends the run first: the message is not sent
    Script script;
    script.model_responses = {response({call_part("c", "weather", {{"city", "Paris"}})}, "tool-calls"), response({text_part("unused")})};
    script.callbacks["tool:weather"] = [](const json&) { return json("sunny"); };
    script.callbacks["steer"] = [&](const json&) { return json::array({steered}); };
    script.callbacks["stop"] = [](const json&) { return json(true); };
    json reply = run_prompt(h, script, prompt_spec({{"tools", json::array({weather_tool()})}, {"steering", "steer"}, {"stopWhen", "stop"}}));
    CHECK(reply["value"]["steps"].size() == 1);
    CHECK(script.model_requests.size() == 1);
  }
  {
    Harness h;  // the last step allowed: the message is not added (no step would send it)
    Script script;
    script.model_responses = {response({text_part("done")}), response({text_part("unused")})};
    script.callbacks["steer"] = [&](const json&) { return json::array({steered}); };
    json reply = run_prompt(h, script, prompt_spec({{"steering", "steer"}, {"options", {{"maxSteps", 1}}}}));
    CHECK(reply["value"]["steps"].size() == 1);
    CHECK(script.model_requests.size() == 1);
    CHECK(reply["value"].dump().find("Paris, Texas") == std::string::npos);
  }
  {
    Harness h;  // a wrong answer fails the run, naming it
    Script script;
    script.model_responses = {response({text_part("hi")})};
    script.callbacks["steer"] = [](const json&) { return json::array({json{{"role", "system"}, {"content", "x"}}}); };
    json reply = run_prompt(h, script, prompt_spec({{"steering", "steer"}}));
    CHECK(reply["error"]["message"].get<std::string>().find("steering: expected user messages {role: \"user\", content}") != std::string::npos);
  }
}

TEST_CASE(
    "refineToolInput: a valid call of a named tool runs with the refined arguments, which the transcript keeps; invalid ones are the call's error",
    "[agent]") {
  json second_tool = weather_tool();
  second_tool["name"] = "forecast";
  Harness h;
  Script script;
  script.model_responses = {
      response({call_part("c1", "weather", {{"city", "paris"}}), call_part("c2", "forecast", {{"city", "oslo"}})}, "tool-calls"),
      response({call_part("c3", "weather", {{"city", "rome"}})}, "tool-calls"), response({text_part("bye")})};
  std::vector<json> ran;
  script.callbacks["tool:weather"] = [&](const json& args) { return ran.push_back(args[0]), json("sunny"); };
  script.callbacks["tool:forecast"] = [&](const json& args) { return ran.push_back(args[0]), json("rain"); };
  std::vector<json> asked;
  script.callbacks["refine"] = [&](const json& args) {
    asked.push_back(args[0]);
    if (args[0]["input"]["city"] == "rome") return json{{"city", 7}};  // not the schema's
    return json{{"city", "Paris, Texas"}};
  };
  json reply = run_prompt(
      h, script, prompt_spec({{"tools", json::array({weather_tool(), second_tool})}, {"refineToolInput", "refine"}, {"refineTools", {"weather"}}}));
  REQUIRE(reply.contains("value"));
  REQUIRE(asked.size() == 2);  // only the named tool's calls
  CHECK(asked[0] == json{{"stepNumber", 0}, {"toolCallId", "c1"}, {"toolName", "weather"}, {"input", {{"city", "paris"}}}});
  REQUIRE(ran.size() == 2);
  CHECK(ran[0] == json{{"city", "Paris, Texas"}});
  CHECK(ran[1] == json{{"city", "oslo"}});
  CHECK(script.model_requests[1]["messages"][1]["content"][0]["args"] == json{{"city", "Paris, Texas"}});  // the transcript keeps them
  const auto calls = run_events(h, "tool-call");
  CHECK(calls[0]["args"] == json{{"city", "Paris, Texas"}});
  const json& third_results = reply["value"]["steps"][1]["toolResults"];
  CHECK(third_results[0]["result"]["error"].get<std::string>().find("the refined arguments of tool \"weather\" are invalid") != std::string::npos);
}

TEST_CASE("onStepFinish gets every step's record before the next step starts, the last one too", "[agent]") {
  Harness h;
  Script script;
  script.model_responses = {response({call_part("c", "weather", {{"city", "X"}})}, "tool-calls"), response({text_part("bye")})};
  script.callbacks["tool:weather"] = [](const json&) { return json("sunny"); };
  std::vector<json> reported;
  std::vector<std::size_t> requests_seen;
  script.callbacks["step"] = [&](const json& args) {
    reported.push_back(args[0]);
    requests_seen.push_back(script.model_requests.size());
    return json();
  };
  json reply = run_prompt(h, script, prompt_spec({{"tools", json::array({weather_tool()})}, {"onStepFinish", "step"}}));
  REQUIRE(reported == reply["value"]["steps"]);
  REQUIRE(requests_seen == std::vector<std::size_t>{1, 2});  // step 1's model call came after step 0's report
  Harness other;
  Script unused;
  json bad = run_prompt(other, unused, prompt_spec({{"onStepFinish", 7}}));
  CHECK(bad["error"]["message"] == "run.start spec (prompt): \"onStepFinish\" must be a non-empty string, got 7");
}

TEST_CASE("onStart once before the hooks, onStepStart with each step's final request, onStepError before the run fails", "[agent]") {
  Harness h;
  Script script;
  json unavailable{{"error", {{"kind", "provider"}, {"message", "unavailable"}, {"status", 503}}}};
  script.model_responses = {response({call_part("c", "weather", {{"city", "X"}})}, "tool-calls"), unavailable};
  script.callbacks["tool:weather"] = [](const json&) { return json("sunny"); };
  std::vector<std::string> order;
  std::vector<json> starts, step_starts, step_errors;
  std::vector<std::size_t> requests_seen;
  script.callbacks["start"] = [&](const json& args) { return order.push_back("start"), starts.push_back(args[0]), json(); };
  script.callbacks["hook"] = [&](const json& args) {
    order.push_back("hook");
    return args[0]["stepNumber"] == 1 ? json{{"system", "hooked"}, {"activeTools", json::array()}} : json();
  };
  script.callbacks["stepStart"] = [&](const json& args) {
    order.push_back("stepStart");
    step_starts.push_back(args[0]);
    requests_seen.push_back(script.model_requests.size());
    return json();
  };
  script.callbacks["stepError"] = [&](const json& args) { return order.push_back("stepError"), step_errors.push_back(args[0]), json(); };
  json reply = run_prompt(h, script,
                          prompt_spec({{"systems", {{{"name", "role"}, {"value", "normal"}}}},
                                       {"tools", json::array({weather_tool()})},
                                       {"hooks", {"hook"}},
                                       {"options", {{"maxRetries", 0}}},
                                       {"onStart", "start"},
                                       {"onStepStart", "stepStart"},
                                       {"onStepError", "stepError"}}));
  REQUIRE(reply["error"]["message"] == "unavailable");
  REQUIRE(order == std::vector<std::string>{"start", "hook", "stepStart", "hook", "stepStart", "stepError"});
  REQUIRE(requests_seen == std::vector<std::size_t>{0, 1});  // each before its step's model call
  REQUIRE(starts.size() == 1);
  CHECK(starts[0]["system"] == "<role>\nnormal\n</role>");
  CHECK(starts[0]["activeTools"] == json::array({"weather"}));
  CHECK(starts[0]["messages"].size() == 1);
  CHECK(starts[0]["messages"][0]["role"] == "user");
  // Step 1's start has what the hook changed and the conversation with the tool's result.
  CHECK(step_starts[0]["stepNumber"] == 0);
  CHECK(step_starts[1]["stepNumber"] == 1);
  CHECK(step_starts[1]["system"] == "hooked");
  CHECK(step_starts[1]["activeTools"] == json::array());
  CHECK(step_starts[1]["messages"].size() == 3);  // user, assistant's call, the tool's result
  CHECK(step_starts[1]["messages"][2]["role"] == "tool");
  CHECK_FALSE(step_starts[1].contains("steps"));  // a prompt run's host has them
  REQUIRE(step_errors.size() == 1);
  CHECK(step_errors[0]["stepNumber"] == 1);
  CHECK(step_errors[0]["system"] == "hooked");
  CHECK(step_errors[0]["error"]["kind"] == "provider");
  CHECK(step_errors[0]["error"]["status"] == 503);
}

TEST_CASE("onStepError is not called when the step's model call succeeds or the run is cancelled", "[agent]") {
  Harness h;
  Script script;
  script.model_responses = {response({text_part("fine")})};
  int errors = 0;
  script.callbacks["stepError"] = [&](const json&) { return ++errors, json(); };
  json reply = run_prompt(h, script, prompt_spec({{"onStepError", "stepError"}}));
  REQUIRE(reply["value"]["steps"].size() == 1);
  REQUIRE(errors == 0);
  // Cancelled during the model call: the run ends as cancelled, with no step error.
  Harness cancelled;
  cancelled.post(json{{"type", "run.start"}, {"id", 1}, {"spec", prompt_spec({{"onStepError", "stepError"}})}});
  REQUIRE(cancelled.run([&](Harness& hh) {
    const json& op = hh.host.started.back();
    REQUIRE(op["op"] == "model.generate");
    hh.post(json{{"type", "run.cancel"}, {"id", 9}, {"run", 1}, {"reason", "stop"}});
  }));
  REQUIRE((*cancelled.reply(1))["error"]["kind"] == "aborted");
  REQUIRE(std::none_of(cancelled.host.started.begin(), cancelled.host.started.end(), [](const json& op) { return op["op"] == "callback.invoke"; }));
  Harness other;
  Script unused;
  json bad = run_prompt(other, unused, prompt_spec({{"onStepStart", ""}}));
  CHECK(bad["error"]["message"] == "run.start spec (prompt): \"onStepStart\" must be a non-empty string, got \"\"");
}

TEST_CASE("toolOrder sends the listed tools first, the others after them by name, at every step; an unknown name is refused", "[agent]") {
  json tools = json::array();
  for (const char* name : {"b", "weather", "c", "a", "d"}) {
    json tool = weather_tool();
    tool["name"] = name;
    tools.push_back(tool);
  }
  auto names = [](const json& request) {
    std::vector<std::string> out;
    for (const auto& tool : request["tools"]) out.push_back(tool["name"]);
    return out;
  };
  {
    Harness h;
    Script script;
    script.model_responses = {response({call_part("c1", "weather", {{"city", "X"}})}, "tool-calls"), response({text_part("bye")})};
    script.callbacks["tool:weather"] = [](const json&) { return json("sunny"); };
    script.callbacks["prepare"] = [](const json& args) { return args[0]["stepNumber"] == 1 ? json{{"activeTools", {"c", "b", "d"}}} : json(); };
    run_prompt(h, script, prompt_spec({{"tools", tools}, {"options", {{"toolOrder", {"d", "weather"}}}}, {"prepareStep", "prepare"}}));
    REQUIRE(names(script.model_requests[0]) == std::vector<std::string>{"d", "weather", "a", "b", "c"});
    REQUIRE(names(script.model_requests[1]) == std::vector<std::string>{"d", "b", "c"});  // a step's own tools, in the same order
  }
  {
    // A hook's toolOrder is that step's, in place of the run's.
    Harness h;
    Script script;
    script.model_responses = {response({call_part("c1", "weather", {{"city", "X"}})}, "tool-calls"), response({text_part("bye")})};
    script.callbacks["tool:weather"] = [](const json&) { return json("sunny"); };
    script.callbacks["prepare"] = [](const json& args) { return args[0]["stepNumber"] == 0 ? json{{"toolOrder", {"c"}}} : json(); };
    run_prompt(h, script, prompt_spec({{"tools", tools}, {"options", {{"toolOrder", {"d"}}}}, {"prepareStep", "prepare"}}));
    REQUIRE(names(script.model_requests[0]) == std::vector<std::string>{"c", "a", "b", "d", "weather"});
    REQUIRE(names(script.model_requests[1]) == std::vector<std::string>{"d", "a", "b", "c", "weather"});
    Harness other;
    Script bad_script;
    bad_script.callbacks["prepare"] = [](const json&) { return json{{"toolOrder", {"wether"}}}; };
    json reply = run_prompt(other, bad_script, prompt_spec({{"tools", tools}, {"prepareStep", "prepare"}}));
    CHECK(reply["error"]["message"] ==
          "prepareStep: \"toolOrder\" names unknown tool \"wether\" (did you mean \"weather\"? defined tools: b, weather, c, a, d)");
  }
  {
    Harness h;
    Script script;
    script.model_responses = {response({text_part("hi")})};
    run_prompt(h, script, prompt_spec({{"tools", tools}}));
    REQUIRE(names(script.model_requests[0]) == std::vector<std::string>{"b", "weather", "c", "a", "d"});  // without it: as defined
  }
  Harness h;
  Script script;
  json reply = run_prompt(h, script, prompt_spec({{"tools", tools}, {"options", {{"toolOrder", {"wether"}}}}}));
  CHECK(reply["error"]["message"] ==
        "run.start spec (prompt): options: toolOrder names unknown tool \"wether\" (did you mean \"weather\"? defined tools: b, weather, c, a, d)");
}

TEST_CASE("hooks change one step only", "[agent]") {
  Harness h;
  Script script;
  script.model_responses = {response({call_part("c", "weather", {{"city", "X"}})}, "tool-calls"), response({text_part("bye")})};
  script.callbacks["tool:weather"] = [](const json&) { return json("sunny"); };
  std::vector<json> hook_inputs;
  script.callbacks["hook"] = [&](const json& args) {
    hook_inputs.push_back(args[0]);
    if (args[0]["stepNumber"] == 0) return json{{"system", "step zero system"}, {"activeTools", json::array()}, {"toolChoice", "none"}};
    return json();
  };
  run_prompt(h, script,
             prompt_spec({{"systems", {{{"name", "role"}, {"value", "normal"}}}}, {"tools", json::array({weather_tool()})}, {"hooks", {"hook"}}}));
  REQUIRE(script.model_requests[0]["messages"][0]["content"] == "step zero system");
  REQUIRE(script.model_requests[0]["tools"].empty());
  REQUIRE(script.model_requests[0]["toolChoice"] == "none");
  REQUIRE(script.model_requests[1]["messages"][0]["content"] == "<role>\nnormal\n</role>");
  REQUIRE(script.model_requests[1]["tools"].size() == 1);
  REQUIRE_FALSE(script.model_requests[1].contains("toolChoice"));
  REQUIRE(hook_inputs[1]["stepNumber"] == 1);
  REQUIRE(hook_inputs[1]["lastToolCall"]["toolName"] == "weather");
  REQUIRE(hook_inputs[1]["steps"].size() == 1);
}

TEST_CASE("prepareStep's system and messages carry forward to the steps after it; a defHook's stay in their step", "[agent]") {
  const auto contents = [](const json& request) {
    std::vector<std::string> out;
    for (const auto& message : request["messages"])
      out.push_back(message["role"].get<std::string>() + ":" + (message["content"].is_string() ? message["content"].get<std::string>() : "[parts]"));
    return out;
  };
  Harness h;
  Script script;
  script.model_responses = {response({call_part("c1", "weather", {{"city", "X"}})}, "tool-calls"),
                            response({call_part("c2", "weather", {{"city", "Y"}})}, "tool-calls"), response({text_part("bye")})};
  script.callbacks["tool:weather"] = [](const json&) { return json("sunny"); };
  std::vector<json> prepare_inputs;
  script.callbacks["prepare"] = [&](const json& args) {
    prepare_inputs.push_back(args[0]);
    if (args[0]["stepNumber"] == 0) return json{{"system", "carried"}, {"messages", {{{"role", "user"}, {"content", "short"}}}}};
    if (args[0]["stepNumber"] == 2) return json{{"system", "third"}};
    return json();
  };
  script.callbacks["hook"] = [](const json& args) { return args[0]["stepNumber"] == 0 ? json{{"toolChoice", "required"}} : json(); };
  run_prompt(h, script,
             prompt_spec({{"systems", {{{"name", "role"}, {"value", "normal"}}}},
                          {"tools", json::array({weather_tool()})},
                          {"hooks", {"hook"}},
                          {"prepareStep", "prepare"}}));
  REQUIRE(script.model_requests.size() == 3);
  CHECK(contents(script.model_requests[0]) == std::vector<std::string>{"system:carried", "user:short"});
  CHECK(contents(script.model_requests[1]) == std::vector<std::string>{"system:carried", "user:short", "assistant:[parts]", "tool:[parts]"});
  CHECK(contents(script.model_requests[2]) ==
        std::vector<std::string>{"system:third", "user:short", "assistant:[parts]", "tool:[parts]", "assistant:[parts]", "tool:[parts]"});
  // prepareStep sees the messages as they will be sent; the defHook's toolChoice was step 0's only.
  CHECK(prepare_inputs[0]["messages"].size() == 1);
  CHECK(prepare_inputs[0]["messages"][0]["content"] == "Weather in Paris?");
  CHECK(prepare_inputs[1]["messages"].size() == 3);
  CHECK(prepare_inputs[1]["messages"][0]["content"] == "short");
  CHECK(prepare_inputs[2]["messages"].size() == 5);
  CHECK(script.model_requests[0]["toolChoice"] == "required");
  CHECK_FALSE(script.model_requests[1].contains("toolChoice"));
}

TEST_CASE("options.activeTools offers those tools at every step; prepareStep runs after the hooks, named in its errors", "[agent]") {
  json second_tool = weather_tool();
  second_tool["name"] = "forecast";
  {
    Harness h;
    Script script;
    script.model_responses = {response({call_part("c", "weather", {{"city", "X"}})}, "tool-calls"), response({text_part("bye")})};
    script.callbacks["tool:weather"] = [](const json&) { return json("sunny"); };
    std::vector<std::string> order;
    script.callbacks["hook"] = [&](const json&) { return order.push_back("hook"), json{{"system", "hooked"}}; };
    script.callbacks["prepare"] = [&](const json& args) {
      order.push_back("prepare");
      return args[0]["stepNumber"] == 1 ? json{{"activeTools", {"forecast"}}} : json();
    };
    run_prompt(h, script,
               prompt_spec({{"tools", json::array({weather_tool(), second_tool})},
                            {"options", {{"activeTools", {"weather"}}}},
                            {"hooks", {"hook"}},
                            {"prepareStep", "prepare"}}));
    REQUIRE(script.model_requests[0]["tools"].size() == 1);
    REQUIRE(script.model_requests[0]["tools"][0]["name"] == "weather");
    REQUIRE(script.model_requests[1]["tools"][0]["name"] == "forecast");
    REQUIRE(order == std::vector<std::string>{"hook", "prepare", "hook", "prepare"});
  }
  {
    Harness h;
    Script script;
    json reply = run_prompt(h, script, prompt_spec({{"tools", json::array({weather_tool()})}, {"options", {{"activeTools", {"wether"}}}}}));
    CHECK(reply["error"]["kind"] == "config");
    CHECK(reply["error"]["message"] ==
          "run.start spec (prompt): options: activeTools names unknown tool \"wether\" (did you mean \"weather\"? defined tools: weather)");
  }
  {
    Harness h;
    Script script;
    script.callbacks["prepare"] = [](const json&) { return json{{"activeTools", {"nope"}}}; };
    json reply = run_prompt(h, script, prompt_spec({{"tools", json::array({weather_tool()})}, {"prepareStep", "prepare"}}));
    CHECK(reply["error"]["message"] == "prepareStep: \"activeTools\" names unknown tool \"nope\" (defined tools: weather)");
  }
}

TEST_CASE("hooks set a step's call settings: params over the run's, providerOptions merged in order", "[agent]") {
  Harness h;
  Script script;
  script.model_responses = {response({call_part("c", "weather", {{"city", "X"}})}, "tool-calls"), response({text_part("bye")})};
  script.callbacks["tool:weather"] = [](const json&) { return json("sunny"); };
  script.callbacks["hook"] = [](const json& args) {
    if (args[0]["stepNumber"] != 0) return json();
    return json{{"params", {{"temperature", 0.1}}}, {"providerOptions", {{"openai", {{"reasoningEffort", "low"}, {"user", "u1"}}}}}};
  };
  script.callbacks["prepare"] = [](const json& args) {
    if (args[0]["stepNumber"] != 0) return json();
    return json{{"params", {{"maxOutputTokens", 50}}},
                {"providerOptions", {{"openai", {{"reasoningEffort", "high"}}}, {"anthropic", {{"metadata", {{"userId", "a"}}}}}}}};
  };
  run_prompt(h, script,
             prompt_spec({{"tools", json::array({weather_tool()})},
                          {"options", {{"params", {{"temperature", 0.7}, {"seed", 3}}}}},
                          {"hooks", {"hook"}},
                          {"prepareStep", "prepare"}}));
  REQUIRE(script.model_requests.size() == 2);
  CHECK(script.model_requests[0]["params"] == json{{"temperature", 0.1}, {"seed", 3}, {"maxOutputTokens", 50}});
  CHECK(script.model_requests[0]["providerOptions"] ==
        json{{"openai", {{"reasoningEffort", "high"}, {"user", "u1"}}}, {"anthropic", {{"metadata", {{"userId", "a"}}}}}});
  // The next step is the run's again.
  CHECK(script.model_requests[1]["params"] == json{{"temperature", 0.7}, {"seed", 3}});
  CHECK_FALSE(script.model_requests[1].contains("providerOptions"));
}

TEST_CASE("a hook's call settings of the wrong shape fail the run, naming the hook", "[agent]") {
  for (const auto& [returned, message] : std::vector<std::pair<json, std::string>>{
           {json{{"params", 3}}, "hook #1: \"params\" must be an object of generation settings"},
           {json{{"providerOptions", {{"openai", "low"}}}}, "hook #1: \"providerOptions\" of \"openai\" must be an object, got string"},
           {json{{"providerOption", json::object()}}, "hook #1 returned unknown field \"providerOption\" (did you mean \"providerOptions\"? "}}) {
    Harness h;
    Script script;
    script.callbacks["hook"] = [returned = returned](const json&) { return returned; };
    json reply = run_prompt(h, script, prompt_spec({{"hooks", {"hook"}}}));
    CHECK(reply["error"]["message"].get<std::string>().starts_with(message));
    CHECK(script.model_requests.empty());
  }
}

TEST_CASE("repairToolCall mends a call the model got wrong; the transcript keeps the mended call", "[agent]") {
  Harness h;
  Script script;
  json bad_text = {{"type", "tool-call"}, {"toolCallId", "c3"}, {"toolName", "weather"}, {"argsText", "{city: Rome"}};
  script.model_responses = {response({call_part("c1", "wether", {{"city", "Paris"}}), call_part("c2", "weather", {{"town", "Oslo"}}), bad_text,
                                      call_part("c4", "nope", json::object())},
                                     "tool-calls"),
                            response({text_part("done")})};
  std::vector<std::string> cities;
  script.callbacks["tool:weather"] = [&](const json& args) { return cities.push_back(args[0]["city"]), json("sunny"); };
  std::vector<json> asked;
  script.callbacks["repair"] = [&](const json& args) {
    const json& request = args[0];
    asked.push_back(request);
    const std::string id = request["toolCall"]["toolCallId"];
    if (id == "c1") return json{{"toolName", "weather"}, {"input", "{\"city\":\"Paris\"}"}};  // the name mended, input as text
    if (id == "c2") return json{{"toolName", "weather"}, {"input", {{"city", "Oslo"}}}};      // the arguments mended, as an object
    if (id == "c3") return json{{"toolName", "weather"}, {"input", "{still bad"}};            // mended into another wrong call
    return json();                                                                            // left as it is
  };
  json reply = run_prompt(h, script, prompt_spec({{"tools", json::array({weather_tool()})}, {"repairToolCall", "repair"}}));
  REQUIRE(reply["value"]["finishReason"] == "stop");
  CHECK(cities == std::vector<std::string>{"Paris", "Oslo"});
  REQUIRE(asked.size() == 4);
  CHECK(asked[0]["error"]["type"] == "no-such-tool");
  CHECK(asked[0]["toolCall"]["input"] == "{\"city\":\"Paris\"}");
  CHECK(asked[1]["error"]["type"] == "invalid-input");
  CHECK(asked[2]["toolCall"]["input"] == "{city: Rome");
  CHECK(asked[0]["tools"]["weather"]["inputSchema"]["required"] == json::array({"city"}));
  CHECK(asked[0]["messages"].size() == 1);
  // The next request has the mended calls in the assistant turn, and the errors of the others.
  const json& messages = script.model_requests[1]["messages"];
  const json& turn = messages[1]["content"];
  CHECK(turn[0]["toolName"] == "weather");
  CHECK(turn[0]["args"] == json{{"city", "Paris"}});
  CHECK(turn[1]["args"] == json{{"city", "Oslo"}});
  const json& results = messages[2]["content"];
  CHECK(results[0]["result"] == "sunny");
  CHECK(results[2]["result"]["error"].get<std::string>().starts_with("Invalid JSON in arguments of tool \"weather\""));
  CHECK(results[3]["result"]["error"].get<std::string>().starts_with("Tool \"nope\" is not available"));
  // One event per call the host mended (c3's mend still wrong: args null), none for c4 it left.
  std::vector<json> repaired = run_events(h, "tool-call-repaired");
  REQUIRE(repaired.size() == 3);
  CHECK(repaired[0]["original"] == json{{"toolName", "wether"}, {"input", "{\"city\":\"Paris\"}"}});
  CHECK(repaired[0]["toolName"] == "weather");
  CHECK(repaired[0]["error"]["type"] == "no-such-tool");
  CHECK(repaired[1]["args"] == json{{"city", "Oslo"}});
  CHECK(repaired[2]["toolCallId"] == "c3");
  CHECK(repaired[2]["args"].is_null());
}

TEST_CASE("repairToolCall returning something else fails the run, naming it", "[agent]") {
  Harness h;
  Script script;
  script.model_responses = {response({call_part("c1", "wether", json::object())}, "tool-calls")};
  script.callbacks["repair"] = [](const json&) { return json{{"name", "weather"}}; };
  json reply = run_prompt(h, script, prompt_spec({{"tools", json::array({weather_tool()})}, {"repairToolCall", "repair"}}));
  CHECK(reply["error"]["message"] == "repairToolCall must return {toolName, input} (input: JSON text or an object) or null, got an object with name");
}

TEST_CASE("toolCallConcurrency runs a step's calls that many at a time, in order; a bad value is refused", "[agent]") {
  for (const int limit : {1, 2, 0}) {
    Harness h;
    Script script;
    script.model_responses = {response({call_part("c1", "weather", {{"city", "A"}}), call_part("c2", "weather", {{"city", "B"}}),
                                        call_part("c3", "weather", {{"city", "C"}})},
                                       "tool-calls"),
                              response({text_part("done")})};
    // How many tool calls had started when each was answered.
    std::vector<std::size_t> started_when_answered;
    std::vector<std::string> cities;
    script.callbacks["tool:weather"] = [&](const json& args) {
      std::size_t started = 0;
      for (const json& op : h.host.started) started += op["op"] == "callback.invoke" ? 1 : 0;
      started_when_answered.push_back(started);
      cities.push_back(args[0]["city"]);
      return json("sunny");
    };
    json options = limit == 0 ? json::object() : json{{"toolCallConcurrency", limit}};
    json reply = run_prompt(h, script, prompt_spec({{"tools", json::array({weather_tool()})}, {"options", options}}));
    REQUIRE(reply["value"]["finishReason"] == "stop");
    CHECK(cities == std::vector<std::string>{"A", "B", "C"});
    if (limit == 1) CHECK(started_when_answered == std::vector<std::size_t>{1, 2, 3});
    if (limit == 2) CHECK(started_when_answered.front() == 2);
    if (limit == 0) CHECK(started_when_answered.front() == 3);
  }
  Harness h;
  Script script;
  json reply = run_prompt(h, script, prompt_spec({{"options", {{"toolCallConcurrency", 0}}}}));
  REQUIRE(reply["ok"] == false);
  CHECK_THAT(reply["error"]["message"].get<std::string>(), Catch::Contains("toolCallConcurrency"));
}

TEST_CASE("a hook returning something malformed fails the run with a clear message", "[agent]") {
  Harness h;
  Script script;
  script.callbacks["hook"] = [](const json&) { return json{{"activeTools", {"nope"}}}; };
  json reply = run_prompt(h, script, prompt_spec({{"tools", json::array({weather_tool()})}, {"hooks", {"hook"}}}));
  REQUIRE(reply["error"]["message"] == "hook #1: \"activeTools\" names unknown tool \"nope\" (defined tools: weather)");
  // A tool choice the step could not honour: a misspelt mode, or a tool the run does not have.
  for (const auto& [choice, message] : std::vector<std::pair<json, std::string>>{
           {json("requried"), "hook #1: \"toolChoice\" must be 'auto', 'none', 'required' or {type: 'tool', toolName}, got \"requried\""},
           {json{{"type", "tool"}, {"toolName", "wether"}},
            "hook #1: \"toolChoice\" names unknown tool \"wether\" (did you mean \"weather\"? defined tools: weather)"}}) {
    Harness h2;
    Script script2;
    script2.callbacks["hook"] = [choice = choice](const json&) { return json{{"toolChoice", choice}}; };
    json refused = run_prompt(h2, script2, prompt_spec({{"tools", json::array({weather_tool()})}, {"hooks", {"hook"}}}));
    CHECK(refused["error"]["message"] == message);
    CHECK(script2.model_requests.empty());
  }
}

TEST_CASE("rate limits are retried after Retry-After on the engine clock", "[agent]") {
  Harness h;
  Script script;
  script.model_responses = {json{{"error", {{"kind", "rate_limit"}, {"message", "slow down"}, {"retryAfterMs", 41000}}}},
                            response({text_part("finally")})};
  json reply = run_prompt(h, script, prompt_spec());
  REQUIRE(reply["value"]["steps"].back()["text"] == "finally");
  REQUIRE(h.engine.loop().now_ms() == 41000);
  REQUIRE(run_events(h, "retry")[0]["delayMs"] == 41000);
}

TEST_CASE("a model call that failed after its text was shown is not retried, whatever the failure", "[agent]") {
  // A retry's text would follow the text already streamed to the user.
  const json shown[] = {
      json{{"kind", "timeout"}, {"message", "idle"}, {"textShown", true}},
      json{{"kind", "rate_limit"}, {"message", "slow down"}, {"textShown", true}},
      json{{"kind", "provider"}, {"message", "cut"}, {"retryable", true}, {"textShown", true}},
      json{{"kind", "provider"}, {"message", "cut"}, {"retryable", true}, {"partialText", "Hel"}},
  };
  for (const json& error : shown) {
    Harness h;
    Script script;
    script.model_responses = {json{{"error", error}}, response({text_part("again")})};
    json reply = run_prompt(h, script, prompt_spec());
    INFO(error.dump());
    REQUIRE(reply["error"]["kind"] == error["kind"]);
    REQUIRE(script.model_requests.size() == 1);
  }
  // Before any text, the same failures are retried.
  for (const json& error : {json{{"kind", "timeout"}, {"message", "idle"}, {"textShown", false}},
                            json{{"kind", "provider"}, {"message", "cut"}, {"retryable", true}, {"partialText", ""}}}) {
    Harness h;
    Script script;
    script.model_responses = {json{{"error", error}}, response({text_part("again")})};
    json reply = run_prompt(h, script, prompt_spec());
    INFO(error.dump());
    REQUIRE(reply["value"]["steps"].back()["text"] == "again");
  }
}

TEST_CASE("streamRetries: a model call that failed after its text was shown is retried that many times, apart from maxRetries", "[agent]") {
  const json cut{{"error", {{"kind", "provider"}, {"message", "cut"}, {"retryable", true}, {"textShown", true}}}};
  const json overloaded{{"error", {{"kind", "provider"}, {"message", "overloaded"}, {"retryable", true}}}};
  {
    Harness h;  // two cuts after text, one failure before any: streamRetries 2 and maxRetries 1 both used
    Script script;
    script.model_responses = {cut, overloaded, cut, response({text_part("whole answer")})};
    json reply = run_prompt(h, script, prompt_spec({{"options", {{"streamRetries", 2}, {"maxRetries", 1}}}}));
    REQUIRE(reply["value"]["steps"].back()["text"] == "whole answer");
    REQUIRE(script.model_requests.size() == 4);
    const auto retries = run_events(h, "retry");
    REQUIRE(retries.size() == 3);
    CHECK(retries[0]["afterText"] == true);
    CHECK_FALSE(retries[1].contains("afterText"));
    CHECK(retries[2]["attempt"] == 3);
  }
  {
    Harness h;  // used up: the run fails with the cut
    Script script;
    script.model_responses = {cut, cut, response({text_part("never")})};
    json reply = run_prompt(h, script, prompt_spec({{"options", {{"streamRetries", 1}, {"maxRetries", 0}}}}));
    REQUIRE(reply["error"]["message"] == "cut");
    REQUIRE(script.model_requests.size() == 2);
  }
  {
    Harness h;  // not a retryable failure: no retry, whatever streamRetries says
    Script script;
    script.model_responses = {json{{"error", {{"kind", "provider"}, {"message", "bad request"}, {"textShown", true}}}},
                              response({text_part("never")})};
    json reply = run_prompt(h, script, prompt_spec({{"options", {{"streamRetries", 3}}}}));
    REQUIRE(reply["error"]["message"] == "bad request");
    REQUIRE(script.model_requests.size() == 1);
  }
}

TEST_CASE("errors that are not retryable, or too many retries, fail the run with the provider's error", "[agent]") {
  Harness h;
  Script script;
  json overloaded{{"error", {{"kind", "provider"}, {"message", "overloaded"}, {"retryable", true}, {"status", 529}}}};
  script.model_responses = {overloaded, overloaded, overloaded};
  json reply = run_prompt(h, script, prompt_spec({{"options", {{"maxRetries", 1}}}}));
  REQUIRE(reply["error"]["kind"] == "provider");
  REQUIRE(reply["error"]["status"] == 529);
  REQUIRE(script.model_requests.size() == 2);
}

TEST_CASE("a response schema validates the final answer", "[agent]") {
  json schema = {{"type", "object"}, {"properties", {{"answer", {{"type", "number"}}}}}, {"required", {"answer"}}};
  {
    Harness h;
    Script script;
    script.model_responses = {response({text_part("```json\n{\"answer\": 42}\n```")})};
    json reply = run_prompt(h, script, prompt_spec({{"responseSchema", schema}}));
    REQUIRE(reply["value"]["object"] == json{{"answer", 42}});
    REQUIRE(script.model_requests[0]["responseFormat"] == json{{"type", "json"}, {"schema", schema}});
  }
  {
    // `output`'s name and description go with the schema; a schema of {} sends none (JSON mode).
    Harness h;
    Script script;
    script.model_responses = {response({text_part("[1, 2]")})};
    json reply = run_prompt(
        h, script, prompt_spec({{"responseSchema", json::object()}, {"responseSchemaName", "list"}, {"responseSchemaDescription", "Numbers"}}));
    REQUIRE(reply["value"]["object"] == json{1, 2});
    REQUIRE(script.model_requests[0]["responseFormat"] == json{{"type", "json"}, {"name", "list"}, {"description", "Numbers"}});
  }
  {
    // A refused answer goes back to the model with the validator's message; it answers again.
    Harness h;
    Script script;
    script.model_responses = {response({text_part("{\"answer\": \"many\"}")}), response({text_part("{\"answer\": 7}")})};
    json reply = run_prompt(h, script, prompt_spec({{"responseSchema", schema}}));
    REQUIRE(reply["value"]["object"] == json{{"answer", 7}});
    const json& feedback = script.model_requests[1]["messages"].back();
    REQUIRE(feedback["role"] == "user");
    CHECK_THAT(feedback["content"].get<std::string>(), Catch::Contains("/answer: must be number"));
  }
  {
    Harness h;
    Script script;
    script.model_responses = {response({text_part("{\"answer\": \"many\"}")})};
    json reply = run_prompt(h, script, prompt_spec({{"responseSchema", schema}, {"responseSchemaRetries", 0}}));
    REQUIRE(reply["error"]["kind"] == "validation");
    CHECK_THAT(reply["error"]["message"].get<std::string>(), Catch::Contains("/answer: must be number"));
    REQUIRE(reply["error"]["errors"][0]["instancePath"] == "/answer");
  }
  {
    // The host's check (zod's parse) sees only answers the JSON Schema accepted, and refuses like it.
    Harness h;
    Script script;
    script.model_responses = {response({text_part("{\"answer\": \"many\"}")}), response({text_part("{\"answer\": 7}")}),
                              response({text_part("{\"answer\": 8}")})};
    std::vector<json> checked;
    script.callbacks["even"] = [&](const json& args) {
      checked.push_back(args[0]);
      if (args[0]["answer"].get<int>() % 2 == 0) return json();
      return json{{"errors", {{{"instancePath", "/answer"}, {"message", "must be even"}}}}};
    };
    json reply = run_prompt(h, script, prompt_spec({{"responseSchema", schema}, {"responseCheck", "even"}}));
    REQUIRE(reply["value"]["object"] == json{{"answer", 8}});
    REQUIRE(checked == std::vector<json>{{{"answer", 7}}, {{"answer", 8}}});
    CHECK_THAT(script.model_requests[2]["messages"].back()["content"].get<std::string>(),
               Catch::Contains("the reply does not match the schema; /answer: must be even"));
  }
  {
    // A check that answers something else fails the run, naming what it must answer.
    Harness h;
    Script script;
    script.model_responses = {response({text_part("{\"answer\": 7}")})};
    script.callbacks["odd"] = [](const json&) { return json(42); };
    json reply = run_prompt(h, script, prompt_spec({{"responseSchema", schema}, {"responseCheck", "odd"}}));
    CHECK_THAT(reply["error"]["message"].get<std::string>(), Catch::Contains("must answer null or {errors: [...]}, got 42"));
  }
}

TEST_CASE("bad prompt specs are refused before anything runs", "[agent]") {
  Harness h;
  json bad_schema_tool = weather_tool();
  bad_schema_tool["parameters"] = {{"type", 5}};
  json bad_name_tool = weather_tool();
  bad_name_tool["name"] = "1bad name";
  h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", {{"kind", "prompt"}}}});
  h.post(json{{"type", "run.start"}, {"id", 2}, {"spec", prompt_spec({{"tools", {bad_schema_tool}}})}});
  h.post(json{{"type", "run.start"}, {"id", 3}, {"spec", prompt_spec({{"tools", {weather_tool(), weather_tool()}}})}});
  h.post(json{{"type", "run.start"}, {"id", 4}, {"spec", prompt_spec({{"tools", {bad_name_tool}}})}});
  h.post(json{{"type", "run.start"}, {"id", 5}, {"spec", prompt_spec({{"systems", {{{"name", "x"}, {"value", "a</x>b"}}}}})}});
  h.post(json{{"type", "run.start"}, {"id", 6}, {"spec", prompt_spec({{"options", {{"maxSteps", 0}}}})}});
  h.post(json{{"type", "run.start"}, {"id", 7}, {"spec", prompt_spec({{"messages", {{{"role", "robot"}, {"content", "x"}}}}})}});
  REQUIRE(h.run([](Harness&) {}));
  REQUIRE(h.host.started.empty());
  auto message = [&](int id) { return (*h.reply(id))["error"]["message"].get<std::string>(); };
  CHECK_THAT(message(1), Catch::Contains("missing \"model\""));
  CHECK_THAT(message(2), Catch::Contains("parameters of tool \"weather\" are not a valid JSON Schema"));
  CHECK_THAT(message(3), Catch::Contains("a tool named \"weather\" is already defined"));
  CHECK_THAT(message(4), Catch::Contains("\"1bad name\""));
  CHECK_THAT(message(5), Catch::Contains("</x>"));
  CHECK_THAT(message(6), Catch::Contains("\"maxSteps\" must be an integer from 1 to 10000, got 0"));
  CHECK_THAT(message(7), Catch::Contains("\"role\" must be one of 'user', 'assistant', 'system', 'tool', got \"robot\""));
}

TEST_CASE("cancelling a prompt run mid-tool aborts it without turning the abort into a tool result", "[agent]") {
  Harness h;
  h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", prompt_spec({{"tools", json::array({weather_tool()})}})}});
  int wait = 0;
  REQUIRE(h.run([&](Harness& hh) {
    const json& op = hh.host.started.back();
    if (wait++ == 0) {
      hh.post(Harness::done_ok(op["id"].get<OpId>(), response({call_part("c", "weather", {{"city", "X"}})}, "tool-calls")));
    } else {
      REQUIRE(op["op"] == "callback.invoke");
      hh.post(json{{"type", "run.cancel"}, {"id", 9}, {"run", 1}, {"reason", "stop"}});
    }
  }));
  REQUIRE((*h.reply(1))["error"]["kind"] == "aborted");
  REQUIRE(run_events(h, "tool-error").empty());
}

TEST_CASE("each model call sends only the messages the host does not have yet", "[agent]") {
  Harness h;
  Script script;
  script.model_responses = {response({call_part("a", "weather", {{"city", "A"}})}, "tool-calls"),
                            response({call_part("b", "weather", {{"city", "B"}})}, "tool-calls"), response({text_part("done")})};
  script.callbacks["tool:weather"] = [](const json& args) { return args[0]["city"]; };
  run_prompt(h, script, prompt_spec({{"tools", json::array({weather_tool()})}}));
  std::vector<json> ops;
  for (const auto& op : h.host.started)
    if (op["op"] == "model.generate") ops.push_back(op["conversation"]);
  REQUIRE(ops.size() == 3);
  REQUIRE(ops[0]["base"] == 0);
  REQUIRE(ops[0]["append"].size() == 1);  // the user message
  REQUIRE(ops[1]["base"] == 2);           // user + assistant (added by the host itself)
  REQUIRE(ops[1]["append"].size() == 1);  // the tool results
  REQUIRE(ops[2]["base"] == 4);
  REQUIRE(script.model_requests[2]["messages"].size() == 5);
}

// Resilience policies of prompt runs (docs/resilience.md): retry, fallback, circuit breaker,
// constraints and deadlines, driven through run.start like a host would.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>

#include "prompt_script.hpp"
#include "state/bpe.hpp"
#include "state/token_count.hpp"

using namespace lmthing;
using namespace lmthing::testing;

namespace {

// A tool whose options (retry, fallback, circuitBreaker ...) are `options`.
json calls_tool(const std::string& name, int n = 1) {
  std::vector<json> parts;
  for (int i = 0; i < n; ++i) parts.push_back(call_part("c" + std::to_string(i), name, json::object()));
  return response(parts, "tool-calls");
}

json error_response(const std::string& kind, const std::string& message, json extra = json::object()) {
  json error{{"kind", kind}, {"message", message}};
  error.update(extra);
  return json{{"error", error}};
}

// The tool results the model saw in its last request, in order.
json last_tool_results(const Script& script) {
  const json& messages = script.model_requests.back()["messages"];
  for (auto it = messages.rbegin(); it != messages.rend(); ++it)
    if ((*it)["role"] == "tool") return (*it)["content"];
  return json::array();
}

std::vector<std::string> models_called(const Script& script) {
  std::vector<std::string> out;
  for (const auto& r : script.model_requests) out.push_back(r["model"].get<std::string>());
  return out;
}

std::string reply_error_message(const json& reply) { return reply["error"]["message"].get<std::string>(); }

}  // namespace

TEST_CASE("a tool with a retry policy is called again after its backoff until it succeeds", "[resilience]") {
  Harness h;
  Script script;
  int calls = 0;
  script.callbacks["tool:flaky"] = [&](const json&) -> json {
    if (++calls < 3) throw std::runtime_error("ECONNRESET");
    return "ok";
  };
  script.model_responses = {calls_tool("flaky"), response({text_part("done")})};
  json spec =
      prompt_spec({{"tools", json::array({tool_named("flaky", {{"retry", "twice"}})})},
                   {"definitions", definitions({definition("retry", "twice", {{"maxAttempts", 3}, {"backoff", "linear"}, {"baseDelay", 100}})})}});
  json reply = run_prompt(h, script, spec);
  REQUIRE(reply["ok"] == true);
  REQUIRE(calls == 3);
  REQUIRE(last_tool_results(script)[0]["result"] == "ok");
  auto retries = run_events(h, "retry");
  REQUIRE(retries.size() == 2);
  REQUIRE(retries[0]["delayMs"] == 100);  // linear: 100, then 200
  REQUIRE(retries[1]["delayMs"] == 200);
  REQUIRE(retries[0]["toolName"] == "flaky");
}

TEST_CASE("retryableErrors limits which tool failures are retried", "[resilience]") {
  Harness h;
  Script script;
  int calls = 0;
  script.callbacks["tool:strict"] = [&](const json&) -> json {
    ++calls;
    throw std::runtime_error("invalid input");
  };
  script.model_responses = {calls_tool("strict"), response({text_part("done")})};
  json spec = prompt_spec(
      {{"tools", json::array({tool_named("strict", {{"retry", "network"}})})},
       {"definitions", definitions({definition("retry", "network", {{"maxAttempts", 5}, {"retryableErrors", {"ECONNRESET", "timeout"}}})})}});
  json reply = run_prompt(h, script, spec);
  REQUIRE(reply["ok"] == true);
  REQUIRE(calls == 1);
  REQUIRE(last_tool_results(script)[0]["isError"] == true);
  REQUIRE(last_tool_results(script)[0]["result"]["error"] == "invalid input");
}

TEST_CASE("a default fallback stands in for a failed tool, and says so", "[resilience]") {
  Harness h;
  Script script;
  script.callbacks["tool:weather"] = [](const json&) -> json { throw std::runtime_error("upstream down"); };
  script.model_responses = {calls_tool("weather"), response({text_part("done")})};
  json spec = prompt_spec(
      {{"tools", json::array({tool_named("weather", {{"fallback", "unknown"}})})},
       {"definitions", definitions({definition("fallback", "unknown", {{"strategy", "default"}, {"value", {{"forecast", "unknown"}}}})})}});
  json reply = run_prompt(h, script, spec);
  REQUIRE(reply["ok"] == true);
  REQUIRE(last_tool_results(script)[0]["result"] == json{{"forecast", "unknown"}});
  auto fallbacks = run_events(h, "fallback");
  REQUIRE(fallbacks.size() == 1);
  REQUIRE(fallbacks[0]["strategy"] == "default");
  REQUIRE(fallbacks[0]["error"] == "upstream down");
}

TEST_CASE("an alternative fallback passes the same arguments to the next tool", "[resilience]") {
  Harness h;
  Script script;
  json seen;
  script.callbacks["tool:primary"] = [](const json&) -> json { throw std::runtime_error("primary failed"); };
  script.callbacks["tool:secondary"] = [&](const json& args) -> json {
    seen = args;
    return "from secondary";
  };
  std::vector<json> parts{call_part("c1", "primary", json{{"q", "x"}})};
  script.model_responses = {response(parts, "tool-calls"), response({text_part("done")})};
  json spec =
      prompt_spec({{"tools", json::array({tool_named("primary", {{"fallback", "backup"}}), tool_named("secondary")})},
                   {"definitions", definitions({definition("fallback", "backup", {{"strategy", "alternative"}, {"tools", {"secondary"}}})})}});
  json reply = run_prompt(h, script, spec);
  REQUIRE(reply["ok"] == true);
  REQUIRE(last_tool_results(script)[0]["result"] == "from secondary");
  REQUIRE(seen[0] == json{{"q", "x"}});
  REQUIRE(seen[1]["toolName"] == "secondary");
}

TEST_CASE("a model cascade replaces a model that keeps failing with a retryable error", "[resilience]") {
  Harness h;
  Script script;
  json overloaded = error_response("provider", "overloaded", {{"status", 529}, {"retryable", true}});
  script.model_responses = {overloaded, overloaded, calls_tool("weather"), response({text_part("from B")})};
  script.callbacks["tool:weather"] = [](const json&) -> json { return "sunny"; };
  json spec = prompt_spec({{"model", "A"},
                           {"fallback", "cascade"},
                           {"options", {{"maxRetries", 1}}},
                           {"tools", json::array({tool_named("weather")})},
                           {"definitions", definitions({definition("fallback", "cascade", {{"strategy", "cascade"}, {"models", {"B", "C"}}})})}});
  json reply = run_prompt(h, script, spec);
  REQUIRE(reply["value"]["steps"].back()["text"] == "from B");
  // A twice (one retry), then B for this step and the next: the cascade replaced the run's model.
  REQUIRE(models_called(script) == std::vector<std::string>{"A", "A", "B", "B"});
  auto fallbacks = run_events(h, "fallback");
  REQUIRE(fallbacks.size() == 1);
  REQUIRE(fallbacks[0]["from"] == "A");
  REQUIRE(fallbacks[0]["to"] == "B");
}

TEST_CASE("a model call that failed after showing text is not retried even by a policy that lists the error", "[resilience]") {
  // The policy lists the failure, so the same failure before any text is retried ...
  json policy = definitions({definition("retry", "stubborn", {{"maxAttempts", 3}, {"retryableErrors", {"timeout", "rate_limit"}}})});
  {
    Harness h;
    Script script;
    script.model_responses = {error_response("timeout", "idle", {{"textShown", false}}), response({text_part("again")})};
    json reply = run_prompt(h, script, prompt_spec({{"retry", "stubborn"}, {"definitions", policy}}));
    REQUIRE(reply["value"]["steps"].back()["text"] == "again");
    REQUIRE(script.model_requests.size() == 2);
  }
  // ... but not once the user has seen some of the call's text: a new attempt's would follow it.
  for (const json& extra : {json{{"textShown", true}}, json{{"partialText", "Hel"}}}) {
    Harness h;
    Script script;
    script.model_responses = {error_response("rate_limit", "slow down", extra), response({text_part("again")})};
    json reply = run_prompt(h, script, prompt_spec({{"retry", "stubborn"}, {"definitions", policy}}));
    INFO(extra.dump());
    REQUIRE(reply["error"]["kind"] == "rate_limit");
    REQUIRE(script.model_requests.size() == 1);
    REQUIRE(run_events(h, "retry").empty());
  }
}

TEST_CASE("a cascade moves on after shown text only when its own errors list the failure", "[resilience]") {
  // The run's retry policy lists the failure too: that does not make it one to move on from.
  json shown = error_response("provider", "cut", {{"retryable", true}, {"textShown", true}});
  for (const bool listed : {false, true}) {
    Harness h;
    Script script;
    script.model_responses = {shown, response({text_part("from B")})};
    json cascade{{"strategy", "cascade"}, {"models", {"B"}}};
    if (listed) cascade["errors"] = {"cut"};
    json defs =
        definitions({definition("fallback", "cascade", cascade), definition("retry", "once", {{"maxAttempts", 1}, {"retryableErrors", {"cut"}}})});
    json reply = run_prompt(h, script, prompt_spec({{"model", "A"}, {"fallback", "cascade"}, {"retry", "once"}, {"definitions", defs}}));
    INFO("listed: " << listed);
    if (listed) {
      REQUIRE(reply["value"]["steps"].back()["text"] == "from B");
      REQUIRE(models_called(script) == std::vector<std::string>{"A", "B"});
    } else {
      REQUIRE(reply["error"]["message"] == "cut");
      REQUIRE(models_called(script) == std::vector<std::string>{"A"});
    }
  }
}

TEST_CASE("a cascade does not move on after an error that is neither retryable nor listed", "[resilience]") {
  Harness h;
  Script script;
  script.model_responses = {error_response("authentication", "bad key")};
  json spec = prompt_spec({{"model", "A"},
                           {"fallback", "cascade"},
                           {"definitions", definitions({definition("fallback", "cascade", {{"strategy", "cascade"}, {"models", {"B"}}})})}});
  json reply = run_prompt(h, script, spec);
  REQUIRE(reply["error"]["kind"] == "authentication");
  REQUIRE(models_called(script) == std::vector<std::string>{"A"});
}

TEST_CASE("a circuit breaker on a tool opens, fails fast, half-opens after its timeout and closes", "[resilience]") {
  Harness h;
  Script script;
  int calls = 0;
  bool healthy = false;
  script.callbacks["tool:api"] = [&](const json&) -> json {
    ++calls;
    if (!healthy) throw std::runtime_error("503");
    return "ok";
  };
  // Steps 1-2 fail (threshold 2 opens it), step 3 is refused without a call; before step 4 the
  // reset timeout passes (a hook moves the clock) and the trial call succeeds.
  script.callbacks["hook"] = [&](const json& args) -> json {
    if (args[0]["stepNumber"] == 3) {
      h.clock += 5000;
      healthy = true;
    }
    return nullptr;
  };
  script.model_responses = {calls_tool("api"), calls_tool("api"), calls_tool("api"), calls_tool("api"), response({text_part("done")})};
  json spec = prompt_spec({{"tools", json::array({tool_named("api", {{"circuitBreaker", "api"}})})},
                           {"hooks", {"hook"}},
                           {"definitions", definitions({definition("circuitBreaker", "api", {{"failureThreshold", 2}, {"resetTimeout", 5000}})})}});
  json reply = run_prompt(h, script, spec);
  REQUIRE(reply["ok"] == true);
  REQUIRE(calls == 3);  // the open breaker refused the third call
  std::vector<std::string> states;
  for (const auto& e : run_events(h, "circuit-state")) states.push_back(e["from"].get<std::string>() + "->" + e["to"].get<std::string>());
  REQUIRE(states == std::vector<std::string>{"closed->open", "open->half-open", "half-open->closed"});
  const json refused = run_events(h, "tool-error")[2];
  CHECK_THAT(refused["error"].get<std::string>(), Catch::Contains("circuit breaker \"api\" is open"));
}

TEST_CASE("a token budget stops the run at its limit, with a warning first", "[resilience]") {
  Harness h;
  Script script;
  script.callbacks["tool:weather"] = [](const json&) -> json { return "sunny"; };
  // Every response uses 30 tokens (10 in, 20 out); the budget counts output only, so no call is
  // refused for its input before it is made (that check has its own tests below).
  script.model_responses = {calls_tool("weather"), calls_tool("weather"), calls_tool("weather")};
  json spec = prompt_spec(
      {{"tools", json::array({tool_named("weather")})},
       {"definitions", definitions({definition("constraint", "budget", {{"type", "tokens"}, {"max", 40}, {"warn", 20}, {"track", {"output"}}})})}});
  json reply = run_prompt(h, script, spec);
  REQUIRE(reply["error"]["kind"] == "budget");
  REQUIRE(reply["error"]["constraint"] == "budget");
  REQUIRE(reply_error_message(reply) == "constraint \"budget\" exceeded: 40 of 40 tokens used");
  REQUIRE(script.model_requests.size() == 2);
  REQUIRE(run_events(h, "constraint-warning").size() == 1);
  REQUIRE(run_events(h, "constraint-exceeded").size() == 1);
}

TEST_CASE("a graceful duration constraint ends the loop after the current step", "[resilience]") {
  Harness h;
  Script script;
  script.callbacks["tool:slow"] = [&](const json&) -> json {
    h.clock += 600;
    return "done";
  };
  script.model_responses = {calls_tool("slow"), calls_tool("slow"), calls_tool("slow")};
  json spec = prompt_spec({{"tools", json::array({tool_named("slow")})},
                           {"definitions", definitions({definition("constraint", "time", {{"type", "duration"}, {"max", 1000}})})}});
  json reply = run_prompt(h, script, spec);
  REQUIRE(reply["value"]["finishReason"] == "budget");
  REQUIRE(reply["value"]["steps"].size() == 2);
  REQUIRE(run_events(h, "budget-stop")[0]["constraint"] == "time");
}

TEST_CASE("a run timeout cancels the run's pending ops with a timeout error", "[resilience]") {
  Harness h;
  h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", prompt_spec({{"options", {{"timeoutMs", 5000}}}})}});
  bool fired = false;
  REQUIRE(h.run([&](Harness& harness) {
    REQUIRE(!fired);
    // Ops: the deadline timer and the model call. Only the timer completes.
    for (const auto& op : harness.host.started)
      if (op["op"] == "timer.sleep") {
        harness.clock = 5000;
        harness.post(Harness::done_ok(op["id"].get<OpId>(), nullptr));
        fired = true;
      }
  }));
  auto reply = h.reply(1);
  REQUIRE(reply);
  REQUIRE((*reply)["error"]["kind"] == "timeout");
  REQUIRE(reply_error_message(*reply) == "the run timed out after 5000 ms");
  REQUIRE(h.host.cancelled.size() == 1);  // the model call
}

TEST_CASE("a finished run's deadline timer is cancelled", "[resilience]") {
  Harness h;
  h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", prompt_spec({{"options", {{"timeoutMs", 60000}}}})}});
  OpId deadline = 0;
  REQUIRE(h.run([&](Harness& harness) {
    for (const auto& op : harness.host.started) {
      if (op["op"] == "timer.sleep") deadline = op["id"].get<OpId>();
      if (op["op"] == "model.generate") harness.post(Harness::done_ok(op["id"].get<OpId>(), response({text_part("quick")})));
    }
  }));
  REQUIRE((*h.reply(1))["value"]["steps"].back()["text"] == "quick");
  REQUIRE(deadline != 0);
  REQUIRE(h.host.cancelled == std::vector<OpId>{deadline});
  REQUIRE(h.engine.loop().pending_op_count() == 0);
}

TEST_CASE("a rate constraint spaces 50 concurrent tool calls into windows", "[resilience]") {
  Harness h;
  Script script;
  script.callbacks["tool:api"] = [](const json&) -> json { return "ok"; };
  script.model_responses = {calls_tool("api", 50), response({text_part("done")})};
  json spec = prompt_spec(
      {{"tools", json::array({tool_named("api")})},
       {"definitions", definitions({definition("constraint", "rps", {{"type", "rate"}, {"requests", 10}, {"period", 1000}, {"scope", "tool"}})})}});
  json reply = run_prompt(h, script, spec);
  REQUIRE(reply["ok"] == true);
  std::map<double, int> waits;
  for (const auto& e : run_events(h, "rate-limited")) ++waits[e["waitMs"].get<double>()];
  // All 50 asked at once: 10 start now, then 10 per second.
  REQUIRE(waits == std::map<double, int>{{1000, 10}, {2000, 10}, {3000, 10}, {4000, 10}});
}

TEST_CASE("bad policy definitions and references are refused with what was expected", "[resilience]") {
  // A definition or a name the user got wrong is a "config" error (ConfigError in JS); a spec the
  // host got wrong (its wire shape) is a "protocol" error.
  auto refused = [](json spec, const char* kind = "config") {
    Harness h;
    h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", prompt_spec(std::move(spec))}});
    REQUIRE(h.run([](Harness&) {}));
    auto reply = h.reply(1);
    REQUIRE(reply);
    INFO(reply_error_message(*reply));
    CHECK((*reply)["error"]["kind"] == kind);
    REQUIRE(h.engine.active_runs() == 0);
    return reply_error_message(*reply);
  };
  json retries = definitions({definition("retry", "quick"), definition("retry", "slow")});
  CHECK_THAT(refused({{"tools", json::array({tool_named("t", {{"retry", "nope"}})})}, {"definitions", retries}}),
             Catch::Contains("unknown retry policy \"nope\" (defined: quick, slow)"));
  CHECK_THAT(refused({{"tools", json::array({tool_named("t", {{"retry", "quik"}})})}, {"definitions", retries}}),
             Catch::Contains("unknown retry policy \"quik\" (did you mean \"quick\"? defined: quick, slow)"));
  CHECK_THAT(refused({{"tools", json::array({tool_named("t", {{"retries", "quick"}})})}, {"definitions", retries}}, "protocol"),
             Catch::Contains("tool \"t\": unknown option \"retries\" (did you mean \"retry\"?"));
  CHECK_THAT(refused({{"circuitBreaker", "cb"}}), Catch::Contains("unknown circuit breaker \"cb\" (defined: none)"));
  CHECK_THAT(refused({{"definitions", definitions({definition("retry", "r", {{"maxAttempts", 0}})})}}),
             Catch::Contains("retry policy \"r\": \"maxAttempts\" must be an integer from 1 to 100, got 0"));
  CHECK_THAT(refused({{"definitions", definitions({definition("retry", "r", {{"maxAttempt", 3}})})}}),
             Catch::Contains("retry policy \"r\": unknown option \"maxAttempt\" (did you mean \"maxAttempts\"?"));
  CHECK_THAT(refused({{"definitions", definitions({definition("retyr", "r")})}}, "protocol"),
             Catch::Contains("unknown definition kind \"retyr\" (did you mean \"retry\"?"));
  CHECK_THAT(refused({{"definitions", definitions({definition("retry", "r"), definition("retry", "r")})}}),
             Catch::Contains("retry policy \"r\" is defined twice"));
  CHECK_THAT(refused({{"definitions", definitions({definition("constraint", "b", {{"type", "tokens"}, {"max", -5}})})}}),
             Catch::Contains("constraint \"b\": \"max\" must be a number > 0, got -5"));
  CHECK_THAT(refused({{"definitions", definitions({definition("circuitBreaker", "cb", {{"failureThreshold", 0}})})}}),
             Catch::Contains("circuit breaker \"cb\""));
  CHECK_THAT(refused({{"definitions", definitions({definition("constraint", "r", {{"type", "rate"}, {"requests", 10}, {"period", 0}})})}}),
             Catch::Contains("'period' must be a number > 0"));
  json cycle = definitions({definition("fallback", "toB", {{"strategy", "alternative"}, {"tools", {"b"}}}),
                            definition("fallback", "toA", {{"strategy", "alternative"}, {"tools", {"a"}}})});
  CHECK_THAT(
      refused({{"tools", json::array({tool_named("a", {{"fallback", "toB"}}), tool_named("b", {{"fallback", "toA"}})})}, {"definitions", cycle}}),
      Catch::Contains("fallback cycle: a -> b -> a"));
  json cascade = definitions({definition("fallback", "models", {{"strategy", "cascade"}, {"models", {"B"}}})});
  CHECK_THAT(refused({{"tools", json::array({tool_named("a", {{"fallback", "models"}})})}, {"definitions", cascade}}),
             Catch::Contains("is a model cascade"));
  json same_twice = definitions({definition("fallback", "loop", {{"strategy", "cascade"}, {"models", {"B", "B"}}})});
  CHECK_THAT(refused({{"fallback", "loop"}, {"definitions", same_twice}}), Catch::Contains("lists the model \"B\" twice"));
  CHECK_THAT(refused({{"options", {{"timeoutMs", -1}}}}, "protocol"),
             Catch::Contains("\"timeoutMs\" must be a number > 0 and <= 1000000000000, got -1"));
  CHECK_THAT(refused({{"parentRun", 99}}, "protocol"), Catch::Contains("no active run with id 99"));
}

TEST_CASE("breakers and the ledger answer commands from a running prompt's own code", "[resilience]") {
  Harness h;
  Script script;
  std::vector<json> replies;
  int command = 100;
  // The tool asks the engine, like ctx.circuitBreaker(name).execute and ctx.checkConstraints do.
  script.callbacks["tool:probe"] = [&](const json&) -> json {
    h.post(json{{"type", "circuit.admit"}, {"id", ++command}, {"run", 1}, {"name", "cb"}});
    h.post(json{{"type", "circuit.record"}, {"id", ++command}, {"run", 1}, {"name", "cb"}, {"outcome", "failure"}});
    h.post(json{{"type", "circuit.admit"}, {"id", ++command}, {"run", 1}, {"name", "cb"}});
    h.post(json{{"type", "constraints.check"}, {"id", ++command}, {"run", 1}});
    h.post(json{{"type", "circuit.admit"}, {"id", ++command}, {"run", 1}, {"name", "missing"}});
    return "probed";
  };
  script.model_responses = {calls_tool("probe"), response({text_part("done")})};
  json spec = prompt_spec({{"tools", json::array({tool_named("probe")})},
                           {"definitions", definitions({definition("circuitBreaker", "cb", {{"failureThreshold", 1}, {"resetTimeout", 1000}})})}});
  REQUIRE(run_prompt(h, script, spec)["ok"] == true);
  REQUIRE((*h.reply(101))["value"]["state"] == "closed");
  REQUIRE((*h.reply(102))["value"]["state"] == "open");
  REQUIRE((*h.reply(103))["error"]["kind"] == "circuit_open");
  REQUIRE((*h.reply(103))["error"]["retryInMs"] == 1000);
  REQUIRE((*h.reply(104))["value"]["inputTokens"] == 10);
  CHECK_THAT((*h.reply(105))["error"]["message"].get<std::string>(), Catch::Contains("unknown circuit breaker \"missing\" (defined: cb)"));
}

namespace {

// The exact o200k tokens of a request as the engine predicts them (message rule + reply priming).
std::size_t o200k_request_tokens(const json& messages) {
  static const state::BpeEncoding o200k = [] {
    std::ifstream in(std::string(LMTHING_TOKENIZER_DIR) + "/o200k_base.bpe", std::ios::binary);
    return state::BpeEncoding::load(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  }();
  return state::count_messages_tokens(messages, [](std::string_view text) { return o200k.count(text); });
}

bool any_model_op(const Harness& h) {
  for (const json& op : h.host.started)
    if (op["op"] == "model.generate") return true;
  return false;
}

}  // namespace

TEST_CASE("a token budget refuses a call whose input alone exceeds what is left, before the call", "[resilience][budget]") {
  const json messages =
      json::array({json{{"role", "user"}, {"content", "Summarize the weather reports of the last ten years for Paris, Lyon and Nice."}}});
  const std::size_t predicted = o200k_request_tokens(messages);
  const auto spec = [&](double max) {
    return prompt_spec({{"model", "openai:gpt-4o"},
                        {"messages", messages},
                        {"definitions", definitions({definition("constraint", "budget", {{"type", "tokens"}, {"max", max}})})}});
  };
  SECTION("one token short: no model op is handed out") {
    Harness h;
    Script script;
    json reply = run_prompt(h, script, spec(static_cast<double>(predicted - 1)));
    REQUIRE(reply["ok"] == false);
    REQUIRE(reply["error"]["kind"] == "budget");
    REQUIRE(reply["error"]["code"] == "BUDGET_EXCEEDED");
    REQUIRE(reply["error"]["constraint"] == "budget");
    REQUIRE(reply["error"]["predictedTokens"] == predicted);
    REQUIRE(reply["error"]["remainingTokens"] == predicted - 1);
    REQUIRE(reply_error_message(reply) == "constraint \"budget\": the next model call was not made: its input alone is " + std::to_string(predicted) +
                                              " tokens (exact, o200k_base) but only " + std::to_string(predicted - 1) + " of " +
                                              std::to_string(predicted - 1) + " remain (0 used)");
    REQUIRE_FALSE(any_model_op(h));
  }
  SECTION("exactly enough: the call is made") {
    Harness h;
    Script script;
    script.model_responses = {response({text_part("ok")})};
    json reply = run_prompt(h, script, spec(static_cast<double>(predicted)));
    REQUIRE(reply["ok"] == true);
    REQUIRE(script.model_requests.size() == 1);
  }
}

TEST_CASE("the pre-call check counts what was used: a later step is refused when its input no longer fits", "[resilience][budget]") {
  Harness h;
  Script script;
  script.callbacks["tool:weather"] = [](const json&) -> json { return std::string(1000, 'z'); };
  // Each response reports 30 tokens; the second step's input (with a 1000-character tool result) is more than the 170 left.
  script.model_responses = {calls_tool("weather"), response({text_part("ok")})};
  json spec = prompt_spec({{"tools", json::array({tool_named("weather")})},
                           {"definitions", definitions({definition("constraint", "budget", {{"type", "tokens"}, {"max", 200}})})}});
  json reply = run_prompt(h, script, spec);
  REQUIRE(reply["error"]["kind"] == "budget");
  REQUIRE(reply["error"]["remainingTokens"] == 170);
  REQUIRE(reply["error"]["stepNumber"] == 1);
  REQUIRE_THAT(reply_error_message(reply), Catch::Contains("(estimated)") && Catch::Contains("only 170 of 200 remain (30 used)"));
  REQUIRE(script.model_requests.size() == 1);
}

TEST_CASE("a budget that tracks only output tokens makes no pre-call check", "[resilience][budget]") {
  Harness h;
  Script script;
  script.model_responses = {response({text_part("ok")})};
  json spec =
      prompt_spec({{"messages", json::array({json{{"role", "user"}, {"content", std::string(2000, 'q')}}})},
                   {"definitions", definitions({definition("constraint", "out", {{"type", "tokens"}, {"max", 50}, {"track", {"output"}}})})}});
  REQUIRE(run_prompt(h, script, spec)["ok"] == true);
}

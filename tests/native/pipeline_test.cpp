// The call pipeline and the definition registry (DESIGN.md §12): the order of the interceptors in a
// chain, what each position means for the others, and prompt runs and directive replies going
// through the same chains (same ops for the same policies), with every policy available to both.
#include <catch2/catch.hpp>

#include "agent/content.hpp"
#include "pipeline/registry.hpp"
#include "prompt_script.hpp"

using namespace lmthing;
using namespace lmthing::testing;

namespace {

json tool_with(const std::string& name, json options = json::object()) {
  return json{
      {"name", name}, {"description", name}, {"parameters", {{"type", "object"}}}, {"callback", "tool:" + name}, {"options", std::move(options)}};
}

std::vector<std::string> chain_of(pipeline::RunTree& tree, pipeline::CallKind kind, const json& options, pipeline::RunSettings settings = {}) {
  agent::ToolSpec tool;
  tool.name = "t";
  tool.options = options;
  pipeline::Target target{kind, &tool, options, settings, tree};
  return pipeline::build_chain(target)->names();
}

// A kind of op and what it names: "model.generate m", "callback.invoke tool:x", "timer.sleep 100".
std::vector<std::string> op_trace(const ScriptedHost& host) {
  std::vector<std::string> out;
  for (const auto& op : host.started) {
    std::string kind = op["op"];
    if (kind == "model.generate")
      out.push_back(kind + " " + op["model"].get<std::string>());
    else if (kind == "callback.invoke")
      out.push_back(kind + " " + op["fn"].get<std::string>());
    else if (kind == "timer.sleep")
      out.push_back(kind + " " + format_ms(op["ms"].get<double>()));
    else
      out.push_back(kind);
  }
  return out;
}

}  // namespace

TEST_CASE("a chain holds the interceptors that apply to its target, in the registered order", "[pipeline]") {
  Harness h;
  pipeline::RunTree tree(h.engine.loop(), 1, 1);
  pipeline::define_all(
      tree, definitions({definition("retry", "r"), definition("fallback", "alt", {{"strategy", "default"}, {"value", 0}}),
                         definition("fallback", "models", {{"strategy", "cascade"}, {"models", {"B"}}}), definition("circuitBreaker", "cb"),
                         definition("constraint", "rps", {{"type", "rate"}, {"requests", 5}, {"period", 1000}, {"scope", "all"}}),
                         definition("approval", "ok"), definition("validator", "v", {{"schema", {{"type", "string"}}}})}));
  // Everything at once, outermost first.
  json all{{"approval", "ok"}, {"validator", "v"}, {"fallback", "alt"}, {"retry", "r"}, {"circuitBreaker", "cb"}, {"timeoutMs", 100}};
  CHECK(chain_of(tree, pipeline::CallKind::Tool, all) ==
        std::vector<std::string>{"gate", "output_validator", "fallback", "retry", "rate", "breaker", "timeout", "observe_attempt"});
  // Only what a tool asks for (and the tree's rate constraint, which covers every call).
  CHECK(chain_of(tree, pipeline::CallKind::Tool, {{"retry", "r"}}) == std::vector<std::string>{"retry", "rate", "observe_attempt"});
  // A run's model chain: the default retry rule, the budget ledger, and its named policies.
  pipeline::RunSettings settings;
  settings.model_options = {{"fallback", "models"}, {"circuitBreaker", "cb"}};
  settings.model_timeout_ms = 50;
  CHECK(chain_of(tree, pipeline::CallKind::Model, settings.model_options, settings) ==
        std::vector<std::string>{"fallback", "retry", "budget", "rate", "breaker", "timeout", "observe_attempt"});
  // Every registered tool option is known, and only those.
  CHECK(pipeline::known_tool_options() == std::vector<std::string>{"guards", "approval", "cache", "validator", "retryOnFailure", "maxRetries",
                                                                   "fallback", "retry", "circuitBreaker", "timeoutMs"});
}

TEST_CASE("the gate is outside retry: an approved call that fails is retried without asking again", "[pipeline]") {
  Harness h;
  Script script;
  int attempts = 0;
  script.callbacks["tool:flaky"] = [&](const json&) -> json {
    if (++attempts < 3) throw std::runtime_error("ECONNRESET");
    return "done";
  };
  std::vector<json> calls{call_part("c1", "flaky", json::object())};
  script.model_responses = {response(calls, "tool-calls"), response({text_part("ok")})};
  int asked = 0;
  // The approval ask is answered through approval.respond by the test itself.
  json spec = prompt_spec(
      {{"host", "h"},
       {"tools", json::array({tool_with("flaky", {{"approval", "go"}, {"retry", "thrice"}})})},
       {"definitions", definitions({definition("approval", "go"), definition("retry", "thrice", {{"maxAttempts", 3}, {"baseDelay", 10}})})}});
  h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", spec}});
  std::size_t seen = 0;
  REQUIRE(h.run([&](Harness& hh) {
    for (; seen < hh.host.started.size(); ++seen)
      if (hh.host.started[seen]["op"] == "approval.ask") {
        ++asked;
        hh.post(Harness::done_ok(hh.host.started[seen]["id"].get<OpId>(), "approve"));
      }
    script(hh);
  }));
  REQUIRE((*h.reply(1))["ok"] == true);
  CHECK(asked == 1);
  CHECK(attempts == 3);
}

TEST_CASE("the output validator is outside fallback: a default value is validated too", "[pipeline]") {
  Harness h;
  Script script;
  script.callbacks["tool:down"] = [](const json&) -> json { throw std::runtime_error("down"); };
  std::vector<json> calls{call_part("c1", "down", json::object())};
  script.model_responses = {response(calls, "tool-calls"), response({text_part("ok")})};
  json spec = prompt_spec({{"tools", json::array({tool_with("down", {{"fallback", "zero"}, {"validator", "positive"}, {"retryOnFailure", true}})})},
                           {"definitions", definitions({definition("fallback", "zero", {{"strategy", "default"}, {"value", 0}}),
                                                        definition("validator", "positive", {{"schema", {{"type", "number"}, {"minimum", 1}}}})})}});
  json reply = run_prompt(h, script, spec);
  REQUIRE(reply["ok"] == true);
  auto validation = run_events(h, "validation");
  REQUIRE(validation.size() == 1);
  CHECK(validation[0]["valid"] == false);
  CHECK(run_events(h, "fallback").size() == 1);
}

TEST_CASE("a prompt step and a directive reply make the same ops for the same policies", "[pipeline]") {
  // A model call that fails once with a rate limit, then a tool call that fails once and is retried.
  auto respond = [](Harness& h, std::size_t& seen, int& model_calls, int& tool_calls) {
    for (; seen < h.host.started.size(); ++seen) {
      const json& op = h.host.started[seen];
      const OpId id = op["id"].get<OpId>();
      if (op["op"] == "timer.sleep") {
        h.clock += op["ms"].get<double>();
        h.post(Harness::done_ok(id, nullptr));
      } else if (op["op"] == "model.generate") {
        ++model_calls;
        if (model_calls == 1)
          h.post(json{
              {"type", "op.done"}, {"id", id}, {"ok", false}, {"error", {{"kind", "rate_limit"}, {"message", "slow down"}, {"retryAfterMs", 500}}}});
        else if (model_calls == 2)
          h.post(Harness::done_ok(id, response({call_part("c1", "lookup", json::object())}, "tool-calls")));
        else
          h.post(Harness::done_ok(id, response({text_part("found")})));
      } else if (op["op"] == "callback.invoke") {
        if (++tool_calls == 1)
          h.post(Harness::done_error(id, "callback", "ECONNRESET"));
        else
          h.post(Harness::done_ok(id, "value"));
      }
    }
  };
  json retry = definitions({definition("retry", "again", {{"maxAttempts", 2}, {"baseDelay", 100}})});
  json lookup = tool_with("lookup", {{"retry", "again"}});

  Harness prompt;
  prompt.post(
      json{{"type", "run.start"}, {"id", 1}, {"spec", prompt_spec({{"model", "m"}, {"tools", json::array({lookup})}, {"definitions", retry}})}});
  std::size_t seen = 0;
  int model_calls = 0, tool_calls = 0;
  REQUIRE(prompt.run([&](Harness& h) { respond(h, seen, model_calls, tool_calls); }));
  REQUIRE((*prompt.reply(1))["ok"] == true);

  Harness directive;
  directive.post(
      json{{"type", "run.start"}, {"id", 1}, {"spec", {{"kind", "conversation"}, {"models", {{"default", "m"}}}, {"definitions", retry}}}});
  json enable = lookup;
  enable.update({{"type", "conversation.tool.enable"}, {"id", 2}, {"run", 1}, {"conversation", 0}});
  directive.post(enable);
  directive.post(json{{"type", "conversation.append"},
                      {"id", 3},
                      {"run", 1},
                      {"conversation", 0},
                      {"message", {{"role", "user"}, {"content", "Weather in Paris?"}}}});
  directive.post(json{{"type", "conversation.reply"}, {"id", 4}, {"run", 1}, {"conversation", 0}});
  seen = 0;
  model_calls = tool_calls = 0;
  bool ended = false;
  REQUIRE(directive.run([&](Harness& h) {
    respond(h, seen, model_calls, tool_calls);
    if (h.inbox.empty() && !ended && h.reply(4)) {
      h.post(json{{"type", "conversation.end"}, {"id", 5}, {"run", 1}, {"conversation", 0}, {"ok", true}});
      ended = true;
    }
  }));
  REQUIRE((*directive.reply(4))["ok"] == true);
  REQUIRE(agent::text_of((*directive.reply(4))["value"]["message"]["content"]) == "found");

  const std::vector<std::string> expected{
      "model.generate m", "timer.sleep 2000", "model.generate m", "callback.invoke tool:lookup", "timer.sleep 100", "callback.invoke tool:lookup",
      "model.generate m"};
  CHECK(op_trace(prompt.host) == expected);
  CHECK(op_trace(directive.host) == expected);
}

TEST_CASE("directive runs get every policy: an approval from a branch, a budget across branches", "[pipeline]") {
  Harness h;
  json spec{{"kind", "conversation"},
            {"models", {{"default", "m"}}},
            {"host", "h9"},
            {"definitions", definitions({definition("approval", "write"),
                                         definition("constraint", "budget", {{"type", "tokens"}, {"max", 40}, {"track", {"output"}}})})}};
  h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", spec}});
  h.post(json{{"type", "conversation.branch"}, {"id", 2}, {"run", 1}, {"conversation", 0}, {"name", "a"}});
  REQUIRE(h.engine.loop().turn(""));  // deliver nothing: the batch is taken by run() below
  std::size_t seen = 0;
  int stage = 0;
  std::vector<json> asks;
  REQUIRE(h.run([&](Harness& hh) {
    for (; seen < hh.host.started.size(); ++seen) {
      const json& op = hh.host.started[seen];
      const OpId id = op["id"].get<OpId>();
      if (op["op"] == "approval.ask") {
        asks.push_back(op);
        hh.post(Harness::done_ok(id, "deny"));
      } else if (op["op"] == "model.generate") {
        // Each call uses 20 output tokens: the branch's two calls use up the tree's output budget of 40.
        const json content = (op.contains("messages") ? op["messages"] : op["conversation"]["append"]).back()["role"] == "tool"
                                 ? json::array({text_part("done")})
                                 : json::array({call_part("c", "write", {{"path", "a"}})});
        json r{{"content", content}, {"finishReason", "stop"}, {"usage", {{"inputTokens", 10}, {"outputTokens", 20}}}};
        hh.post(Harness::done_ok(id, r));
      }
    }
    if (!hh.inbox.empty()) return;
    switch (stage++) {
      case 0: {
        json tool = tool_with("write", {{"approval", "write"}});
        tool.update({{"type", "conversation.tool.enable"}, {"id", 10}, {"run", 1}, {"conversation", 1}});
        hh.post(tool);
        hh.post(json{
            {"type", "conversation.append"}, {"id", 11}, {"run", 1}, {"conversation", 1}, {"message", {{"role", "user"}, {"content", "write a"}}}});
        hh.post(json{{"type", "conversation.reply"}, {"id", 12}, {"run", 1}, {"conversation", 1}});
        break;
      }
      case 1: hh.post(json{{"type", "conversation.reply"}, {"id", 13}, {"run", 1}, {"conversation", 0}}); break;
      default: hh.post(json{{"type", "conversation.end"}, {"id", 14}, {"run", 1}, {"conversation", 0}, {"ok", true}});
    }
  }));
  // The branch's tool call asked the run's approval, with the branch's path and the run's host.
  REQUIRE(asks.size() == 1);
  CHECK(asks[0]["host"] == "h9");
  CHECK(asks[0]["path"] == json::array({"root", "a"}));
  // The denial went back to the model as the tool's error; the branch's reply finished.
  CHECK((*h.reply(12))["ok"] == true);
  // Two calls used 40 output tokens of 40: the root's reply is refused by the tree's budget.
  CHECK((*h.reply(13))["error"]["kind"] == "budget");
}

TEST_CASE("sub-agents nest only as deep as the tree allows", "[pipeline]") {
  Harness h;
  h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", prompt_spec({{"limits", {{"maxDepth", 1}}}})}});
  h.post(json{{"type", "run.start"}, {"id", 2}, {"spec", prompt_spec({{"parentRun", 1}})}});
  h.post(json{{"type", "run.start"}, {"id", 3}, {"spec", prompt_spec({{"parentRun", 2}})}});
  REQUIRE(h.run([](Harness& hh) {
    for (const auto& op : hh.host.started)
      if (op["op"] == "model.generate" && op["run"] != 3) hh.post(Harness::done_ok(op["id"].get<OpId>(), response({text_part("x")})));
    hh.host.started.clear();
  }));
  CHECK((*h.reply(2))["ok"] == true);
  CHECK((*h.reply(3))["error"]["kind"] == "limit");
  CHECK((*h.reply(3))["error"]["limit"] == "maxDepth");
}

// Human in the loop, engine side: approvals (timeouts, default actions, answers by id, parallel
// requests, modify), guards in each onFail mode, output and response validators with retries,
// interactions re-asked on invalid answers. The host is scripted; time is virtual.
#include <catch2/catch.hpp>
#include <functional>
#include <optional>
#include <set>

#include "policy/interaction.hpp"
#include "prompt_script.hpp"
#include "scripted_host.hpp"

using namespace lmthing;
using namespace lmthing::testing;

namespace {

json human_call_part(const std::string& id, const std::string& name, json args) {
  return {{"type", "tool-call"}, {"toolCallId", id}, {"toolName", name}, {"args", std::move(args)}};
}
json human_response(std::vector<json> content) {
  const bool calls = !content.empty() && content.back()["type"] == "tool-call";
  return {{"content", json(std::move(content))}, {"finishReason", calls ? "tool-calls" : "stop"}, {"usage", json::object()}};
}

// A tool whose options (approval, guards, validator ...) are `options`.
json human_file_tool(const std::string& name, json options = json::object()) {
  return json{{"name", name},
              {"description", name + " a file"},
              {"parameters", {{"type", "object"}, {"properties", {{"path", {{"type", "string"}}}}}, {"required", {"path"}}}},
              {"callback", "tool:" + name},
              {"options", std::move(options)}};
}

// A host that answers ops as they come: the model from a script, callbacks from a table, approval
// and interaction asks through functions that may hold an op (nullopt) for the test to answer later.
struct HumanHost {
  std::vector<json> model_responses;
  std::map<std::string, std::function<json(const json& args)>> callbacks;
  std::function<std::optional<json>(const json& op)> approval = [](const json&) { return std::nullopt; };
  std::function<std::optional<json>(const json& op)> interaction = [](const json&) { return std::nullopt; };
  std::function<void(Harness&)> when_stuck;  // called when a wait brought nothing to answer
  std::vector<json> model_ops, held;
  std::vector<std::string> invoked;  // callback names, in call order
  std::size_t next_response = 0, answered = 0;

  void operator()(Harness& h) {
    bool posted = false;
    for (; answered < h.host.started.size(); ++answered) {
      const json& op = h.host.started[answered];
      const OpId id = op["id"].get<OpId>();
      const std::string kind = op["op"];
      std::optional<json> done;
      if (kind == "model.generate") {
        model_ops.push_back(op);
        done = Harness::done_ok(id, next_response < model_responses.size() ? model_responses[next_response++] : human_response({text_part("done")}));
      } else if (kind == "timer.sleep") {
        h.clock += op["ms"].get<double>();
        done = Harness::done_ok(id, nullptr);
      } else if (kind == "callback.invoke") {
        const std::string fn = op["fn"];
        invoked.push_back(fn);
        auto it = callbacks.find(fn);
        REQUIRE(it != callbacks.end());
        try {
          done = Harness::done_ok(id, it->second(op["args"]));
        } catch (const std::exception& e) {
          done = Harness::done_error(id, "callback", e.what());
        }
      } else {
        std::optional<json> value = kind == "approval.ask" ? approval(op) : interaction(op);
        if (value && value->contains("type"))
          done = *value;  // a whole op.done (e.g. an error)
        else if (value)
          done = Harness::done_ok(id, *value);
      }
      if (done) {
        h.post(*done);
        posted = true;
      } else {
        held.push_back(op);
      }
    }
    if (!posted && when_stuck) when_stuck(h);
  }

  int count(const std::string& fn) const { return static_cast<int>(std::count(invoked.begin(), invoked.end(), fn)); }
  // The tool results the model was sent in its n-th call.
  json tool_results_seen(std::size_t call) const {
    for (const auto& m : model_ops.at(call)["conversation"]["append"])
      if (m["role"] == "tool") return m["content"];
    return json::array();
  }
};

// A prompt spec with `extra` fields; for brevity the tests write human-in-the-loop definitions as
// lists of named configs under `approvals`, `guards`, `validators`, `interactions`, which become the
// spec's `definitions` entries ({kind, name, config}) here.
json human_spec_with(json extra) {
  json spec{{"kind", "prompt"}, {"model", "m"}, {"host", "h1"}, {"messages", json::array({{{"role", "user"}, {"content", "tidy the project"}}})}};
  json definitions = json::array();
  for (const auto& [list, kind] :
       {std::pair{"approvals", "approval"}, {"guards", "guard"}, {"validators", "validator"}, {"interactions", "interaction"}}) {
    if (!extra.contains(list)) continue;
    for (json config : extra[list]) {
      const std::string name = config["name"];
      config.erase("name");
      definitions.push_back(json{{"kind", kind}, {"name", name}, {"config", std::move(config)}});
    }
    extra.erase(list);
  }
  spec.update(extra);
  if (!definitions.empty()) spec["definitions"] = std::move(definitions);
  return spec;
}

json start_and_run(Harness& h, HumanHost& host, json spec) {
  h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", std::move(spec)}});
  REQUIRE(h.run(std::ref(host)));
  auto reply = h.reply(1);
  REQUIRE(reply);
  return *reply;
}

std::vector<json> human_events(const Harness& h, const std::string& type) {
  std::vector<json> out;
  for (const auto& e : h.host.events_of_type("run.event"))
    if (e["event"]["type"] == type) out.push_back(e["event"]);
  return out;
}

json approval_def(json extra = json::object()) {
  json a{{"name", "destructive"}, {"message", "Allow this change?"}, {"options", {"approve", "deny", "modify"}}};
  a.update(extra);
  return a;
}

}  // namespace

TEST_CASE("approval: the tool waits for the decision, then runs once", "[human]") {
  Harness h;
  HumanHost host;
  host.model_responses = {human_response({human_call_part("c1", "delete", {{"path", "a.txt"}})})};
  host.callbacks["tool:delete"] = [](const json& args) { return json{{"deleted", args[0]["path"]}}; };
  bool checked_pending = false;
  host.when_stuck = [&](Harness& hh) {
    // The approval is pending and the tool has not run.
    REQUIRE(host.held.size() == 1);
    REQUIRE(host.count("tool:delete") == 0);
    const json& ask = host.held[0];
    REQUIRE(ask["op"] == "approval.ask");
    REQUIRE(ask["host"] == "h1");
    REQUIRE(ask["name"] == "destructive");
    REQUIRE(ask["message"] == "Allow this change?");
    REQUIRE(ask["preview"] == json{{"toolName", "delete"}, {"args", {{"path", "a.txt"}}}});
    REQUIRE(ask["deadline"].is_null());
    REQUIRE(ask["toolCallId"] == "c1");
    checked_pending = true;
    hh.post(json{{"type", "approval.respond"}, {"id", "r1"}, {"request", ask["request"]}, {"decision", {{"action", "approve"}}}});
  };
  json reply = start_and_run(h, host,
                             human_spec_with({{"tools", json::array({human_file_tool("delete", {{"approval", "destructive"}})})},
                                              {"approvals", json::array({approval_def()})}}));
  REQUIRE(checked_pending);
  REQUIRE(reply["ok"] == true);
  REQUIRE(host.count("tool:delete") == 1);
  REQUIRE(h.reply("r1")->at("ok") == true);
  auto decisions = human_events(h, "approval-decision");
  REQUIRE(decisions.size() == 1);
  REQUIRE(decisions[0]["action"] == "approve");
  REQUIRE(decisions[0]["source"] == "respond");
  // The host was told to drop its own handler for the answered op.
  REQUIRE(std::find(h.host.cancelled.begin(), h.host.cancelled.end(), host.held[0]["id"].get<OpId>()) != h.host.cancelled.end());
  REQUIRE(host.tool_results_seen(1)[0]["result"] == json{{"deleted", "a.txt"}});
}

TEST_CASE("approval: a timeout applies the default action with the reason; the model sees the denial", "[human]") {
  Harness h;
  HumanHost host;
  host.model_responses = {human_response({human_call_part("c1", "delete", {{"path", "a.txt"}})})};
  host.callbacks["tool:delete"] = [](const json&) { return json("deleted"); };
  json reply = start_and_run(h, host,
                             human_spec_with({{"tools", json::array({human_file_tool("delete", {{"approval", "destructive"}})})},
                                              {"approvals", json::array({approval_def({{"timeoutMs", 500}})})}}));
  REQUIRE(reply["ok"] == true);
  REQUIRE(host.count("tool:delete") == 0);
  REQUIRE(host.held[0]["deadline"] == 500.0);
  auto decision = human_events(h, "approval-decision").at(0);
  REQUIRE(decision["action"] == "deny");
  REQUIRE(decision["source"] == "timeout");
  REQUIRE(decision["reason"] == "no decision within 500 ms; the default action (deny) was applied");
  const json seen = host.tool_results_seen(1)[0];
  REQUIRE(seen["isError"] == true);
  REQUIRE(seen["result"]["error"] == "The call of tool \"delete\" was denied: no decision within 500 ms; the default action (deny) was applied.");
}

TEST_CASE("approval: a failing handler or an invalid decision counts as the default action, with the reason", "[human]") {
  for (const bool throws : {true, false}) {
    Harness h;
    HumanHost host;
    host.model_responses = {human_response({human_call_part("c1", "delete", {{"path", "a.txt"}})})};
    host.callbacks["tool:delete"] = [](const json&) { return json("deleted"); };
    host.approval = [&](const json& op) -> std::optional<json> {
      if (throws) return Harness::done_error(op["id"].get<OpId>(), "callback", "dialog crashed");
      return json{{"action", "modify"}};  // modify without data
    };
    start_and_run(h, host,
                  human_spec_with({{"tools", json::array({human_file_tool("delete", {{"approval", "destructive"}})})},
                                   {"approvals", json::array({approval_def({{"defaultAction", "approve"}})})}}));
    auto decision = human_events(h, "approval-decision").at(0);
    REQUIRE(decision["action"] == "approve");
    if (throws) {
      REQUIRE(decision["source"] == "error");
      REQUIRE(decision["reason"] == "the approval handler failed: dialog crashed; the default action (approve) was applied");
    } else {
      REQUIRE(decision["source"] == "invalid");
      REQUIRE(decision["reason"].get<std::string>().find("needs \"modifiedData\"") != std::string::npos);
    }
    REQUIRE(host.count("tool:delete") == 1);
  }
}

TEST_CASE("approval: parallel calls get one request each, answered by id in any order; unknown ids are rejected", "[human]") {
  Harness h;
  HumanHost host;
  host.model_responses = {human_response({human_call_part("a", "delete", {{"path", "a"}}), human_call_part("b", "delete", {{"path", "b"}}),
                                          human_call_part("c", "delete", {{"path", "c"}})})};
  host.callbacks["tool:delete"] = [](const json& args) { return args[0]["path"]; };
  int stuck = 0;
  host.when_stuck = [&](Harness& hh) {
    ++stuck;
    REQUIRE(host.held.size() == 3);
    std::set<std::string> ids;
    for (const auto& op : host.held) ids.insert(op["request"].get<std::string>());
    REQUIRE(ids.size() == 3);
    hh.post(json{{"type", "approval.respond"}, {"id", "bad"}, {"request", "approval-99"}, {"decision", "approve"}});
    hh.post(json{{"type", "approval.respond"}, {"id", "c"}, {"request", host.held[2]["request"]}, {"decision", "approve"}});
    hh.post(json{
        {"type", "approval.respond"}, {"id", "a"}, {"request", host.held[0]["request"]}, {"decision", {{"action", "deny"}, {"reason", "keep it"}}}});
    hh.post(json{{"type", "approval.respond"},
                 {"id", "b"},
                 {"request", host.held[1]["request"]},
                 {"decision", {{"action", "modify"}, {"modifiedData", {{"path", "b2"}}}}}});
    hh.post(json{{"type", "approval.respond"}, {"id", "twice"}, {"request", host.held[2]["request"]}, {"decision", "approve"}});
  };
  json reply = start_and_run(h, host,
                             human_spec_with({{"tools", json::array({human_file_tool("delete", {{"approval", "destructive"}})})},
                                              {"approvals", json::array({approval_def()})}}));
  REQUIRE(stuck == 1);
  REQUIRE(reply["ok"] == true);
  auto bad = *h.reply("bad");
  REQUIRE(bad["ok"] == false);
  REQUIRE(bad["error"]["kind"] == "config");  // the answering code's mistake, not the host's message
  REQUIRE(bad["error"]["message"] ==
          "approval.respond: no pending approval request with id \"approval-99\" (pending: approval-1, approval-2, approval-3)");
  REQUIRE(h.reply("twice")->at("ok") == false);
  const json seen = host.tool_results_seen(1);
  REQUIRE(seen[0]["result"]["error"] == "The call of tool \"delete\" was denied: keep it.");
  REQUIRE(seen[1]["result"] == "b2");
  REQUIRE(seen[2]["result"] == "c");
  REQUIRE(host.count("tool:delete") == 2);
}

TEST_CASE("approval: modified arguments are validated again against the tool's schema", "[human]") {
  Harness h;
  HumanHost host;
  host.model_responses = {human_response({human_call_part("a", "delete", {{"path", "a"}})})};
  host.callbacks["tool:delete"] = [](const json& args) { return args[0]["path"]; };
  host.approval = [](const json&) -> std::optional<json> { return json{{"action", "modify"}, {"modifiedData", {{"path", 42}}}}; };
  start_and_run(h, host,
                human_spec_with({{"tools", json::array({human_file_tool("delete", {{"approval", "destructive"}})})},
                                 {"approvals", json::array({approval_def()})}}));
  REQUIRE(host.count("tool:delete") == 0);
  REQUIRE(host.tool_results_seen(1)[0]["result"]["error"] ==
          "The arguments the user modified for tool \"delete\" are invalid: /path: must be string");
}

TEST_CASE("approval: a decision the request does not offer is refused when given by id", "[human]") {
  Harness h;
  HumanHost host;
  host.model_responses = {human_response({human_call_part("a", "delete", {{"path", "a"}})})};
  host.callbacks["tool:delete"] = [](const json&) { return json("ok"); };
  int stuck = 0;
  host.when_stuck = [&](Harness& hh) {
    const std::string id = host.held[0]["request"];
    if (++stuck == 1)
      hh.post(json{{"type", "approval.respond"}, {"id", "x"}, {"request", id}, {"decision", "modify"}});
    else
      hh.post(json{{"type", "approval.respond"}, {"id", "y"}, {"request", id}, {"decision", "approve"}});
  };
  start_and_run(h, host,
                human_spec_with({{"tools", json::array({human_file_tool("delete", {{"approval", "destructive"}})})},
                                 {"approvals", json::array({approval_def({{"options", {"approve", "deny"}}})})}}));
  REQUIRE(h.reply("x")->at("error")["message"] ==
          "approval.respond \"approval-1\": action \"modify\" is not offered by approval \"destructive\" (options: approve, deny)");
  REQUIRE(h.reply("y")->at("ok") == true);
  REQUIRE(host.count("tool:delete") == 1);
}

TEST_CASE("approval: cancelling the run while an approval is pending aborts it; the tool never runs", "[human]") {
  Harness h;
  HumanHost host;
  host.model_responses = {human_response({human_call_part("a", "delete", {{"path", "a"}})})};
  host.callbacks["tool:delete"] = [](const json&) { return json("ok"); };
  host.when_stuck = [](Harness& hh) { hh.post(json{{"type", "run.cancel"}, {"id", "c"}, {"run", 1}}); };
  json reply = start_and_run(h, host,
                             human_spec_with({{"tools", json::array({human_file_tool("delete", {{"approval", "destructive"}})})},
                                              {"approvals", json::array({approval_def()})}}));
  REQUIRE(reply["error"]["kind"] == "aborted");
  REQUIRE(host.count("tool:delete") == 0);
}

TEST_CASE("guards: throw, skip, redirect and prompt-user", "[human]") {
  auto run_guard = [](const std::string& on_fail, HumanHost& host, Harness& h) {
    host.model_responses = {human_response({human_call_part("a", "delete", {{"path", "secret.env"}})})};
    host.callbacks["tool:delete"] = [](const json&) { return json("deleted"); };
    host.callbacks["tool:trash"] = [](const json& args) { return json("moved " + args[0]["path"].get<std::string>() + " to trash"); };
    host.callbacks["guard:secrets"] = [](const json& args) {
      REQUIRE(args[1]["toolName"] == "delete");
      return json{{"pass", args[0]["path"] != "secret.env"}, {"message", "secret files stay"}};
    };
    json guard{{"name", "noSecrets"}, {"condition", "guard:secrets"}, {"onFail", on_fail}, {"tools", {"delete"}}};
    if (on_fail == "redirect") guard["redirectTo"] = "trash";
    return start_and_run(
        h, host, human_spec_with({{"tools", json::array({human_file_tool("delete"), human_file_tool("trash")})}, {"guards", json::array({guard})}}));
  };
  SECTION("throw: the run fails with a guard error") {
    Harness h;
    HumanHost host;
    json reply = run_guard("throw", host, h);
    REQUIRE(reply["error"]["kind"] == "guard");
    REQUIRE(reply["error"]["message"] == "guard \"noSecrets\" refused tool \"delete\": secret files stay");
    auto verdict = human_events(h, "guard").at(0);
    REQUIRE(verdict["passed"] == false);
    REQUIRE(verdict["onFail"] == "throw");
  }
  SECTION("skip: the tool does not run; the model is told why") {
    Harness h;
    HumanHost host;
    run_guard("skip", host, h);
    REQUIRE(host.count("tool:delete") == 0);
    REQUIRE(host.tool_results_seen(1)[0]["result"] == json{{"skipped", true}, {"guard", "noSecrets"}, {"message", "secret files stay"}});
  }
  SECTION("redirect: the other tool runs with the same arguments") {
    Harness h;
    HumanHost host;
    run_guard("redirect", host, h);
    REQUIRE(host.count("tool:delete") == 0);
    REQUIRE(host.tool_results_seen(1)[0]["result"] == "moved secret.env to trash");
  }
  SECTION("prompt-user: the failure becomes an approval request") {
    Harness h;
    HumanHost host;
    host.approval = [](const json& op) -> std::optional<json> {
      REQUIRE(op["name"] == "noSecrets");
      REQUIRE(op["message"] == "secret files stay");
      return json("approve");
    };
    run_guard("prompt-user", host, h);
    REQUIRE(host.count("tool:delete") == 1);
    REQUIRE(human_events(h, "approval-decision").at(0)["action"] == "approve");
  }
  SECTION("a passing guard lets the call through and says so") {
    Harness h;
    HumanHost host;
    host.model_responses = {human_response({human_call_part("a", "delete", {{"path", "notes.txt"}})})};
    host.callbacks["tool:delete"] = [](const json&) { return json("deleted"); };
    host.callbacks["guard:secrets"] = [](const json& args) { return json(args[0]["path"] != "secret.env"); };
    start_and_run(h, host,
                  human_spec_with({{"tools", json::array({human_file_tool("delete", {{"guards", {"noSecrets"}}})})},
                                   {"guards", json::array({{{"name", "noSecrets"}, {"condition", "guard:secrets"}}})}}));
    REQUIRE(host.count("tool:delete") == 1);
    REQUIRE(human_events(h, "guard").at(0)["passed"] == true);
  }
}

TEST_CASE("a redirected call meets its target's guards (not the redirecting one) and a guard cannot redirect to a tool it guards", "[human]") {
  auto setup = [](HumanHost& host) {
    host.model_responses = {human_response({human_call_part("a", "delete", {{"path", "secret.env"}})})};
    host.callbacks["tool:delete"] = [](const json&) { return json("deleted"); };
    host.callbacks["tool:shred"] = [](const json&) { return json("shredded"); };
    host.callbacks["guard:refuse"] = [](const json&) { return json(false); };
  };
  json redirecting{{"name", "noSecrets"}, {"condition", "guard:refuse"}, {"onFail", "redirect"}, {"redirectTo", "shred"}};
  json shred_guard{{"name", "neverShred"}, {"condition", "guard:refuse"}, {"onFail", "skip"}, {"message", "shredding is off"}};
  SECTION("the target's own guard decides") {
    Harness h;
    HumanHost host;
    setup(host);
    start_and_run(
        h, host,
        human_spec_with(
            {{"tools", json::array({human_file_tool("delete", {{"guards", {"noSecrets"}}}), human_file_tool("shred", {{"guards", {"neverShred"}}})})},
             {"guards", json::array({redirecting, shred_guard})}}));
    REQUIRE(host.count("tool:delete") == 0);
    REQUIRE(host.count("tool:shred") == 0);
    REQUIRE(host.tool_results_seen(1)[0]["result"] == json{{"skipped", true}, {"guard", "neverShred"}, {"message", "shredding is off"}});
    REQUIRE(human_events(h, "guard").size() == 2);
  }
  SECTION("a redirect to a tool the same guard guards is refused before the run") {
    Harness h;
    HumanHost host;
    setup(host);
    json self = redirecting;
    self["redirectTo"] = "delete";
    json reply = start_and_run(
        h, host,
        human_spec_with({{"tools", json::array({human_file_tool("delete", {{"guards", {"noSecrets"}}})})}, {"guards", json::array({self})}}));
    REQUIRE(reply["error"]["kind"] == "config");
    REQUIRE_THAT(reply["error"]["message"].get<std::string>(),
                 Catch::Contains("guard \"noSecrets\": redirectTo names \"delete\", a tool the guard itself guards"));
    REQUIRE(host.count("tool:delete") == 0);
  }
}

TEST_CASE("validators: an invalid output goes back to the model, retried up to maxRetries, then a validation error", "[human]") {
  json validator{{"name", "wordCount"}, {"schema", {{"type", "object"}, {"required", {"words"}}}}, {"fn", "validate:words"}};
  auto setup = [&](HumanHost& host, int calls) {
    for (int i = 0; i < calls; ++i)
      host.model_responses.push_back(human_response({human_call_part("c" + std::to_string(i), "count", {{"path", "a"}})}));
    host.callbacks["validate:words"] = [](const json& args) {
      const bool ok = args[0]["words"].get<int>() > 0;
      return json{{"valid", ok}, {"errors", ok ? json::array() : json::array({"no words counted"})}, {"fix", "count again"}};
    };
  };
  SECTION("recovers within the retries") {
    Harness h;
    HumanHost host;
    setup(host, 2);
    int n = 0;
    host.callbacks["tool:count"] = [&](const json&) { return json{{"words", n++}}; };  // 0 (invalid) then 1
    json reply = start_and_run(
        h, host,
        human_spec_with(
            {{"tools", json::array({human_file_tool("count", {{"validator", "wordCount"}, {"retryOnFailure", true}, {"maxRetries", 1}})})},
             {"validators", json::array({validator})}}));
    REQUIRE(reply["ok"] == true);
    REQUIRE(host.tool_results_seen(1)[0]["result"]["error"] ==
            "The output of tool \"count\" failed validation \"wordCount\": no words counted Fix: count again");
    REQUIRE(host.tool_results_seen(2)[0]["result"] == json{{"words", 1}});
    auto events = human_events(h, "validation");
    REQUIRE(events.size() == 2);
    REQUIRE(events[0]["valid"] == false);
    REQUIRE(events[1]["valid"] == true);
  }
  SECTION("fails once the retries are used up; the schema is checked before the function") {
    Harness h;
    HumanHost host;
    setup(host, 3);
    host.callbacks["tool:count"] = [](const json&) { return json{{"lines", 3}}; };
    json reply = start_and_run(
        h, host,
        human_spec_with(
            {{"tools", json::array({human_file_tool("count", {{"validator", "wordCount"}, {"retryOnFailure", true}, {"maxRetries", 1}})})},
             {"validators", json::array({validator})}}));
    REQUIRE(reply["error"]["kind"] == "validation");
    REQUIRE(reply["error"]["message"] ==
            "The output of tool \"count\" failed validation \"wordCount\": (root): must have required property 'words' (after 1 retry)");
    REQUIRE(host.count("validate:words") == 0);
    REQUIRE(host.count("tool:count") == 2);
  }
  SECTION("the final answer can be validated and sent back") {
    Harness h;
    HumanHost host;
    host.model_responses = {human_response({text_part("maybe")}), human_response({text_part("{\"answer\": 42}")})};
    json reply = start_and_run(h, host,
                               human_spec_with({{"validators", json::array({{{"name", "json"}, {"schema", {{"type", "object"}}}}})},
                                                {"responseValidator", {{"validator", "json"}, {"retryOnFailure", true}}}}));
    REQUIRE(reply["value"]["steps"].back()["text"] == "{\"answer\": 42}");
    REQUIRE(host.model_ops[1]["conversation"]["append"].back()["content"] ==
            "Your answer failed validation \"json\": (root): must be object. Please answer again.");
  }
}

TEST_CASE("interactions: invalid answers are re-asked; timeouts use the default", "[human]") {
  json interactions = json::array(
      {{{"name", "pick"}, {"kind", "choice"}, {"message", "Which file?"}, {"choices", {"a.txt", "b.txt"}}},
       {{"name", "age"}, {"kind", "question"}, {"validation", {{"type", "integer"}, {"minimum", 0}}}, {"timeoutMs", 100}, {"default", 30}}});
  Harness h;
  HumanHost host;
  std::vector<json> answers = {json{{"value", "c.txt"}}, json{{"value", "b.txt"}}};
  std::size_t next = 0;
  host.interaction = [&](const json& op) -> std::optional<json> {
    if (op["name"] == "age") return std::nullopt;  // never answered: times out
    return answers.at(next++);
  };
  host.callbacks["tool:ask"] = [](const json&) { return json("asked"); };
  std::set<OpId> approved;
  int stuck = 0;
  host.when_stuck = [&](Harness& hh) {
    if (++stuck == 1) {
      hh.post(json{{"type", "interaction.request"}, {"id", "i1"}, {"run", 1}, {"name", "pick"}});
      hh.post(json{{"type", "interaction.request"}, {"id", "i2"}, {"run", 1}, {"name", "age"}});
      hh.post(json{{"type", "interaction.request"}, {"id", "i3"}, {"run", 1}, {"name", "nope"}});
    } else if (stuck == 2) {
      hh.post(json{{"type", "approval.request"}, {"id", "end"}, {"run", 1}, {"name", "go"}});
    } else {
      // Approve the approval.request's ask first, then the tool's.
      for (auto it = host.held.rbegin(); it != host.held.rend(); ++it)
        if ((*it)["op"] == "approval.ask" && approved.insert((*it)["id"].get<OpId>()).second) {
          hh.post(Harness::done_ok((*it)["id"].get<OpId>(), "approve"));
          return;
        }
    }
  };
  // The run waits on a tool whose approval the test holds, so commands arrive while it is live.
  host.model_responses = {human_response({human_call_part("a", "ask", {{"path", "x"}})})};
  json reply = start_and_run(h, host,
                             human_spec_with({{"tools", json::array({human_file_tool("ask", {{"approval", "go"}})})},
                                              {"approvals", json::array({{{"name", "go"}}})},
                                              {"interactions", interactions}}));
  REQUIRE(reply["ok"] == true);
  auto pick = *h.reply("i1");
  REQUIRE(pick["value"]["value"] == "b.txt");
  REQUIRE(pick["value"]["attempts"] == 2);
  auto invalid = human_events(h, "interaction-invalid");
  REQUIRE(invalid.at(0)["error"] == "\"c.txt\" is not one of the choices (\"a.txt\", \"b.txt\")");
  auto age = *h.reply("i2");
  REQUIRE(age["value"]["value"] == 30);
  REQUIRE(age["value"]["reason"] == "no answer in time; the default was used");
  REQUIRE(h.reply("i3")->at("error")["message"] == "interaction.request: unknown interaction \"nope\" (defined: pick, age)");
  REQUIRE(h.reply("end")->at("value")["action"] == "approve");
}

TEST_CASE("interactions: answers checked against the validation schema and skip rules", "[human]") {
  policy::InteractionSpec spec;
  spec.name = "q";
  spec.kind = "question";
  spec.validation = std::make_shared<const schema::Validator>(json{{"type", "string"}, {"minLength", 2}});
  REQUIRE(policy::check_answer(spec, json{{"value", "ok"}}).empty());
  REQUIRE(policy::check_answer(spec, json{{"value", "x"}}) == "the answer is invalid; (root): must NOT have fewer than 2 characters");
  REQUIRE(policy::check_answer(spec, json{{"skipped", true}}) == "an answer is required (skipping is not allowed)");
  spec.allow_skip = true;
  REQUIRE(policy::check_answer(spec, json{{"skipped", true}}).empty());
  spec.kind = "choice";
  spec.validation = nullptr;
  spec.choices = {"a", "b"};
  spec.multiple = true;
  REQUIRE(policy::check_answer(spec, json{{"value", {"a", "b"}}}).empty());
  REQUIRE(policy::check_answer(spec, json{{"value", {"a", "a"}}}) == "\"a\" is chosen twice");
  REQUIRE(policy::check_answer(spec, json{{"value", "a"}}) == "expected a list of choices (multiple), got \"a\"");
  REQUIRE(policy::check_answer(spec, json(3)) == "an answer must be {value} or {skipped: true}, got 3");
}

TEST_CASE("bad human-in-the-loop specs are refused naming what is wrong", "[human]") {
  auto refused = [](json extra) {
    Harness h;
    h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", human_spec_with(std::move(extra))}});
    REQUIRE(h.run([](Harness&) {}));
    return (*h.reply(1))["error"]["message"].get<std::string>();
  };
  REQUIRE(refused({{"tools", json::array({human_file_tool("delete", {{"approval", "nope"}})})}, {"approvals", json::array({approval_def()})}}) ==
          "unknown approval \"nope\" (defined: destructive)");
  REQUIRE(refused({{"tools", json::array({human_file_tool("delete", {{"guards", {"g"}}})})}}) == "unknown guard \"g\" (defined: none)");
  REQUIRE(
      refused({{"tools", json::array({human_file_tool("delete", {{"aproval", "destructive"}})})}, {"approvals", json::array({approval_def()})}}) ==
      "tool \"delete\": unknown option \"aproval\" (did you mean \"approval\"? known: guards, approval, cache, validator, "
      "retryOnFailure, maxRetries, fallback, retry, circuitBreaker, timeoutMs)");
  REQUIRE(refused({{"approvals", json::array({approval_def({{"defaultAction", "modify"}})})}}) ==
          "approval \"destructive\": \"defaultAction\" must be one of 'approve', 'deny', got \"modify\"");
  REQUIRE(refused({{"approvals", json::array({approval_def({{"options", {"approve", "maybe"}}})})}}) ==
          "approval \"destructive\": \"options\" must be a list of 'approve', 'deny', 'modify', got [\"approve\",\"maybe\"]");
  REQUIRE(refused({{"guards", json::array({{{"name", "g"}, {"condition", "c"}, {"onFail", "explode"}}})}}) ==
          "guard \"g\": \"onFail\" must be one of 'throw', 'skip', 'redirect', 'prompt-user', got \"explode\"");
  REQUIRE(refused({{"guards", json::array({{{"name", "g"}, {"condition", "c"}, {"onFail", "redirect"}}})}}) ==
          "guard \"g\": onFail \"redirect\" needs \"redirectTo\" (the tool that runs instead)");
  REQUIRE(refused({{"validators", json::array({{{"name", "v"}}})}}) == "validator \"v\": a validator needs a \"schema\", a \"fn\", or both");
  REQUIRE(refused({{"interactions", json::array({{{"name", "i"}, {"kind", "choice"}}})}}) ==
          "interaction \"i\": a choice needs a non-empty \"choices\" array (or a function that returns them)");
}

TEST_CASE("approval.request for a run that is not live is refused", "[human]") {
  Harness h;
  h.post(json{{"type", "approval.request"}, {"id", 5}, {"run", 7}, {"name", "x"}});
  REQUIRE(h.run([](Harness&) {}));
  REQUIRE((*h.reply(5))["error"]["message"] == "approval.request: no active prompt or directive run with id 7");
}

TEST_CASE("interaction.respond answers an open interaction by id; unknown ids are refused", "[human]") {
  Harness h;
  HumanHost host;
  host.model_responses = {human_response({human_call_part("a", "ask", {{"path", "x"}})})};
  host.callbacks["tool:ask"] = [](const json&) { return json("asked"); };
  int stuck = 0;
  host.when_stuck = [&](Harness& hh) {
    ++stuck;
    if (stuck == 1) {
      hh.post(json{{"type", "interaction.request"}, {"id", "q"}, {"run", 1}, {"name", "name"}});
    } else if (stuck == 2) {
      const json& ask = host.held.back();
      REQUIRE(ask["op"] == "interaction.ask");
      hh.post(json{{"type", "interaction.respond"}, {"id", "bad"}, {"request", "interaction-77"}, {"answer", {{"value", "x"}}}});
      hh.post(json{{"type", "interaction.respond"}, {"id", "shape"}, {"request", ask["request"]}, {"answer", 5}});
      hh.post(json{{"type", "interaction.respond"}, {"id", "ok"}, {"request", ask["request"]}, {"answer", {{"value", "Ada"}}}});
    } else {
      hh.post(Harness::done_ok(host.held.front()["id"].get<OpId>(), "approve"));
    }
  };
  start_and_run(h, host,
                human_spec_with({{"tools", json::array({human_file_tool("ask", {{"approval", "go"}})})},
                                 {"approvals", json::array({{{"name", "go"}}})},
                                 {"interactions", json::array({{{"name", "name"}, {"kind", "question"}}})}}));
  REQUIRE(h.reply("bad")->at("error")["message"] ==
          "interaction.respond: no pending interaction request with id \"interaction-77\" (pending: interaction-2)");
  REQUIRE(h.reply("shape")->at("error")["message"] == "interaction.respond \"interaction-2\": an answer must be {value} or {skipped: true}, got 5");
  REQUIRE(h.reply("ok")->at("ok") == true);
  REQUIRE(h.reply("q")->at("value")["value"] == "Ada");
}

TEST_CASE("interaction.request with an intervention: no definition, choices checked, skips accepted, bad fields refused", "[human]") {
  Harness h;
  HumanHost host;
  std::vector<json> asks;  // the deploy question: a wrong choice, then a right one; the other is skipped
  host.interaction = [&](const json& op) -> std::optional<json> {
    if (op["message"] != "The deploy keeps failing") return json{{"skipped", true}};
    asks.push_back(op);
    return op["attempt"] == 1 ? json{{"value", "maybe"}} : json{{"value", "abort"}};
  };
  host.callbacks["tool:ask"] = [](const json&) { return json("asked"); };
  int stuck = 0;
  host.when_stuck = [&](Harness& hh) {
    if (++stuck == 1) {
      hh.post(json{{"type", "interaction.request"},
                   {"id", "i1"},
                   {"run", 1},
                   {"intervention", {{"message", "The deploy keeps failing"}, {"choices", {"retry", "abort"}}}},
                   {"context", {{"reason", "deploy"}, {"severity", "critical"}}}});
      hh.post(json{{"type", "interaction.request"}, {"id", "i2"}, {"run", 1}, {"intervention", {{"message", "Anything to add?"}}}});
      hh.post(json{{"type", "interaction.request"}, {"id", "bad"}, {"run", 1}, {"intervention", {{"message", "x"}, {"choice", {"a"}}}}});
      hh.post(json{{"type", "interaction.request"}, {"id", "empty"}, {"run", 1}, {"intervention", {{"message", "x"}, {"choices", json::array()}}}});
    } else {
      for (auto it = host.held.rbegin(); it != host.held.rend(); ++it)
        if ((*it)["op"] == "approval.ask") {
          hh.post(Harness::done_ok((*it)["id"].get<OpId>(), "approve"));
          return;
        }
    }
  };
  host.model_responses = {human_response({human_call_part("a", "ask", {{"path", "x"}})})};
  json reply = start_and_run(
      h, host,
      human_spec_with({{"tools", json::array({human_file_tool("ask", {{"approval", "go"}})})}, {"approvals", json::array({{{"name", "go"}}})}}));
  REQUIRE(reply["ok"] == true);
  REQUIRE(asks.size() == 2);
  CHECK(asks[0]["name"] == "humanIntervention");
  CHECK(asks[0]["kind"] == "choice");
  CHECK(asks[0]["message"] == "The deploy keeps failing");
  CHECK(asks[0]["context"]["severity"] == "critical");
  CHECK(asks[1]["error"] == "\"maybe\" is not one of the choices (\"retry\", \"abort\")");
  CHECK(h.reply("i1")->at("value")["value"] == "abort");
  CHECK(h.reply("i1")->at("value")["attempts"] == 2);
  CHECK(h.reply("i2")->at("value")["skipped"] == true);
  CHECK_THAT(h.reply("bad")->at("error")["message"].get<std::string>(), Catch::Contains("choice"));
  CHECK_THAT(h.reply("empty")->at("error")["message"].get<std::string>(), Catch::Contains("a non-empty array of strings"));
}

// ------------------------------------------------------------------ approvals across requests

TEST_CASE("approval: a deferred decision ends the run after its step with the call pending; the step's other calls run", "[human]") {
  Harness h;
  HumanHost host;
  host.model_responses = {human_response(
      {text_part("Cleaning up."), human_call_part("c1", "delete", {{"path", "a.txt"}}), human_call_part("c2", "list", {{"path", "."}})})};
  host.callbacks["tool:delete"] = [](const json&) { return json("deleted"); };
  host.callbacks["tool:list"] = [](const json&) { return json::array({"a.txt"}); };
  // The host's signature of the pending call (runPrompt's approvalSecret) rides on the decision event.
  host.approval = [](const json&) -> std::optional<json> { return json{{"action", "defer"}, {"signature", "sig-1"}}; };
  json reply =
      start_and_run(h, host,
                    human_spec_with({{"tools", json::array({human_file_tool("delete", {{"approval", "destructive"}}), human_file_tool("list")})},
                                     {"approvals", json::array({approval_def()})}}));
  REQUIRE(reply["ok"] == true);
  REQUIRE(host.model_ops.size() == 1);  // the model is not asked again
  REQUIRE(host.count("tool:delete") == 0);
  REQUIRE(host.count("tool:list") == 1);
  const json& value = reply["value"];
  REQUIRE(value["finishReason"] == "tool-calls");
  REQUIRE(value["steps"].size() == 1);
  REQUIRE(value["steps"][0]["toolCalls"].size() == 2);
  REQUIRE(value["steps"][0]["toolResults"].size() == 1);
  REQUIRE(value["steps"][0]["toolResults"][0]["toolCallId"] == "c2");
  auto decisions = human_events(h, "approval-decision");
  REQUIRE(decisions.size() == 1);
  REQUIRE(decisions[0]["action"] == "defer");
  REQUIRE(decisions[0]["signature"] == "sig-1");
  REQUIRE(decisions[0]["toolCallId"] == "c1");
  REQUIRE(human_events(h, "tool-error").empty());  // a pending call is not a failed one
}

TEST_CASE("a tool without a callback (the caller executes it) ends a root run after its step with the call pending", "[human]") {
  Harness h;
  HumanHost host;
  host.model_responses = {human_response({human_call_part("c1", "locate", {{"path", "."}}), human_call_part("c2", "list", {{"path", "."}})})};
  host.callbacks["tool:list"] = [](const json&) { return json::array({"a.txt"}); };
  json locate = human_file_tool("locate");
  locate.erase("callback");
  json reply = start_and_run(h, host, human_spec_with({{"tools", json::array({locate, human_file_tool("list")})}}));
  REQUIRE(reply["ok"] == true);
  REQUIRE(host.model_ops.size() == 1);
  REQUIRE(host.invoked == std::vector<std::string>{"tool:list"});  // nothing is invoked for `locate`
  const json& value = reply["value"];
  REQUIRE(value["finishReason"] == "tool-calls");
  REQUIRE(value["steps"][0]["toolCalls"].size() == 2);
  REQUIRE(value["steps"][0]["toolResults"].size() == 1);
  REQUIRE(value["steps"][0]["toolResults"][0]["toolCallId"] == "c2");
  REQUIRE(human_events(h, "tool-error").empty());
}

TEST_CASE("approval: a decision to defer is refused where the run cannot end with the call pending", "[human]") {
  // `approval.request` (ctx.requestApproval) asks outside a tool call's gate: `defer` is invalid there,
  // and the default action applies with the reason.
  Harness h;
  HumanHost host;
  host.model_responses = {human_response({human_call_part("a", "ask", {{"path", "x"}})})};
  host.callbacks["tool:ask"] = [](const json&) { return json("asked"); };
  int stuck = 0;
  host.when_stuck = [&](Harness& hh) {
    if (++stuck == 1) {
      hh.post(json{{"type", "approval.request"}, {"id", "inner"}, {"run", 1}, {"name", "go"}});
      return;
    }
    // The request's ask (the last one held) is answered `defer`; then the tool's, `approve`.
    const json& ask = host.held.back();
    hh.post(Harness::done_ok(ask["id"].get<OpId>(), stuck == 2 ? "defer" : "approve"));
    host.held.pop_back();
  };
  json reply = start_and_run(
      h, host,
      human_spec_with({{"tools", json::array({human_file_tool("ask", {{"approval", "go"}})})}, {"approvals", json::array({{{"name", "go"}}})}}));
  REQUIRE(reply["ok"] == true);
  const json inner = h.reply("inner")->at("value");
  REQUIRE(inner["action"] == "deny");
  REQUIRE(inner["source"] == "invalid");
  REQUIRE(inner["reason"] ==
          "the approval handler returned an invalid decision: action \"defer\" ends a run with the tool call pending, which only a prompt "
          "run's own tool calls can do; the default action (deny) was applied");
  REQUIRE(host.count("tool:ask") == 1);
}

TEST_CASE("approval: a run resumed with decisions in its messages answers the pending calls before the model", "[human]") {
  Harness h;
  HumanHost host;
  host.callbacks["tool:delete"] = [](const json& args) { return json{{"deleted", args[0]["path"]}}; };
  json messages = json::array(
      {{{"role", "user"}, {"content", "tidy up"}},
       {{"role", "assistant"},
        {"content", json::array({text_part("Cleaning up."), human_call_part("c1", "delete", {{"path", "a.txt"}}),
                                 human_call_part("c2", "delete", {{"path", "b.txt"}}), human_call_part("c3", "list", {{"path", "."}})})}},
       {{"role", "tool"},
        {"content", json::array({{{"type", "tool-result"}, {"toolCallId", "c3"}, {"toolName", "list"}, {"result", {"a.txt", "b.txt"}}},
                                 {{"type", "tool-approval-response"}, {"toolCallId", "c2"}, {"approved", false}, {"reason", "keep it"}}})}},
       {{"role", "tool"},
        {"content", json::array({{{"type", "tool-approval-response"}, {"toolCallId", "c1"}, {"approved", true}, {"approvalId", "approval-1"}}})}}});
  json reply =
      start_and_run(h, host,
                    human_spec_with({{"messages", messages},
                                     {"tools", json::array({human_file_tool("delete", {{"approval", "destructive"}}), human_file_tool("list")})},
                                     {"approvals", json::array({approval_def()})}}));
  REQUIRE(reply["ok"] == true);
  REQUIRE(host.held.empty());  // nobody was asked
  REQUIRE(host.count("tool:delete") == 1);
  REQUIRE(host.count("tool:list") == 0);
  // The model gets one tool message after the turn, every result in call order.
  const json sent = host.model_ops.at(0)["conversation"]["append"];
  REQUIRE(sent.size() == 3);
  REQUIRE(sent[2]["role"] == "tool");
  const json& results = sent[2]["content"];
  REQUIRE(results.size() == 3);
  REQUIRE(results[0]["toolCallId"] == "c1");
  REQUIRE(results[0]["result"] == json{{"deleted", "a.txt"}});
  REQUIRE(results[1]["toolCallId"] == "c2");
  REQUIRE(results[1]["isError"] == true);
  REQUIRE(results[1]["result"]["error"] == "The call of tool \"delete\" was denied: keep it.");
  REQUIRE(results[2]["toolCallId"] == "c3");
  auto decisions = human_events(h, "approval-decision");
  REQUIRE(decisions.size() == 2);
  REQUIRE(decisions[0]["toolCallId"] == "c1");
  REQUIRE(decisions[0]["request"] == "approval-1");
  REQUIRE(decisions[0]["source"] == "message");
  REQUIRE(decisions[1]["action"] == "deny");
  REQUIRE(decisions[1]["reason"] == "keep it");
  REQUIRE(human_events(h, "tool-result").size() == 1);
  REQUIRE(human_events(h, "tool-error").at(0)["toolCallId"] == "c2");
}

TEST_CASE("approval: approval responses that decide nothing pending are refused naming the message", "[human]") {
  auto refused = [](json messages) {
    Harness h;
    h.post(json{{"type", "run.start"},
                {"id", 1},
                {"spec", human_spec_with({{"messages", std::move(messages)}, {"tools", json::array({human_file_tool("delete")})}})}});
    REQUIRE(h.run([](Harness&) {}));
    const json reply = *h.reply(1);
    REQUIRE(reply["error"]["kind"] == "config");
    return reply["error"]["message"].get<std::string>();
  };
  const json user{{"role", "user"}, {"content", "tidy up"}};
  const json turn{{"role", "assistant"},
                  {"content", json::array({human_call_part("c1", "delete", {{"path", "a"}}), human_call_part("c2", "delete", {{"path", "b"}})})}};
  auto response = [](json fields) {
    json part{{"type", "tool-approval-response"}};
    part.update(fields);
    return json{{"role", "tool"}, {"content", json::array({part})}};
  };
  REQUIRE(refused({user, turn, response({{"toolCallId", "c9"}, {"approved", true}}), response({{"toolCallId", "c1"}, {"approved", true}})}) ==
          "run.start spec (prompt): messages[1]: an approval response decides tool call \"c9\", which this last assistant message does not make "
          "(its calls: c1, c2)");
  REQUIRE(refused({user, turn, response({{"toolCallId", "c1"}, {"approved", true}})}) ==
          "run.start spec (prompt): messages[1]: tool call \"c2\" (tool \"delete\") has neither a result nor a tool-approval-response after it");
  REQUIRE(refused({user, turn, response({{"toolCallId", "c1"}, {"approved", "yes"}})}) ==
          "run.start spec (prompt): messages[2].content[0]: a tool-approval-response needs approved: true or false, got \"yes\"");
  REQUIRE(refused({user, turn, response({{"toolCallId", "c1"}, {"aproved", true}})}) ==
          "run.start spec (prompt): messages[2].content[0]: a tool-approval-response has no field \"aproved\" (expected toolCallId, approved, "
          "reason?, approvalId?, signature?)");
  REQUIRE(refused({response({{"toolCallId", "c1"}, {"approved", true}}), user}) ==
          "run.start spec (prompt): messages[0].content[0]: a tool-approval-response belongs in a tool message right after the last assistant "
          "message, whose tool calls it decides");
}

// Cancellation scopes (src/runtime/loop.hpp, docs/orchestration.md): what a workflow step or a
// parallel task starts through the engine (`workflow.tool` with the callback op as its `scope`, a
// sub-agent run with `parentOp`) is cancelled when the engine gives up on that callback op: at the
// step's timeout instant on the virtual clock, or once a `first` group has its winner.
#include <catch2/catch.hpp>

#include "flow_host.hpp"

using namespace lmthing;
using namespace lmthing::testing;

namespace {

bool flow_was_cancelled(const Harness& h, const json& op) {
  return std::find(h.host.cancelled.begin(), h.host.cancelled.end(), op["id"].get<OpId>()) != h.host.cancelled.end();
}

// The first op started of `kind` (and callback `fn`, or of run `run`), if any.
const json* started(const Harness& h, const std::string& kind, const std::string& fn, RunId run = 0) {
  for (const auto& op : h.host.started)
    if (op["op"] == kind && (fn.empty() || op.value("fn", "") == fn) && (run == 0 || op["run"] == run)) return &op;
  return nullptr;
}

json hang_tool() { return json{{"name", "hang"}, {"description", "never answers"}, {"parameters", {{"type", "object"}}}, {"callback", "tool:hang"}}; }

// The op.cancel events of the host, each with the clock it was sent at.
struct CancelClock {
  std::map<OpId, double> at;
  void note(const Harness& h) {
    for (OpId id : h.host.cancelled) at.try_emplace(id, h.clock);
  }
};

}  // namespace

TEST_CASE("cancel scope: a step's timeout cancels the tool it called and the sub-agent that tool started, at the timeout instant",
          "[workflow][cancel]") {
  Harness h;
  FlowHost host;
  host.command = json{{"type", "workflow.run"}, {"id", "w"}, {"run", 1}, {"name", "wf"}, {"input", json::object()}};
  host.also_wait = {"t"};
  host.silent = {"act:slow", "tool:hang"};
  bool asked = false, child = false;
  CancelClock clock;
  auto respond = [&](Harness& hh) {
    clock.note(hh);
    // The step's callback calls wctx.runTool("hang") and waits; the tool starts a sub-agent.
    if (const json* step = started(hh, "callback.invoke", "act:slow"); step && !asked) {
      asked = true;
      hh.post(json{{"type", "workflow.tool"}, {"id", "t"}, {"run", 1}, {"scope", (*step)["id"]}, {"name", "hang"}, {"args", json::object()}});
      return;
    }
    if (const json* tool = started(hh, "callback.invoke", "tool:hang"); tool && !child) {
      child = true;
      hh.post(json{{"type", "run.start"}, {"id", 2}, {"spec", prompt_spec({{"parentRun", 1}, {"parentOp", (*tool)["id"]}})}});
      return;
    }
    host(hh);  // answers model calls only once the workflow and the tool call have their replies
  };
  json spec = prompt_spec(
      {{"tools", json::array({hang_tool()})},
       {"definitions", definitions({definition("workflow", "wf", {{"steps", {{{"id", "slow"}, {"action", "act:slow"}, {"timeout", 2000}}}}})})}});
  h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", spec}});
  REQUIRE(h.run(respond));
  clock.note(h);

  auto workflow = h.reply("w");
  REQUIRE(workflow);
  CHECK((*workflow)["ok"] == false);
  const json* step = started(h, "callback.invoke", "act:slow");
  const json* tool = started(h, "callback.invoke", "tool:hang");
  const json* model = started(h, "model.generate", "", 2);
  REQUIRE(step);
  REQUIRE(tool);
  REQUIRE(model);
  // The step, its tool and the sub-agent's model call are all cancelled when the step times out.
  for (const json* op : {step, tool, model}) {
    CHECK(flow_was_cancelled(h, *op));
    CHECK(clock.at[(*op)["id"].get<OpId>()] == Approx(2000));
  }
  // The tool call fails with the step's timeout; no result or error of it is reported as a run event.
  auto tool_reply = h.reply("t");
  REQUIRE(tool_reply);
  CHECK((*tool_reply)["ok"] == false);
  CHECK((*tool_reply)["error"]["kind"] == "timeout");
  CHECK(run_events(h, "tool-result").empty());
  CHECK(run_events(h, "tool-error").empty());
  // The sub-agent's run fails with the same kind of cancellation: a timeout.
  auto child_reply = h.reply(2);
  REQUIRE(child_reply);
  CHECK((*child_reply)["ok"] == false);
  CHECK((*child_reply)["error"]["kind"] == "timeout");
}

TEST_CASE("cancel scope: a 'first' group cancels the sub-agent a losing task started once the winner arrives", "[parallel][cancel]") {
  Harness h;
  FlowHost host;
  host.command = json{{"type", "parallel.run"}, {"id", "c"}, {"run", 1}, {"name", "p"}, {"input", nullptr}};
  host.silent = {"task:slow", "task:fast"};
  host.callbacks["task:fast"] = [](const json&) { return json("fast wins"); };
  bool child = false;
  std::size_t model_ops_at_win = 0;
  auto respond = [&](Harness& hh) {
    // The losing task starts a sub-agent (a run linked to its op) ...
    if (const json* slow = started(hh, "callback.invoke", "task:slow"); slow && !child) {
      child = true;
      hh.post(json{{"type", "run.start"}, {"id", 2}, {"spec", prompt_spec({{"parentRun", 1}, {"parentOp", (*slow)["id"]}})}});
      return;
    }
    // ... and once that sub-agent's model call is in flight, the other task wins.
    if (started(hh, "model.generate", "", 2) && host.silent.count("task:fast")) {
      host.silent.erase("task:fast");
      model_ops_at_win = hh.host.cancelled.size();
    }
    host(hh);
  };
  json tasks = json::array({json{{"name", "slow"}, {"fn", "task:slow"}}, json{{"name", "fast"}, {"fn", "task:fast"}}});
  json spec = prompt_spec({{"definitions", definitions({definition("parallel", "p", {{"tasks", tasks}, {"aggregation", "first"}})})}});
  h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", spec}});
  REQUIRE(h.run(respond));

  auto reply = h.reply("c");
  REQUIRE(reply);
  CHECK(reply->at("value") == "fast wins");
  const json* model = started(h, "model.generate", "", 2);
  REQUIRE(model);
  CHECK(model_ops_at_win == 0);  // nothing was cancelled before the winner arrived
  CHECK(flow_was_cancelled(h, *model));
  auto child_reply = h.reply(2);
  REQUIRE(child_reply);
  CHECK((*child_reply)["ok"] == false);
  CHECK((*child_reply)["error"]["kind"] == "aborted");
  CHECK(h.clock == Approx(0));  // decided without any timer
}

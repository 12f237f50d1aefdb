#include <catch2/catch.hpp>

#include "scripted_host.hpp"

using namespace lmthing;
using namespace lmthing::testing;

namespace {

json call_spec(const std::string& fn, json args = json::array()) { return json{{"kind", "call"}, {"fn", fn}, {"args", std::move(args)}}; }

json run_start(std::uint64_t id, json spec) { return json{{"type", "run.start"}, {"id", id}, {"spec", std::move(spec)}}; }

std::string error_message(const json& reply) { return reply["error"]["message"].get<std::string>(); }

}  // namespace

TEST_CASE("two independent runs started together both finish; cancelling one leaves the other", "[engine]") {
  Harness h;
  h.post(run_start(1, json{{"kind", "map"}, {"fn", "f"}, {"items", {1, 2, 3}}}));
  h.post(run_start(2, json{{"kind", "map"}, {"fn", "f"}, {"items", {4, 5, 6}}}));
  int wait = 0;
  REQUIRE(h.run([&](Harness& hh) {
    if (wait++ == 0) {
      REQUIRE(hh.host.started.size() == 6);  // both runs are in flight at once
      hh.post(json{{"type", "run.cancel"}, {"id", 3}, {"run", 1}, {"reason", "user pressed stop"}});
      return;
    }
    // Run 2's ops complete; run 1's late answers are ignored quietly.
    for (auto& op : hh.host.started) hh.post(Harness::done_ok(op["id"].get<OpId>(), op["args"][0].get<int>() * 10));
  }));
  auto cancelled = *h.reply(1);
  REQUIRE(cancelled["ok"] == false);
  REQUIRE(cancelled["error"]["kind"] == "aborted");
  REQUIRE(error_message(cancelled) == "user pressed stop");
  REQUIRE((*h.reply(3))["value"]["cancelledOps"] == 3);
  REQUIRE((*h.reply(2))["value"] == json::array({40, 50, 60}));
  // Only run 1's ops were cancelled on the host side.
  std::vector<OpId> run1_ops;
  for (auto& op : h.host.started)
    if (op["run"] == 1) run1_ops.push_back(op["id"].get<OpId>());
  REQUIRE(h.host.cancelled == run1_ops);
  REQUIRE(h.host.events_of_type("protocol.error").empty());
  REQUIRE(h.engine.active_runs() == 0);
}

TEST_CASE("bad run specs are rejected with a message naming the problem, before anything runs", "[engine]") {
  Harness h;
  h.post(run_start(1, json{{"kind", "teleport"}}));
  h.post(run_start(2, json{{"kind", "map"}, {"fn", "f"}, {"items", 5}}));
  h.post(run_start(3, json{{"kind", "call"}, {"fn", ""}}));
  h.post(run_start(4, json("call")));
  h.post(json{{"type", "run.start"}, {"id", -1}, {"spec", call_spec("f")}});
  h.post(json{{"type", "run.cancel"}, {"id", 6}, {"run", 77}});
  h.post(json{{"type", "warp.drive"}, {"id", 7}});
  h.post(json{{"type", "engine.info"}});
  REQUIRE(h.run([](Harness&) {}));
  REQUIRE(h.host.started.empty());
  CHECK_THAT(error_message(*h.reply(1)), Catch::Contains("unknown spec kind \"teleport\"") && Catch::Contains("call, map, sleep"));
  CHECK_THAT(error_message(*h.reply(2)), Catch::Contains("\"items\" must be array, got number"));
  CHECK_THAT(error_message(*h.reply(3)), Catch::Contains("\"fn\" must not be empty"));
  CHECK_THAT(error_message(*h.reply(4)), Catch::Contains("\"spec\" must be an object"));
  CHECK_THAT(error_message(*h.reply(-1)), Catch::Contains("non-negative integer id"));
  CHECK_THAT(error_message(*h.reply(6)), Catch::Contains("no active run with id 77"));
  CHECK_THAT(error_message(*h.reply(7)), Catch::Contains("unknown command type \"warp.drive\""));
  for (int id : {1, 2, 3, 4, 6, 7}) REQUIRE((*h.reply(id))["error"]["kind"] == "protocol");
  auto orphan = h.host.events_of_type("protocol.error");
  REQUIRE(orphan.size() == 1);
  CHECK_THAT(orphan[0]["error"]["message"].get<std::string>(), Catch::Contains("needs an \"id\""));
}

TEST_CASE("a run id already in use is refused", "[engine]") {
  Harness h;
  h.post(run_start(1, call_spec("f")));
  h.post(run_start(1, call_spec("g")));
  REQUIRE(h.run([](Harness& hh) { hh.post(Harness::done_ok(hh.host.started[0]["id"].get<OpId>(), 1)); }));
  REQUIRE(h.host.started.size() == 1);
  std::vector<json> replies = h.host.events_of_type("reply");
  REQUIRE(replies.size() == 2);
  CHECK_THAT(error_message(replies[0]), Catch::Contains("already active"));
  REQUIRE(replies[1]["value"] == 1);
}

TEST_CASE("an exception inside a run becomes an engine error reply with a stable code", "[engine]") {
  Harness h;
  h.post(run_start(1, json{{"kind", "fault"}, {"where", "run"}}));
  h.post(run_start(2, json{{"kind", "sleep"}, {"ms", 0}}));
  REQUIRE(h.run([](Harness& hh) { hh.post(Harness::done_ok(hh.host.started[0]["id"].get<OpId>(), nullptr)); }));
  auto reply = *h.reply(1);
  REQUIRE(reply["error"]["kind"] == "engine");
  REQUIRE(reply["error"]["code"] == "ENGINE_ERROR");
  CHECK_THAT(error_message(reply), Catch::Contains("deliberate fault"));
  REQUIRE((*h.reply(2))["ok"] == true);
}

TEST_CASE("an exception escaping a turn is an engine fault and the driver reports failure", "[engine]") {
  Harness h;
  h.post(run_start(1, json{{"kind", "fault"}, {"where", "loop"}}));
  REQUIRE_FALSE(h.run([](Harness&) {}));
  auto faults = h.host.events_of_type("engine.fault");
  REQUIRE(faults.size() == 1);
  REQUIRE(faults[0]["error"]["code"] == "ENGINE_FAULT");
}

TEST_CASE("engine.info reports the protocol version and what is in flight", "[engine][protocol]") {
  Harness h;
  h.post(json{{"type", "engine.info"}, {"id", "info-1"}});
  REQUIRE(h.run([](Harness&) {}));
  auto reply = *h.reply("info-1");
  REQUIRE(reply["value"]["protocol"] == 1);
  REQUIRE(reply["value"]["activeRuns"] == 0);
}

TEST_CASE("ops of a cancelled run started later fail at once without reaching the host", "[engine]") {
  Harness h;
  // concurrency 1: items start one after another, so after the cancel no new op may be issued.
  h.post(run_start(1, json{{"kind", "map"}, {"fn", "f"}, {"items", {1, 2, 3}}, {"concurrency", 1}}));
  int wait = 0;
  REQUIRE(h.run([&](Harness& hh) {
    if (wait++ == 0) {
      hh.post(json{{"type", "run.cancel"}, {"id", 2}, {"run", 1}});
    }
  }));
  REQUIRE(h.host.started.size() == 1);
  REQUIRE((*h.reply(1))["error"]["kind"] == "aborted");
}

TEST_CASE("a failing item stops a bounded map from starting more items", "[flow]") {
  Harness h;
  h.post(run_start(1, json{{"kind", "map"}, {"fn", "f"}, {"items", {1, 2, 3, 4}}, {"concurrency", 2}}));
  REQUIRE(h.run([&](Harness& hh) {
    const json& op = hh.host.started.back();
    if (op.contains("answered")) return;
    for (auto& o : hh.host.started)
      if (!o.contains("answered")) {
        o["answered"] = true;
        const int item = o["args"][0].get<int>();
        hh.post(item == 1 ? Harness::done_error(o["id"].get<OpId>(), "callback", "item 1 failed") : Harness::done_ok(o["id"].get<OpId>(), item));
      }
  }));
  auto reply = *h.reply(1);
  REQUIRE(reply["error"]["message"] == "item 1 failed");
  REQUIRE(h.host.started.size() == 2);  // items 3 and 4 never started
}

TEST_CASE("schema.validate answers with the validator's verdict and errors", "[engine][schema]") {
  Harness h;
  json schema{{"type", "object"}, {"properties", {{"n", {{"type", "integer"}}}}}, {"required", {"n"}}};
  h.post(json{{"type", "schema.validate"}, {"id", 1}, {"schema", schema}, {"value", {{"n", 3}}}});
  h.post(json{{"type", "schema.validate"}, {"id", 2}, {"schema", schema}, {"value", {{"n", "x"}}}});
  h.post(json{{"type", "schema.validate"}, {"id", 3}, {"schema", {{"type", 5}}}, {"value", 1}});
  REQUIRE(h.run([](Harness&) {}));
  REQUIRE((*h.reply(1))["value"] == json{{"valid", true}, {"errors", json::array()}});
  const json invalid = (*h.reply(2))["value"];
  REQUIRE(invalid["valid"] == false);
  REQUIRE(invalid["errors"][0]["instancePath"] == "/n");
  REQUIRE(invalid["errors"][0]["schemaPath"] == "#/properties/n/type");
  CHECK_THAT(error_message(*h.reply(3)), Catch::Contains("not a valid JSON Schema"));
}

#include <catch2/catch.hpp>

#include "scripted_host.hpp"

using namespace lmthing;
using namespace lmthing::testing;

namespace {

json start_map(std::uint64_t id, const json& items, double timeout_ms = 0) {
  json spec{{"kind", "map"}, {"fn", "double"}, {"items", items}};
  if (timeout_ms > 0) spec["timeoutMs"] = timeout_ms;
  return json{{"type", "run.start"}, {"id", id}, {"spec", spec}};
}

// Answers callback "double" with 2 * its first argument; timers with null.
json answer_double(const json& op) {
  const OpId id = op["id"].get<OpId>();
  if (op["op"] == "timer.sleep") return Harness::done_ok(id, nullptr);
  return Harness::done_ok(id, op["args"][0].get<double>() * 2);
}

}  // namespace

TEST_CASE("10,000 concurrent ops with random latencies and completion order all resolve correctly", "[runtime]") {
  constexpr int kOps = 10000;
  Harness h;
  json items = json::array();
  for (int i = 0; i < kOps; ++i) items.push_back(i);
  h.post(start_map(1, items));
  RandomLatencyResponder responder(2024, 50.0, answer_double);
  REQUIRE(h.run(std::ref(responder)));

  // All ops were in flight at once: the first completion came after all were started.
  REQUIRE(h.host.started.size() == kOps);
  auto reply = h.reply(1);
  REQUIRE(reply);
  REQUIRE((*reply)["ok"] == true);
  const json& values = (*reply)["value"];
  REQUIRE(values.size() == kOps);
  for (int i = 0; i < kOps; ++i) REQUIRE(values[i].get<double>() == 2.0 * i);
  REQUIRE(h.engine.loop().idle());
}

TEST_CASE("completion order is not start order but results keep item order", "[runtime]") {
  Harness h;
  h.post(start_map(1, json::array({10, 20, 30})));
  std::vector<json> unanswered;
  bool first_wait = true;
  REQUIRE(h.run([&](Harness& hh) {
    if (first_wait) unanswered = hh.host.started;
    first_wait = false;
    hh.post(answer_double(unanswered.back()));  // newest first, one per wait
    unanswered.pop_back();
  }));
  REQUIRE((*h.reply(1))["value"] == json::array({20.0, 40.0, 60.0}));
}

TEST_CASE("an op that never completes is bounded by its timeout", "[runtime]") {
  Harness h;
  h.post(start_map(1, json::array({1}), 100));
  REQUIRE(h.run([](Harness& hh) {
    // Only the timeout timer is ever answered: the callback hangs forever.
    for (auto& op : hh.host.started)
      if (op["op"] == "timer.sleep" && !op.contains("answered")) {
        op["answered"] = true;
        hh.clock += op["ms"].get<double>();
        hh.post(Harness::done_ok(op["id"].get<OpId>(), nullptr));
      }
  }));
  auto reply = *h.reply(1);
  REQUIRE(reply["ok"] == false);
  REQUIRE(reply["error"]["kind"] == "timeout");
  REQUIRE(reply["error"]["message"] == "callback.invoke \"double\" timed out after 100 ms");
  // The host was told to cancel the hung callback.
  const OpId callback_id = h.host.started[1]["id"].get<OpId>();
  REQUIRE(h.host.started[1]["op"] == "callback.invoke");
  REQUIRE(h.host.started[1]["timeoutMs"] == 100);
  REQUIRE(std::find(h.host.cancelled.begin(), h.host.cancelled.end(), callback_id) != h.host.cancelled.end());
}

TEST_CASE("an op that timed out after op.progress textShown says so in its error", "[runtime][protocol]") {
  for (const bool shown : {true, false}) {
    Harness h;
    h.post(start_map(1, json::array({1}), 100));
    bool reported = false;
    REQUIRE(h.run([&](Harness& hh) {
      const OpId callback = hh.host.started[1]["id"].get<OpId>();
      if (!reported) {
        reported = true;
        hh.post(json{{"type", "op.progress"}, {"op", callback}, {"textShown", shown}});
      }
      for (auto& op : hh.host.started)
        if (op["op"] == "timer.sleep" && !op.contains("answered")) {
          op["answered"] = true;
          hh.clock += op["ms"].get<double>();
          hh.post(Harness::done_ok(op["id"].get<OpId>(), nullptr));
          // Progress of an op that already ended is stale, not an error.
          hh.post(json{{"type", "op.progress"}, {"op", callback}, {"textShown", true}});
        }
    }));
    auto reply = *h.reply(1);
    REQUIRE(reply["error"]["kind"] == "timeout");
    REQUIRE(reply["error"].contains("textShown") == shown);
    REQUIRE(h.host.events_of_type("protocol.error").empty());
  }
}

TEST_CASE("op.progress for an op never started, or with a bad field, is a protocol error", "[runtime][protocol]") {
  Harness h;
  h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", {{"kind", "call"}, {"fn", "f"}}}});
  int step = 0;
  REQUIRE(h.run([&](Harness& hh) {
    const OpId op = hh.host.started[0]["id"].get<OpId>();
    if (step++ == 0) {
      hh.post(json{{"type", "op.progress"}, {"op", 999}, {"textShown", true}});
      hh.post(json{{"type", "op.progress"}, {"op", op}, {"textShown", "yes"}});
      return;
    }
    hh.post(Harness::done_ok(op, "fine"));
  }));
  auto errors = h.host.events_of_type("protocol.error");
  REQUIRE(errors.size() == 2);
  CHECK_THAT(errors[0]["error"]["message"].get<std::string>(), Catch::Contains("op.progress for unknown op id 999"));
  CHECK_THAT(errors[1]["error"]["message"].get<std::string>(), Catch::Contains("\"textShown\" must be true or false"));
  REQUIRE((*h.reply(1))["value"] == "fine");
}

TEST_CASE("an op that completes in time cancels its timeout timer", "[runtime]") {
  Harness h;
  h.post(start_map(1, json::array({1}), 100));
  REQUIRE(h.run([](Harness& hh) {
    for (auto& op : hh.host.started)
      if (op["op"] == "callback.invoke" && !op.contains("answered")) {
        op["answered"] = true;
        hh.post(answer_double(op));
      }
  }));
  REQUIRE((*h.reply(1))["value"] == json::array({2.0}));
  REQUIRE(h.host.started[0]["op"] == "timer.sleep");
  REQUIRE(h.host.cancelled == std::vector<OpId>{h.host.started[0]["id"].get<OpId>()});
}

TEST_CASE("a failed op reaches the coroutine as an error with its kind and message", "[runtime]") {
  Harness h;
  h.post(json{{"type", "run.start"}, {"id", 5}, {"spec", {{"kind", "call"}, {"fn", "f"}, {"args", {1}}}}});
  REQUIRE(h.run([](Harness& hh) { hh.post(Harness::done_error(hh.host.started.back()["id"].get<OpId>(), "callback", "tool exploded")); }));
  auto reply = *h.reply(5);
  REQUIRE(reply["ok"] == false);
  REQUIRE(reply["error"]["kind"] == "callback");
  REQUIRE(reply["error"]["message"] == "tool exploded");
}

TEST_CASE("bad input at the boundary is reported and the loop keeps running", "[runtime][protocol]") {
  Harness h;
  h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", {{"kind", "call"}, {"fn", "f"}}}});
  h.post(json{{"type", "run.start"}, {"id", 2}, {"spec", {{"kind", "call"}, {"fn", "g"}}}});
  int step = 0;
  REQUIRE(h.run([&](Harness& hh) {
    const OpId first = hh.host.started[0]["id"].get<OpId>();
    const OpId second = hh.host.started[1]["id"].get<OpId>();
    switch (step++) {
      case 0:
        hh.post_raw("{not json");
        hh.post_raw("[1,2]");
        hh.post(Harness::done_ok(999, 1));                   // unknown op id
        hh.post(json{{"type", "op.done"}, {"id", second}});  // missing ok: the op fails, it does not hang
        break;
      case 1:
        hh.post(Harness::done_ok(first, "first"));
        hh.post(Harness::done_ok(first, "second"));  // completed twice
        break;
      default: FAIL("the engine should be idle");
    }
  }));
  auto errors = h.host.events_of_type("protocol.error");
  REQUIRE(errors.size() == 5);
  CHECK_THAT(errors[0]["error"]["message"].get<std::string>(), Catch::Contains("not valid JSON"));
  CHECK_THAT(errors[1]["error"]["message"].get<std::string>(), Catch::Contains("must be an object"));
  CHECK_THAT(errors[2]["error"]["message"].get<std::string>(), Catch::Contains("unknown op id 999"));
  CHECK_THAT(errors[3]["error"]["message"].get<std::string>(), Catch::Contains("missing field \"ok\""));
  CHECK_THAT(errors[4]["error"]["message"].get<std::string>(), Catch::Contains("already completed"));
  REQUIRE((*h.reply(1))["value"] == "first");
  REQUIRE((*h.reply(2))["error"]["kind"] == "protocol");
  CHECK_THAT((*h.reply(2))["error"]["message"].get<std::string>(), Catch::Contains("the result of callback.invoke op 2 could not be read"));
}

TEST_CASE("the engine clock comes from the inbox and never goes backwards", "[runtime]") {
  Harness h;
  h.clock = 1000;
  h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", {{"kind", "sleep"}, {"ms", 250}}}});
  REQUIRE(h.run([](Harness& hh) {
    const json& op = hh.host.started.back();
    REQUIRE(op["op"] == "timer.sleep");
    REQUIRE(op["ms"] == 250);
    hh.clock += 250;
    hh.post(Harness::done_ok(op["id"].get<OpId>(), nullptr));
  }));
  REQUIRE((*h.reply(1))["value"]["sleptMs"] == 250);
  REQUIRE(h.engine.loop().now_ms() == 1250);
  h.clock = 10;  // a host clock that jumps back is ignored
  h.post(json{{"type", "engine.info"}, {"id", 2}});
  REQUIRE(h.run([](Harness&) {}));
  REQUIRE(h.engine.loop().now_ms() == 1250);
}

#include <catch2/catch.hpp>

#include "runtime/single_flight.hpp"
#include "scripted_host.hpp"

using namespace lmthing;
using namespace lmthing::testing;

namespace {

// Work that asks the host for the value of `key` through one callback op of the caller's run.
SingleFlight::Work fetch(Loop& loop, std::string key) {
  return [&loop, key](RunId run) -> Task<json> {
    json payload{{"fn", "fetch"}, {"args", {key}}};  // not inside the co_await: GCC 12 rejects braced JSON there
    co_return co_await loop.op(run, "callback.invoke", std::move(payload));
  };
}

struct Outcome {
  std::optional<json> value;
  std::string error_kind;
  std::string error_message;
};

Task<void> call(SingleFlight& flight, Loop& loop, RunId run, std::string key, Outcome& out) {
  try {
    out.value = co_await flight.run(run, key, fetch(loop, key));
  } catch (const OpFailed& e) {
    out.error_kind = e.error.kind;
    out.error_message = e.error.message;
  }
}

std::string batch(double clock, const std::vector<json>& messages = {}) {
  std::string text = json(clock).dump();
  for (const auto& m : messages) text += "\n" + m.dump();
  return text;
}

std::vector<json> ops_named(const ScriptedHost& host, const std::string& fn) {
  std::vector<json> out;
  for (const auto& op : host.started)
    if (op["op"] == "callback.invoke" && op["fn"] == fn) out.push_back(op);
  return out;
}

}  // namespace

TEST_CASE("single flight: 100 concurrent identical calls run the work once and all get its value", "[runtime][single_flight]") {
  Harness h;
  Loop& loop = h.engine.loop();
  SingleFlight flight(loop);
  std::vector<Outcome> outcomes(100);
  for (std::size_t i = 0; i < outcomes.size(); ++i) loop.spawn(call(flight, loop, 1 + i % 7, i < 90 ? "same" : "other", outcomes[i]));
  REQUIRE(loop.turn(batch(0)));
  auto ops = ops_named(h.host, "fetch");
  REQUIRE(ops.size() == 2);  // one per distinct key
  REQUIRE(flight.in_flight() == 2);
  std::vector<json> answers;
  for (const auto& op : ops) answers.push_back(Harness::done_ok(op["id"].get<OpId>(), "value of " + op["args"][0].get<std::string>()));
  REQUIRE(loop.turn(batch(1, answers)));
  for (std::size_t i = 0; i < outcomes.size(); ++i) REQUIRE(outcomes[i].value == json(i < 90 ? "value of same" : "value of other"));
  REQUIRE(flight.stats().executions == 2);
  REQUIRE(flight.stats().coalesced == 98);
  REQUIRE(flight.in_flight() == 0);
  REQUIRE(loop.idle());

  // Once finished, the next call runs the work again.
  Outcome later;
  loop.spawn(call(flight, loop, 1, "same", later));
  REQUIRE(loop.turn(batch(2)));
  REQUIRE(ops_named(h.host, "fetch").size() == 3);
}

TEST_CASE("single flight: when the work fails, every waiter gets the same error", "[runtime][single_flight]") {
  Harness h;
  Loop& loop = h.engine.loop();
  SingleFlight flight(loop);
  std::vector<Outcome> outcomes(5);
  for (auto& out : outcomes) loop.spawn(call(flight, loop, 1, "k", out));
  REQUIRE(loop.turn(batch(0)));
  auto ops = ops_named(h.host, "fetch");
  REQUIRE(ops.size() == 1);
  REQUIRE(loop.turn(batch(1, {Harness::done_error(ops[0]["id"].get<OpId>(), "provider", "upstream said no")})));
  for (const auto& out : outcomes) {
    REQUIRE_FALSE(out.value);
    REQUIRE(out.error_kind == "provider");
    REQUIRE(out.error_message == "upstream said no");
  }
  REQUIRE(flight.stats().executions == 1);
  REQUIRE(flight.in_flight() == 0);
}

TEST_CASE("single flight: cancelling the run the work executes for fails only that run; the others get the value", "[runtime][single_flight]") {
  Harness h;
  Loop& loop = h.engine.loop();
  SingleFlight flight(loop);
  Outcome a, b, c;
  loop.spawn(call(flight, loop, 1, "k", a));
  loop.spawn(call(flight, loop, 2, "k", b));
  loop.spawn(call(flight, loop, 3, "k", c));
  REQUIRE(loop.turn(batch(0)));
  auto ops = ops_named(h.host, "fetch");
  REQUIRE(ops.size() == 1);
  REQUIRE(ops[0]["run"] == 1);

  REQUIRE(loop.cancel_run(1, "the user left") == 1);
  loop.run_ready();
  REQUIRE(a.error_kind == "aborted");
  REQUIRE(a.error_message == "the user left");
  ops = ops_named(h.host, "fetch");
  REQUIRE(ops.size() == 2);  // started again, for run 2
  REQUIRE(ops[1]["run"] == 2);
  REQUIRE_FALSE(b.value);

  REQUIRE(loop.turn(batch(1, {Harness::done_ok(ops[1]["id"].get<OpId>(), 42)})));
  REQUIRE(b.value == json(42));
  REQUIRE(c.value == json(42));
  REQUIRE(flight.stats().executions == 2);
  REQUIRE(flight.in_flight() == 0);
}

TEST_CASE("single flight: a waiter destroyed while it waits leaves; the others are unaffected", "[runtime][single_flight]") {
  Harness h;
  Loop& loop = h.engine.loop();
  SingleFlight flight(loop);
  Outcome kept;
  loop.spawn(call(flight, loop, 1, "k", kept));
  std::optional<Task<json>> dropped{flight.run(2, "k", fetch(loop, "k"))};
  loop.schedule(dropped->handle());
  REQUIRE(loop.turn(batch(0)));
  REQUIRE(ops_named(h.host, "fetch").size() == 1);
  REQUIRE(flight.stats().coalesced == 1);
  dropped.reset();  // destroys the suspended caller (as when its owner goes away)
  auto op = ops_named(h.host, "fetch")[0];
  REQUIRE(loop.turn(batch(1, {Harness::done_ok(op["id"].get<OpId>(), "v")})));
  REQUIRE(kept.value == json("v"));
  REQUIRE(flight.in_flight() == 0);
  REQUIRE(loop.idle());
}

TEST_CASE("single flight: when every waiter's run is cancelled, each gets its error and nothing is left", "[runtime][single_flight]") {
  Harness h;
  Loop& loop = h.engine.loop();
  SingleFlight flight(loop);
  Outcome a, b;
  loop.spawn(call(flight, loop, 1, "k", a));
  loop.spawn(call(flight, loop, 2, "k", b));
  REQUIRE(loop.turn(batch(0)));
  loop.cancel_run(2, "two is gone");
  loop.cancel_run(1, "one is gone");
  loop.run_ready();
  REQUIRE(a.error_kind == "aborted");
  REQUIRE(b.error_kind == "aborted");
  REQUIRE(b.error_message.find("two is gone") != std::string::npos);  // it left with its own run's error
  REQUIRE(flight.in_flight() == 0);
  REQUIRE(loop.idle());
}

TEST_CASE("single flight: a joiner whose run is cancelled leaves at once; the others still get the value", "[runtime][single_flight]") {
  Harness h;
  Loop& loop = h.engine.loop();
  SingleFlight flight(loop);
  Outcome leader, leaving, staying;
  loop.spawn(call(flight, loop, 1, "k", leader));
  loop.spawn(call(flight, loop, 2, "k", leaving));
  loop.spawn(call(flight, loop, 3, "k", staying));
  REQUIRE(loop.turn(batch(0)));
  REQUIRE(ops_named(h.host, "fetch").size() == 1);
  loop.cancel_run(2, "two timed out");
  loop.run_ready();
  REQUIRE(leaving.error_message.find("two timed out") != std::string::npos);  // without waiting for the fetch
  REQUIRE(!leader.value);
  auto op = ops_named(h.host, "fetch")[0];
  REQUIRE(loop.turn(batch(1, {Harness::done_ok(op["id"].get<OpId>(), "v")})));
  REQUIRE(leader.value == json("v"));
  REQUIRE(staying.value == json("v"));
  REQUIRE(flight.in_flight() == 0);
}

TEST_CASE("single flight: the leader's run timing out hands the work to a waiter, not its error", "[runtime][single_flight]") {
  Harness h;
  Loop& loop = h.engine.loop();
  SingleFlight flight(loop);
  Outcome leader, waiter;
  loop.spawn(call(flight, loop, 1, "k", leader));
  loop.spawn(call(flight, loop, 2, "k", waiter));
  REQUIRE(loop.turn(batch(0)));
  loop.cancel_run(1, protocol::WireError{"timeout", "the run timed out after 100 ms", json::object()});
  loop.run_ready();
  REQUIRE(leader.error_kind == "timeout");
  auto ops = ops_named(h.host, "fetch");
  REQUIRE(ops.size() == 2);  // started again, for run 2
  REQUIRE(ops[1]["run"] == 2);
  REQUIRE(loop.turn(batch(1, {Harness::done_ok(ops[1]["id"].get<OpId>(), "v")})));
  REQUIRE(waiter.value == json("v"));
}

// defResource and defResourcePool in the engine (docs/orchestration.md): one initialization for
// concurrent first gets, health checks and re-initialization, initialize retries, clean-up in
// reverse setup order when the run ends (normally or cancelled), pool FIFO hand-over, the acquire
// timeout on the virtual clock, idle expiry, and the definition errors that name the field.
#include <catch2/catch.hpp>

#include <set>

#include "prompt_script.hpp"

using namespace lmthing;
using namespace lmthing::testing;

namespace {

// A live prompt run whose model answers only once `finished`; `script` runs first every turn (it
// posts commands as the test goes); callbacks are answered by name unless `held`; when nothing else
// can move, the earliest timer fires and the clock jumps to it.
struct ResourceHost {
  std::function<void(Harness&, ResourceHost&)> script;
  std::map<std::string, std::function<json(const json& args)>> callbacks;
  std::set<std::string> held;
  bool finished = false;
  std::vector<std::string> calls;  // "fn args", in the order they were answered
  std::set<std::size_t> answered;
  int stage = 0;

  void operator()(Harness& h) {
    const std::size_t before = h.inbox.size();
    if (script) script(h, *this);
    bool progressed = h.inbox.size() > before;
    for (std::size_t i = 0; i < h.host.started.size(); ++i) {
      if (answered.count(i)) continue;
      const json& op = h.host.started[i];
      const OpId id = op["id"].get<OpId>();
      if (std::find(h.host.cancelled.begin(), h.host.cancelled.end(), id) != h.host.cancelled.end()) continue;
      if (op["op"] == "model.generate") {
        if (!finished) continue;
        h.post(Harness::done_ok(id, response({text_part("done")})));
      } else if (op["op"] == "callback.invoke") {
        const std::string fn = op["fn"];
        if (held.count(fn)) continue;
        auto it = callbacks.find(fn);
        REQUIRE(it != callbacks.end());
        calls.push_back(fn + " " + op["args"].dump());
        try {
          h.post(Harness::done_ok(id, it->second(op["args"])));
        } catch (const std::exception& e) {
          h.post(Harness::done_error(id, "callback", e.what()));
        }
      } else {
        continue;
      }
      answered.insert(i);
      progressed = true;
    }
    if (progressed) return;
    std::optional<std::size_t> first;
    for (std::size_t i = 0; i < h.host.started.size(); ++i) {
      const json& op = h.host.started[i];
      if (answered.count(i) || op["op"] != "timer.sleep") continue;
      if (std::find(h.host.cancelled.begin(), h.host.cancelled.end(), op["id"].get<OpId>()) != h.host.cancelled.end()) continue;
      if (!first || op["ms"].get<double>() < h.host.started[*first]["ms"].get<double>()) first = i;
    }
    if (!first) return;
    answered.insert(*first);
    h.clock += h.host.started[*first]["ms"].get<double>();
    h.post(Harness::done_ok(h.host.started[*first]["id"].get<OpId>(), nullptr));
  }
};

json resource_command(const std::string& type, const std::string& id, const std::string& name, json extra = json::object()) {
  json c{{"type", type}, {"id", id}, {"run", 1}, {"name", name}};
  c.update(extra);
  return c;
}

json resource(const std::string& name, json extra = json::object()) {
  json config{{"type", "test"}, {"initialize", "init:" + name}, {"cleanup", "clean:" + name}};
  config.update(extra);
  return definition("resource", name, std::move(config));
}

json pool(const std::string& name, json extra = json::object()) {
  json config{{"factory", "make:" + name}, {"destroy", "destroy:" + name}};
  config.update(extra);
  return definition("resourcePool", name, std::move(config));
}

// Answers with 1, 2, 3 ... (a new handle per call).
std::function<json(const json&)> counter() {
  auto n = std::make_shared<int>(0);
  return [n](const json&) { return json(++*n); };
}
std::function<json(const json&)> answer(json value) {
  return [value](const json&) { return value; };
}

json run(Harness& h, ResourceHost& host, std::vector<json> defs) {
  h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", prompt_spec({{"definitions", definitions(std::move(defs))}})}});
  REQUIRE(h.run(std::ref(host)));
  auto reply = h.reply(1);
  REQUIRE(reply);
  return *reply;
}

bool replied(const Harness& h, const std::string& id) { return h.reply(id).has_value(); }

std::vector<std::string> fns(const ResourceHost& host) {
  std::vector<std::string> out;
  for (const auto& call : host.calls) out.push_back(call.substr(0, call.find(' ')));
  return out;
}

}  // namespace

TEST_CASE("resource: concurrent first gets share one initialization; the run's end cleans it up", "[resource]") {
  Harness h;
  ResourceHost host;
  host.callbacks = {{"init:db", counter()}, {"clean:db", answer(nullptr)}};
  host.held = {"init:db"};
  host.script = [](Harness& h, ResourceHost& s) {
    if (s.stage == 0) {
      for (const char* id : {"g1", "g2", "g3"}) h.post(resource_command("resource.get", id, "db"));
      s.stage = 1;
    } else if (s.stage == 1) {
      s.held.clear();  // all three wait on the one initialize by now
      s.stage = 2;
    } else if (s.stage == 2 && replied(h, "g1") && replied(h, "g2") && replied(h, "g3")) {
      s.finished = true;
    }
  };
  const json reply = run(h, host, {resource("db")});
  CHECK(reply["ok"] == true);
  CHECK(fns(host) == std::vector<std::string>{"init:db", "clean:db"});
  for (const char* id : {"g1", "g2", "g3"}) CHECK((*h.reply(id))["value"] == 1);
  CHECK(host.calls[0] == R"(init:db [{"resource":"db","type":"test","attempt":1}])");
  CHECK(host.calls[1] == "clean:db [1]");
  CHECK(run_events(h, "resource-initialized").size() == 1);
  REQUIRE(run_events(h, "resource-cleanup").size() == 1);
  CHECK(run_events(h, "resource-cleanup")[0]["ok"] == true);
  // The clean-up ran before the run's reply.
  std::size_t cleanup_at = 0, reply_at = 0;
  for (std::size_t i = 0; i < h.host.events.size(); ++i) {
    const json& e = h.host.events[i];
    if (e["type"] == "run.event" && e["event"]["type"] == "resource-cleanup") cleanup_at = i;
    if (e["type"] == "reply" && e["id"] == 1) reply_at = i;
  }
  CHECK(cleanup_at < reply_at);
}

TEST_CASE("resource: a resource never used is never initialized nor cleaned up", "[resource]") {
  Harness h;
  ResourceHost host;
  host.finished = true;
  const json reply = run(h, host, {resource("db")});
  CHECK(reply["ok"] == true);
  CHECK(host.calls.empty());
}

TEST_CASE("resource: a failed health check cleans the value up and initializes it again", "[resource]") {
  Harness h;
  ResourceHost host;
  auto healthy = std::make_shared<bool>(true);
  host.callbacks = {{"init:db", counter()}, {"clean:db", answer(nullptr)}, {"health:db", [healthy](const json&) { return json(*healthy); }}};
  host.script = [healthy](Harness& h, ResourceHost& s) {
    if (s.stage == 0) {
      h.post(resource_command("resource.get", "g1", "db"));
      s.stage = 1;
    } else if (s.stage == 1 && replied(h, "g1")) {
      h.post(resource_command("resource.get", "g2", "db"));  // healthy: the same value
      s.stage = 2;
    } else if (s.stage == 2 && replied(h, "g2")) {
      *healthy = false;
      h.post(resource_command("resource.get", "g3", "db"));
      s.stage = 3;
    } else if (s.stage == 3 && replied(h, "g3")) {
      s.finished = true;
    }
  };
  const json reply = run(h, host, {resource("db", {{"healthCheck", "health:db"}})});
  CHECK(reply["ok"] == true);
  CHECK((*h.reply("g1"))["value"] == 1);
  CHECK((*h.reply("g2"))["value"] == 1);
  CHECK((*h.reply("g3"))["value"] == 2);
  CHECK(fns(host) == std::vector<std::string>{"init:db", "health:db", "health:db", "clean:db", "init:db", "clean:db"});
  CHECK(host.calls[3] == "clean:db [1]");
  CHECK(host.calls[5] == "clean:db [2]");
  REQUIRE(run_events(h, "resource-unhealthy").size() == 1);
  CHECK(run_events(h, "resource-unhealthy")[0]["reason"] == "healthCheck returned false");
}

TEST_CASE("resource: initialize is retried by its retryPolicy; past it the get fails with RESOURCE_INIT_FAILED", "[resource]") {
  auto attempt = [](int fail_times, int max_attempts) {
    Harness h;
    ResourceHost host;
    auto calls = std::make_shared<int>(0);
    host.callbacks = {{"init:db",
                       [calls, fail_times](const json&) -> json {
                         if (++*calls <= fail_times) throw std::runtime_error("connection refused");
                         return json(7);
                       }},
                      {"clean:db", answer(nullptr)}};
    host.script = [](Harness& h, ResourceHost& s) {
      if (s.stage == 0) {
        h.post(resource_command("resource.get", "g", "db"));
        s.stage = 1;
      } else if (replied(h, "g")) {
        s.finished = true;
      }
    };
    json policy{{"maxAttempts", max_attempts}, {"backoff", "constant"}, {"baseDelay", 100}, {"jitter", false}};
    run(h, host, {resource("db", {{"retryPolicy", policy}})});
    return std::make_tuple(*h.reply("g"), *calls, h.clock);
  };
  auto [ok, tries, clock] = attempt(1, 3);
  CHECK(ok["ok"] == true);
  CHECK(ok["value"] == 7);
  CHECK(tries == 2);
  CHECK(clock == 100);  // one backoff on the virtual clock
  auto [failed, all, _] = attempt(5, 2);
  CHECK(failed["ok"] == false);
  CHECK(failed["error"]["kind"] == "resource");
  CHECK(failed["error"]["code"] == "RESOURCE_INIT_FAILED");
  CHECK(failed["error"]["resource"] == "db");
  CHECK(failed["error"]["cause"]["message"] == "connection refused");
  CHECK(all == 2);
}

TEST_CASE("resource: resources and pools are cleaned up newest first, also when the run is cancelled", "[resource]") {
  for (const bool cancel : {false, true}) {
    Harness h;
    ResourceHost host;
    host.callbacks = {{"init:a", answer(1)},        {"clean:a", answer(nullptr)}, {"init:b", answer(2)},
                      {"clean:b", answer(nullptr)}, {"make:p", answer(3)},        {"destroy:p", answer(nullptr)}};
    host.script = [cancel](Harness& h, ResourceHost& s) {
      if (s.stage == 0) {
        h.post(resource_command("resource.get", "b", "b"));
        s.stage = 1;
      } else if (s.stage == 1 && replied(h, "b")) {
        h.post(resource_command("resource.acquire", "p", "p"));
        s.stage = 2;
      } else if (s.stage == 2 && replied(h, "p")) {
        h.post(resource_command("resource.get", "a", "a"));
        s.stage = 3;
      } else if (s.stage == 3 && replied(h, "a")) {
        if (cancel)
          h.post(json{{"type", "run.cancel"}, {"id", "c"}, {"run", 1}});
        else
          s.finished = true;
        s.stage = 4;
      }
    };
    const json reply = run(h, host, {resource("a"), resource("b"), pool("p")});
    CHECK(reply["ok"] == !cancel);
    if (cancel) CHECK(reply["error"]["kind"] == "aborted");
    CHECK(fns(host) == std::vector<std::string>{"init:b", "make:p", "init:a", "clean:a", "destroy:p", "clean:b"});
    REQUIRE(run_events(h, "pool-drained").size() == 1);
    CHECK(run_events(h, "pool-drained")[0]["destroyed"] == 1);
    // Clean-up ops run outside the (possibly cancelled) run.
    for (const auto& op : h.host.started)
      if (op["op"] == "callback.invoke" && (op["fn"] == "clean:a" || op["fn"] == "clean:b" || op["fn"] == "destroy:p")) CHECK(op["run"] == 0);
  }
}

TEST_CASE("resource pool: acquirers wait first come, first served", "[resource][pool]") {
  Harness h;
  ResourceHost host;
  host.callbacks = {{"make:p", counter()}, {"destroy:p", answer(nullptr)}};
  std::vector<std::string> served;
  host.script = [&served](Harness& h, ResourceHost& s) {
    auto note = [&](const char* id) {
      if (replied(h, id) && std::find(served.begin(), served.end(), id) == served.end()) served.push_back(id);
    };
    for (const char* id : {"a1", "a2", "a3", "a4"}) note(id);
    if (s.stage == 0) {
      h.post(resource_command("resource.acquire", "a1", "p"));
      s.stage = 1;
    } else if (s.stage == 1 && replied(h, "a1")) {
      h.post(resource_command("resource.acquire", "a2", "p"));
      h.post(resource_command("resource.acquire", "a3", "p"));
      h.post(resource_command("resource.acquire", "a4", "p"));
      s.stage = 2;
    } else if (s.stage == 2) {
      h.post(resource_command("resource.release", "r1", "p", {{"handle", 1}}));
      s.stage = 3;
    } else if (s.stage == 3 && served.size() == 2) {
      h.post(resource_command("resource.release", "r2", "p", {{"handle", 1}}));
      s.stage = 4;
    } else if (s.stage == 4 && served.size() == 3) {
      h.post(resource_command("resource.release", "r3", "p", {{"handle", 1}}));
      s.stage = 5;
    } else if (s.stage == 5 && served.size() == 4) {
      s.finished = true;
    }
  };
  const json reply = run(h, host, {pool("p", {{"max", 1}})});
  CHECK(reply["ok"] == true);
  CHECK(served == std::vector<std::string>{"a1", "a2", "a3", "a4"});
  for (const char* id : {"a1", "a2", "a3", "a4"}) CHECK((*h.reply(id))["value"] == 1);
  CHECK(fns(host) == std::vector<std::string>{"make:p", "destroy:p"});  // one value, lent four times
  CHECK(h.clock == 0);                                                  // nobody waited for a timer
}

TEST_CASE("resource pool: an acquirer not served within acquireTimeout fails; later ones are still served", "[resource][pool]") {
  Harness h;
  ResourceHost host;
  host.callbacks = {{"make:p", counter()}, {"destroy:p", answer(nullptr)}};
  host.script = [](Harness& h, ResourceHost& s) {
    if (s.stage == 0) {
      h.post(resource_command("resource.acquire", "a1", "p"));
      s.stage = 1;
    } else if (s.stage == 1 && replied(h, "a1")) {
      h.post(resource_command("resource.acquire", "late", "p"));
      s.stage = 2;
    } else if (s.stage == 2 && replied(h, "late")) {
      h.post(resource_command("resource.acquire", "next", "p"));
      h.post(resource_command("resource.release", "r", "p", {{"handle", 1}}));
      s.stage = 3;
    } else if (s.stage == 3 && replied(h, "next")) {
      s.finished = true;
    }
  };
  const json reply = run(h, host, {pool("p", {{"max", 1}, {"acquireTimeout", 250}})});
  CHECK(reply["ok"] == true);
  const json late = *h.reply("late");
  CHECK(late["ok"] == false);
  CHECK(late["error"]["kind"] == "resource");
  CHECK(late["error"]["code"] == "POOL_ACQUIRE_TIMEOUT");
  CHECK(late["error"]["message"] == "resource pool \"p\": no value was free within acquireTimeout (250 ms; all 1 are in use)");
  CHECK(h.clock == 250);
  CHECK((*h.reply("next"))["value"] == 1);
}

TEST_CASE("resource pool: min values are made on first use; validate drops a stale idle value; idle ones expire down to min", "[resource][pool]") {
  Harness h;
  ResourceHost host;
  auto valid = std::make_shared<bool>(true);
  host.callbacks = {{"make:p", counter()}, {"destroy:p", answer(nullptr)}, {"check:p", [valid](const json&) { return json(*valid); }}};
  host.script = [valid](Harness& h, ResourceHost& s) {
    if (s.stage == 0) {
      h.post(resource_command("resource.acquire", "a1", "p"));
      s.stage = 1;
    } else if (s.stage == 1 && replied(h, "a1")) {
      h.post(resource_command("resource.release", "r1", "p", {{"handle", (*h.reply("a1"))["value"]}}));
      s.stage = 2;
    } else if (s.stage == 2 && replied(h, "r1")) {
      *valid = false;  // the oldest idle value fails validation: it is destroyed and the next is tried
      h.post(resource_command("resource.acquire", "a2", "p"));
      s.stage = 3;
    } else if (s.stage == 3 && replied(h, "a2")) {
      s.finished = true;
    }
  };
  const json reply = run(h, host, {pool("p", {{"min", 2}, {"max", 3}, {"validate", "check:p"}})});
  CHECK(reply["ok"] == true);
  CHECK((*h.reply("a1"))["ok"] == true);
  // Two made on first use (the acquirer's and one warm-up); both idle ones fail validation, so a third is made.
  CHECK((*h.reply("a2"))["value"] == 3);
  std::vector<std::string> made;
  for (const auto& f : fns(host))
    if (f == "make:p") made.push_back(f);
  CHECK(made.size() == 3);
  REQUIRE(run_events(h, "pool-drained").size() == 1);
  CHECK(run_events(h, "pool-drained")[0]["destroyed"] == 1);
}

TEST_CASE("resource pool: an idle value past idleTimeout is destroyed (never below min)", "[resource][pool]") {
  Harness h;
  ResourceHost host;
  host.callbacks = {{"make:p", counter()}, {"destroy:p", answer(nullptr)}};
  host.script = [](Harness& h, ResourceHost& s) {
    if (s.stage == 0) {
      h.post(resource_command("resource.acquire", "a1", "p"));
      h.post(resource_command("resource.acquire", "a2", "p"));
      s.stage = 1;
    } else if (s.stage == 1 && replied(h, "a1") && replied(h, "a2")) {
      h.post(resource_command("resource.release", "r1", "p", {{"handle", 1}}));
      h.post(resource_command("resource.release", "r2", "p", {{"handle", 2}}));
      s.stage = 2;
    } else if (s.stage == 2 && !run_events(h, "pool-item").empty() && run_events(h, "pool-item").back()["action"] == "destroyed") {
      s.finished = true;
    }
  };
  const json reply = run(h, host, {pool("p", {{"min", 1}, {"max", 2}, {"idleTimeout", 1000}})});
  CHECK(reply["ok"] == true);
  CHECK(h.clock == 1000);
  const auto items = run_events(h, "pool-item");
  REQUIRE(items.size() == 3);
  CHECK(items[2]["action"] == "destroyed");
  CHECK(items[2]["size"] == 1);
  CHECK(run_events(h, "pool-drained")[0]["destroyed"] == 1);
}

TEST_CASE("resource pool: release of a value not out is an error; bad definitions name the field", "[resource][pool]") {
  {
    Harness h;
    ResourceHost host;
    host.callbacks = {{"make:p", counter()}, {"destroy:p", answer(nullptr)}};
    host.script = [](Harness& h, ResourceHost& s) {
      if (s.stage == 0) {
        h.post(resource_command("resource.release", "r", "p", {{"handle", 9}}));
        h.post(resource_command("resource.get", "u", "nope"));
        s.stage = 1;
      } else if (replied(h, "r") && replied(h, "u")) {
        s.finished = true;
      }
    };
    run(h, host, {pool("p"), resource("db")});
    CHECK((*h.reply("r"))["error"]["code"] == "RESOURCE_NOT_ACQUIRED");
    CHECK((*h.reply("u"))["error"]["kind"] == "config");
    CHECK((*h.reply("u"))["error"]["message"] == "resource.get: unknown resource \"nope\" (defined: db)");
  }
  auto start_error = [](json def) {
    Harness h;
    h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", prompt_spec({{"definitions", definitions({std::move(def)})}})}});
    ResourceHost host;
    REQUIRE(h.run(std::ref(host)));
    return (*h.reply(1))["error"]["message"].get<std::string>();
  };
  CHECK_THAT(start_error(pool("p", {{"min", 5}, {"max", 2}})), Catch::Contains("\"min\" (5) must not exceed \"max\" (2)"));
  CHECK_THAT(start_error(pool("p", {{"size", 2}})), Catch::Contains("size"));
  CHECK_THAT(start_error(resource("db", {{"retryPolicy", "nope"}})), Catch::Contains("unknown retry policy \"nope\""));
  CHECK_THAT(start_error(definition("resource", "db", {{"type", "x"}})), Catch::Contains("initialize"));
}

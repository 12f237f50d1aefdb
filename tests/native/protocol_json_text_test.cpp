// Hostile text at the engine's boundary: nesting deeper than the limit, lone UTF-16 surrogates,
// invalid UTF-8 and lines that cannot be parsed. Nothing may fault the engine, and nothing may be
// left waiting for an answer that never comes.
#include <catch2/catch.hpp>

#include "protocol/json_text.hpp"
#include "scripted_host.hpp"

using namespace lmthing;
using namespace lmthing::protocol;
using namespace lmthing::testing;
using Catch::Contains;

namespace {

std::string nested_array(std::size_t depth, const std::string& inner = "1") { return std::string(depth, '[') + inner + std::string(depth, ']'); }

// Changes the process-wide limits for one test and restores them after it.
struct LimitsGuard {
  Limits saved = limits();
  explicit LimitsGuard(std::size_t json_depth) { set_limits(Limits{json_depth}); }
  ~LimitsGuard() { set_limits(saved); }
};

json start_message(std::uint64_t id, json spec) { return json{{"type", "run.start"}, {"id", id}, {"spec", std::move(spec)}}; }
json call_f(json args) { return json{{"kind", "call"}, {"fn", "f"}, {"args", std::move(args)}}; }

}  // namespace

TEST_CASE("scan: nesting is measured without recursion and the scan stops past the limit", "[protocol][limits]") {
  std::string repaired;
  const TextScan deep = scan_json_text(nested_array(200000), 1000, repaired);
  CHECK(deep.too_deep);
  CHECK(deep.depth == 1001);

  const TextScan fine = scan_json_text(R"({"a":[{"b":[1,2]},"[[[[{{{{"],"c":"]]]\"[["})", 4, repaired);
  CHECK_FALSE(fine.too_deep);
  CHECK(fine.depth == 4);  // brackets inside strings (escaped quotes included) do not count
  CHECK_FALSE(fine.repaired);
}

TEST_CASE("scan: lone surrogate escapes become U+FFFD, pairs and escaped backslashes stay", "[protocol][text]") {
  const auto repair = [](const std::string& text) {
    std::string out;
    const TextScan scan = scan_json_text(text, 100, out);
    return scan.repaired ? out : text;
  };
  CHECK(repair(R"(["a\ud83d"])") == R"(["a\ufffd"])");                  // half an emoji at the end
  CHECK(repair(R"(["\ud83dx\ude00"])") == R"(["\ufffdx\ufffd"])");      // a high and a low, apart
  CHECK(repair(R"(["\uD83D\uDE00 ok"])") == R"(["\uD83D\uDE00 ok"])");  // a pair is kept
  CHECK(repair(R"(["\\ud83d"])") == R"(["\\ud83d"])");                  // a backslash, then text
  CHECK(repair(R"(["\ud83d\ud83d\ude00"])") == R"(["\ufffd\ud83d\ude00"])");
  CHECK(repair(R"({"\udc00key":1})") == R"({"\ufffdkey":1})");  // keys too
  for (const char* text : {R"(["a\ud83d"])", R"({"\udc00key":"\ud800"})"}) CHECK_NOTHROW(json::parse(repair(text)));
}

TEST_CASE("scan: bytes that are not UTF-8 become U+FFFD", "[protocol][text]") {
  std::string out;
  const std::string bad =
      "[\"a\xC0\x80"
      "b\xED\xA0\x80"
      "c\xF5\xFF"
      "d\xE2\x82\"]";  // overlong, surrogate, out of range, cut
  const TextScan scan = scan_json_text(bad, 10, out);
  REQUIRE(scan.repaired);
  const json value = json::parse(out);
  CHECK(value[0] ==
        "a\xEF\xBF\xBD\xEF\xBF\xBD"
        "b\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
        "c\xEF\xBF\xBD\xEF\xBF\xBD"
        "d\xEF\xBF\xBD\xEF\xBF\xBD");
  const std::string good = "[\"caf\xC3\xA9 \xF0\x9F\x98\x80\"]";
  CHECK_FALSE(scan_json_text(good, 10, out).repaired);
}

TEST_CASE("parse_limited: refuses nesting beyond the limit with a typed limit error", "[protocol][limits]") {
  LimitsGuard guard(50);
  CHECK(parse_limited(nested_array(50)).is_array());
  try {
    parse_limited(nested_array(51), "the arguments of tool \"x\"");
    FAIL("expected LimitExceeded");
  } catch (const LimitExceeded& e) {
    CHECK(e.error.kind == "limit");
    CHECK(e.error.message == "the arguments of tool \"x\" is nested deeper than the limit of 50 levels");
    CHECK(e.error.extra["limit"] == "jsonDepth");
    CHECK(e.error.extra["levels"] == 50);
  }
  CHECK_THROWS_AS(parse_limited(nested_array(100000)), LimitExceeded);
  CHECK_THROWS_AS(parse_limited("{broken"), json::parse_error);
  // A NUL byte would end nlohmann's input early: what follows it must not be ignored.
  CHECK_THROWS_AS(parse_limited(std::string_view("{\"a\":1}\0{\"b\":2}", 15)), json::parse_error);
  CHECK_THROWS_AS(parse_limited(std::string_view("\"a\0b\"", 5)), json::parse_error);
  CHECK(parse_limited(R"("\ud83d")") == "\xEF\xBF\xBD");
  // Objects keep the text's key order (defData).
  CHECK(parse_limited<lmthing::Json>(R"({"z":1,"a":2})").dump() == R"({"z":1,"a":2})");
}

TEST_CASE("json_depth and check_depth measure built values without recursion", "[protocol][limits]") {
  LimitsGuard guard(100);
  json deep = 1;
  for (int i = 0; i < 100000; ++i) deep = json::array({std::move(deep)});  // destroyed without deep recursion (json.hpp)
  CHECK(json_depth(deep, 100) == 101);
  CHECK_THROWS_AS(check_depth(deep, "x"), LimitExceeded);
  CHECK(json_depth(json::parse(R"({"a":[1,{"b":{}}],"c":2})"), 100) == 4);
  CHECK(json_depth(json(5), 100) == 0);
}

TEST_CASE("recover_envelope reads the type and id of a broken message", "[protocol]") {
  Envelope a = recover_envelope(R"({"type":"run.start","id":3,"spec":{"x":[1,2)");
  CHECK(a.type == std::optional<std::string>("run.start"));
  CHECK(a.id == std::optional<json>(json(3)));
  Envelope b = recover_envelope("{\"spec\":" + nested_array(5000) + ",\"type\":\"schema.validate\",\"id\":\"v-1\"}");
  CHECK(b.type == std::optional<std::string>("schema.validate"));
  CHECK(b.id == std::optional<json>(json("v-1")));
  Envelope c = recover_envelope(R"({"type":"op.done","id":7,"ok":true,"value":"a\ud83d"})");
  CHECK(c.id == std::optional<json>(json(7)));
  CHECK_FALSE(recover_envelope("[1,2]").type);
  CHECK_FALSE(recover_envelope(R"({"type":["run.start"],"id":{}})").type);
  CHECK_FALSE(recover_envelope(R"({"type":["run.start"],"id":{}})").id);
  CHECK_FALSE(recover_envelope("").id);
}

TEST_CASE("a host op's result nested too deeply fails that op with a limit error; the run ends", "[protocol][limits]") {
  LimitsGuard guard(64);
  Harness h;
  h.post(start_message(1, call_f(json::array({1}))));
  REQUIRE(h.run([](Harness& hh) {
    const OpId id = hh.host.started.back()["id"].get<OpId>();
    hh.post_raw(R"({"type":"op.done","id":)" + std::to_string(id) + R"(,"ok":true,"value":)" + nested_array(65) + "}");
  }));
  const json reply = *h.reply(1);
  REQUIRE(reply["ok"] == false);
  CHECK(reply["error"]["kind"] == "limit");
  CHECK(reply["error"]["message"] == "the result of callback.invoke op 1 is nested deeper than the limit of 64 levels");
  CHECK(h.host.events_of_type("protocol.error").empty());
  CHECK(h.engine.active_runs() == 0);
}

TEST_CASE("a host op's result that is not JSON fails the op instead of leaving it pending", "[protocol]") {
  Harness h;
  h.post(start_message(1, call_f(json::array())));
  REQUIRE(h.run([](Harness& hh) {
    const OpId id = hh.host.started.back()["id"].get<OpId>();
    hh.post_raw(R"({"type":"op.done","id":)" + std::to_string(id) + R"(,"ok":true,"value":[1,2})");
  }));
  const json reply = *h.reply(1);
  CHECK(reply["error"]["kind"] == "protocol");
  CHECK_THAT(reply["error"]["message"].get<std::string>(),
             Contains("the result of callback.invoke op 1 could not be read") && Contains("not valid JSON"));
}

TEST_CASE("commands that are too deep or unreadable still get an error reply", "[protocol][limits]") {
  LimitsGuard guard(32);
  Harness h;
  h.post_raw(R"({"type":"run.start","id":1,"spec":{"kind":"call","fn":"f","args":)" + nested_array(40) + "}}");
  h.post_raw("{\"type\":\"schema.validate\",\"schema\":" + nested_array(200000) + ",\"value\":1,\"id\":\"v\"}");
  h.post_raw(R"({"type":"run.start","id":3,"spec":{"kind":"call","fn":"f","args":[1,}})");
  h.post_raw(R"({"id":4,"spec":{}})");               // no type: nothing to answer as
  h.post(json{{"type", "engine.info"}, {"id", 5}});  // the loop keeps going
  REQUIRE(h.run([](Harness&) {}));
  CHECK((*h.reply(1))["error"]["kind"] == "limit");
  CHECK_THAT((*h.reply(1))["error"]["message"].get<std::string>(), Contains("run.start: message is nested deeper than the limit of 32 levels"));
  CHECK((*h.reply("v"))["error"]["kind"] == "limit");
  CHECK((*h.reply(3))["error"]["kind"] == "protocol");
  CHECK_THAT((*h.reply(3))["error"]["message"].get<std::string>(), Contains("not valid JSON"));
  CHECK((*h.reply(5))["ok"] == true);
  const auto errors = h.host.events_of_type("protocol.error");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0]["error"]["message"].get<std::string>(), Contains("string \"type\""));
  CHECK(h.host.started.empty());
}

TEST_CASE("lone surrogates in arguments and results arrive as U+FFFD and the run finishes", "[protocol][text]") {
  Harness h;
  h.post_raw(R"({"type":"run.start","id":1,"spec":{"kind":"call","fn":"f","args":["half \ud83d"]}})");
  REQUIRE(h.run([](Harness& hh) {
    const json& op = hh.host.started.back();
    REQUIRE(op["args"][0] == "half \xEF\xBF\xBD");
    hh.post_raw(R"({"type":"op.done","id":)" + op["id"].dump() + R"(,"ok":true,"value":{"\udc00":"x\ud800"}})");
  }));
  const json reply = *h.reply(1);
  REQUIRE(reply["ok"] == true);
  CHECK(reply["value"] == json{{"\xEF\xBF\xBD", "x\xEF\xBF\xBD"}});
}

TEST_CASE("engine.configure sets the depth limit within its bounds", "[protocol][limits]") {
  LimitsGuard guard(kDefaultJsonDepth);
  Harness h;
  h.post(json{{"type", "engine.configure"}, {"id", 1}, {"limits", {{"jsonDepth", 8}}}});
  REQUIRE(h.run([](Harness&) {}));  // the limits apply from the next batch on
  h.post_raw(R"({"type":"run.start","id":2,"spec":{"kind":"call","fn":"f","args":)" + nested_array(6) + "}}");  // 8 deep in all
  h.post_raw(R"({"type":"run.start","id":3,"spec":{"kind":"call","fn":"f","args":)" + nested_array(7) + "}}");  // 9
  h.post(json{{"type", "engine.configure"}, {"id", 4}, {"limits", {{"jsonDepth", 0}}}});
  h.post(json{{"type", "engine.configure"}, {"id", 5}, {"limits", {{"jsonDepth", kMaxJsonDepth + 1}}}});
  h.post(json{{"type", "engine.configure"}, {"id", 6}, {"limits", {{"jsonDepth", "deep"}}}});
  h.post(json{{"type", "engine.configure"}, {"id", 7}});
  REQUIRE(h.run([](Harness& hh) { hh.post(Harness::done_ok(hh.host.started.back()["id"].get<OpId>(), 1)); }));
  CHECK((*h.reply(1))["value"]["limits"] == json{{"jsonDepth", 8}, {"maxJsonDepth", kMaxJsonDepth}});
  CHECK((*h.reply(2))["ok"] == true);
  CHECK((*h.reply(3))["error"]["kind"] == "limit");
  for (int id : {4, 5, 6}) {
    CHECK((*h.reply(id))["error"]["kind"] == "protocol");
    CHECK_THAT((*h.reply(id))["error"]["message"].get<std::string>(), Contains("\"limits.jsonDepth\" must be an integer from 1 to"));
  }
  CHECK((*h.reply(7))["value"]["limits"]["jsonDepth"] == 8);
}

TEST_CASE("a value the engine parses itself (defData text) beyond the limit fails the run with a limit error", "[protocol][limits]") {
  LimitsGuard guard(100);
  Harness h;
  json spec{{"kind", "prompt"}, {"model", "m"}, {"variables", json::array({{{"name", "d"}, {"data", nested_array(5000)}}})}};
  h.post(start_message(1, spec));
  REQUIRE(h.run([](Harness&) {}));
  const json reply = *h.reply(1);
  CHECK(reply["error"]["kind"] == "limit");
  CHECK_THAT(reply["error"]["message"].get<std::string>(), Contains("nested deeper than the limit of 100 levels"));
  CHECK(h.host.started.empty());
  CHECK(h.engine.active_runs() == 0);
}

TEST_CASE("engine.fault names the input that was being handled", "[protocol]") {
  Harness h;
  h.post(json{{"type", "run.start"}, {"id", 9}, {"spec", {{"kind", "fault"}, {"where", "loop"}}}});
  CHECK_FALSE(h.run([](Harness&) {}));
  const auto faults = h.host.events_of_type("engine.fault");
  REQUIRE(faults.size() == 1);
  CHECK(faults[0]["error"]["input"] == "run.start #9 (fault)");
}

TEST_CASE("json: objects keep their written order; == and cache keys ignore it", "[protocol]") {
  const json written = parse_limited(R"({"z":1,"a":{"y":true,"b":[{"k":2,"c":3}]}})");
  CHECK(written.dump() == R"({"z":1,"a":{"y":true,"b":[{"k":2,"c":3}]}})");
  const json reordered = parse_limited(R"({"a":{"b":[{"c":3,"k":2}],"y":true},"z":1})");
  CHECK(written == reordered);
  CHECK_FALSE(written != reordered);
  CHECK(written != parse_limited(R"({"a":{"b":[{"c":3,"k":2}],"y":false},"z":1})"));
  CHECK(canonical_dump(written) == canonical_dump(reordered));
  CHECK(canonical_dump(written) == R"({"a":{"b":[{"c":3,"k":2}],"y":true},"z":1})");
  // Large objects (the sorted comparison path) too.
  json big_forward = json::object(), big_backward = json::object();
  for (int i = 0; i < 40; ++i) big_forward["k" + std::to_string(i)] = i;
  for (int i = 39; i >= 0; --i) big_backward["k" + std::to_string(i)] = i;
  CHECK(big_forward == big_backward);
  big_backward["k7"] = -1;
  CHECK(big_forward != big_backward);
}

TEST_CASE("json: large objects (indexed keys) find, erase, re-add, copy and clear like small ones", "[protocol]") {
  for (const int n : {5, 100, 20000}) {
    json object = json::object();
    for (int i = n - 1; i >= 0; --i) object["k" + std::to_string(i)] = i;
    REQUIRE(object.size() == static_cast<std::size_t>(n));
    CHECK(object.begin().key() == "k" + std::to_string(n - 1));  // written order
    CHECK(object.at("k0") == 0);
    CHECK(object.value("k3", -1) == 3);
    CHECK_FALSE(object.contains("absent"));
    object.erase("k2");
    CHECK_FALSE(object.contains("k2"));
    CHECK(object["k3"] == 3);  // positions after the erased member still resolve
    object["k2"] = -2;         // back, at the end
    CHECK((--object.end()).key() == "k2");
    json copy = object;
    copy.erase(copy.find("k1"));
    CHECK(object.contains("k1"));
    CHECK_FALSE(copy.contains("k1"));
    CHECK(json::parse(object.dump()) == object);
    object.clear();
    CHECK_FALSE(object.contains("k0"));
    object["k0"] = 7;
    CHECK(object.at("k0") == 7);
  }
  // One member per key, the last one written wins (as with sorted keys).
  CHECK(parse_limited(R"({"a":1,"b":2,"a":3})") == json{{"a", 3}, {"b", 2}});
}

TEST_CASE("json: a growing object moves its members' values instead of copying them", "[protocol]") {
  // An object built from a list has no spare room; the next member makes it grow.
  json event{{"type", "message-appended"}, {"message", json{{"role", "user"}, {"content", std::string(1000, 'x')}}}};
  const auto* content = &event["message"]["content"].get_ref<const std::string&>();
  for (int i = 0; i < 100; ++i) event["k" + std::to_string(i)] = i;  // grows several times, then past the index size
  CHECK(&event["message"]["content"].get_ref<const std::string&>() == content);
  CHECK(event["message"]["content"] == std::string(1000, 'x'));
  CHECK(event.begin().key() == "type");
  CHECK(event.at("k99") == 99);
}

namespace {

// A key whose copy fails once a countdown reaches zero, for the growth test below.
int key_copies_left = -1;
struct FlakyKey {
  std::string text;
  FlakyKey(const char* t) : text(t) {}  // implicit: keys are written as literals
  FlakyKey(const FlakyKey& other) : text(other.text) {
    if (key_copies_left >= 0 && key_copies_left-- == 0) throw std::bad_alloc();
  }
  operator std::string_view() const { return text; }  // implicit: how the map compares keys
};

}  // namespace

TEST_CASE("json: an object whose growth fails keeps every member", "[protocol]") {
  for (int fail_at = 0; fail_at < 4; ++fail_at) {
    WrittenOrderMap<FlakyKey, std::string> members;
    const char* keys[] = {"a", "b", "c", "d"};
    for (const char* key : keys) members.emplace(key, std::string(40, key[0]));
    REQUIRE(members.size() == members.capacity());  // the next member makes it grow
    key_copies_left = fail_at;
    CHECK_THROWS_AS(members.emplace("e", std::string(40, 'e')), std::bad_alloc);
    key_copies_left = -1;
    REQUIRE(members.size() == 4);
    std::size_t i = 0;
    for (const auto& member : members) CHECK(member.second == std::string(40, keys[i++][0]));  // the map's [] takes keys
  }
}

TEST_CASE("json: destroying values nested far deeper than the recursion limit does not overflow the stack", "[protocol][limits]") {
  constexpr int kDepth = 200000;  // the native suite's stack is 1 MB under Emscripten
  json arrays = json::array();
  json objects = json::object();
  json mixed = "leaf";
  for (int i = 0; i < kDepth; ++i) {
    json array = json::array();
    array.push_back(std::move(arrays));
    arrays = std::move(array);
    json object = json::object();
    object["child"] = std::move(objects);
    object["text"] = "a string long enough to be allocated on its own";
    objects = std::move(object);
    json wrapper = i % 2 == 0 ? json::array() : json::object();
    if (i % 2 == 0)
      wrapper.push_back(std::move(mixed));
    else
      wrapper["m"] = std::move(mixed);
    mixed = std::move(wrapper);
  }
  CHECK(json_depth(arrays, kDepth + 10) == kDepth + 1);
  arrays = nullptr;
  objects = nullptr;
  mixed = nullptr;
  CHECK(json_teardown::depth == 0);  // balanced after the recursive and the heap-list teardown
}

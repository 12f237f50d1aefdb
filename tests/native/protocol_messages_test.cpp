#include <algorithm>
#include <vector>

#include <catch2/catch.hpp>

#include "protocol/messages.hpp"

using namespace lmthing::protocol;

TEST_CASE("a batch is the clock line then one JSON message per line", "[protocol]") {
  auto batch = parse_batch("1500.5\n{\"type\":\"a\"}\n\n{\"type\":\"b\",\"x\":[1,2]}");
  REQUIRE(batch.now_ms == 1500.5);
  REQUIRE(batch.lines.size() == 2);
  REQUIRE(batch.lines[1].message["x"][1] == 2);
  REQUIRE(batch.lines[0].problem.empty());
}

TEST_CASE("malformed lines are reported in their place and the others delivered", "[protocol]") {
  auto batch = parse_batch("abc\n{\"type\":\"ok\"}\n{\"type\":5}\n\"str\"\n{broken");
  REQUIRE(batch.lines.size() == 5);
  CHECK_THAT(batch.lines[0].problem, Catch::Contains("host clock"));
  REQUIRE(batch.lines[1].message["type"] == "ok");
  CHECK_THAT(batch.lines[2].problem, Catch::Contains("string \"type\""));
  CHECK_THAT(batch.lines[3].problem, Catch::Contains("string \"type\""));
  CHECK_THAT(batch.lines[4].problem, Catch::Contains("not valid JSON: {broken"));
}

TEST_CASE("long malformed lines are shortened in the report", "[protocol]") {
  std::string huge(100000, 'x');
  auto batch = parse_batch("0\n" + huge);
  REQUIRE(batch.lines.size() == 1);
  REQUIRE(batch.lines[0].problem.size() < 200);
}

TEST_CASE("required fields name what is missing and what was expected", "[protocol]") {
  json m{{"id", "seven"}, {"n", 1.5}};
  REQUIRE_THROWS_WITH(require_field(m, "spec", json::value_t::object, "run.start"), "run.start: missing field \"spec\" (expected object)");
  REQUIRE_THROWS_WITH(require_id(m, "id", "op.done"), "op.done: field \"id\" must be number, got string");
  REQUIRE_THROWS_WITH(require_id(m, "n", "op.done"), Catch::Contains("non-negative integer id, got 1.5"));
}

TEST_CASE("wire errors keep their extra fields both ways", "[protocol]") {
  json j{{"kind", "rate_limit"}, {"message", "slow down"}, {"retryAfterMs", 41000}};
  WireError e = WireError::from_json(j);
  REQUIRE(e.kind == "rate_limit");
  REQUIRE(e.extra["retryAfterMs"] == 41000);
  REQUIRE(e.to_json() == j);
  REQUIRE(WireError::from_json(json("oops")).kind == "callback");
}

// ---- blobs: long strings beside the JSON (protocol/blobs.hpp)

#include "protocol/blobs.hpp"

namespace {
std::string batch_with_blobs(std::string_view header, std::string_view lines, std::string_view blob_bytes) {
  std::string text(header);
  text += '\n';
  text += lines;
  text += '\0';
  text += blob_bytes;
  return text;
}
}  // namespace

TEST_CASE("a batch's blobs replace the markers that name them, bytes taken verbatim", "[protocol][blobs]") {
  const std::string m7 = std::string(kInboundMarkerPrefix) + "7";
  const std::string m8 = std::string(kInboundMarkerPrefix) + "8";
  json first{{"type", "op.done"}, {"id", 1}, {"value", {{"text", m7}, {"again", m7}}}};
  json second{{"type", "c"}, {"list", {m8, "small"}}};
  auto batch = parse_batch(batch_with_blobs("12 7:12 8:3", first.dump() + "\n" + second.dump(), std::string("line\none\"\\") + "\"}" + "x\ny"));
  REQUIRE(batch.now_ms == 12);
  REQUIRE(batch.lines.size() == 2);
  REQUIRE(batch.lines[0].problem.empty());
  CHECK(batch.lines[0].message["value"]["text"] == "line\none\"\\\"}");
  CHECK(batch.lines[0].message["value"]["again"] == "line\none\"\\\"}");
  CHECK(batch.lines[1].message["list"][0] == "x\ny");
  CHECK(batch.lines[1].message["list"][1] == "small");
}

TEST_CASE("blob bytes that are not UTF-8 become U+FFFD", "[protocol][blobs]") {
  const std::string marker = std::string(kInboundMarkerPrefix) + "a";
  auto batch = parse_batch(batch_with_blobs("0 a:3", json{{"type", "c"}, {"s", marker}}.dump(), "x\xffy"));
  REQUIRE(batch.lines.size() == 1);
  CHECK(batch.lines[0].message["s"] == "x\xEF\xBF\xBDy");
}

TEST_CASE("bad blob headers and unknown blobs are reported, never read out of bounds", "[protocol][blobs]") {
  const std::string marker = std::string(kInboundMarkerPrefix) + "9";
  const std::string line = json{{"type", "op.done"}, {"id", 4}, {"ok", true}, {"value", marker}}.dump();
  SECTION("more bytes named than carried") {
    auto batch = parse_batch(batch_with_blobs("0 9:1000", line, "abc"));
    CHECK_THAT(batch.lines[0].problem, Catch::Contains("blobs cannot be read"));
  }
  SECTION("a malformed entry") {
    auto batch = parse_batch(batch_with_blobs("0 9:x", line, "abc"));
    CHECK_THAT(batch.lines[0].problem, Catch::Contains("is not <id>:<bytes>"));
  }
  SECTION("no NUL before the bytes") {
    auto batch = parse_batch("0 9:3\n" + line + "abc");
    CHECK_THAT(batch.lines[0].problem, Catch::Contains("NUL"));
  }
  SECTION("a marker naming a blob the batch does not carry: the op's id is still recovered") {
    auto batch = parse_batch(batch_with_blobs("0 8:3", line, "abc"));
    REQUIRE(batch.lines.size() == 1);
    CHECK_THAT(batch.lines[0].problem, Catch::Contains("does not carry"));
    REQUIRE(batch.lines[0].envelope.id);
    CHECK(*batch.lines[0].envelope.id == 4);
  }
  SECTION("huge sizes do not overflow (too large for the batch, or for size_t in wasm32)") {
    auto batch = parse_batch(batch_with_blobs("0 9:18446744073709551615 8:2", line, "abc"));
    CHECK_THAT(batch.lines[0].problem, Catch::Contains("blobs cannot be read"));
    REQUIRE(batch.lines.size() == 2);
    CHECK_THAT(batch.lines[1].problem, Catch::Contains("does not carry"));  // its op fails instead of getting a marker
  }
}

TEST_CASE("outbound: long strings move beside the JSON once per distinct text", "[protocol][blobs]") {
  const std::string big(kBlobMinBytes, 'b');
  json event{{"type", "reply"}, {"text", big}, {"steps", {{{"text", big}}}}, {"small", "s"}};
  SECTION("a host without blobs gets plain JSON") { CHECK(render_outbound(event, false) == event.dump()); }
  SECTION("a host with blobs gets markers, a NUL and the bytes once") {
    const std::string text = render_outbound(event, true);
    const std::size_t nul = text.find('\0');
    REQUIRE(nul != std::string::npos);
    CHECK(text.size() - nul - 1 == big.size());
    json parsed = json::parse(text.substr(0, nul));
    const std::string marker = parsed["text"];
    CHECK(parsed["steps"][0]["text"] == marker);
    CHECK(parsed["small"] == "s");
    CHECK(marker.starts_with(std::string(kBlobMarkerPrefix) + "out:0:" + std::to_string(big.size()) + ":h:"));
    CHECK(event["text"] == big);  // the message itself is left as it was
  }
  SECTION("short messages are unchanged") { CHECK(render_outbound(json{{"type", "x"}}, true) == R"({"type":"x"})"); }
}

TEST_CASE("outbound: a message given up renders as the copied one, each distinct text once", "[protocol][blobs]") {
  const std::string first(kBlobMinBytes + 1, 'f');
  const std::string second(kBlobMinBytes + 2, 's');
  const json event{{"a", first}, {"b", {second, first}}, {"c", second}, {"n", 1}};
  const std::string copied = render_outbound(event, true);
  CHECK(render_outbound(json(event), true) == copied);

  const std::size_t nul = copied.find('\0');
  REQUIRE(nul != std::string::npos);
  const std::string region = copied.substr(nul + 1);
  CHECK(region.size() == first.size() + second.size());  // each distinct text once
  const json parsed = json::parse(copied.substr(0, nul));
  CHECK(parsed["b"][1] == parsed["a"]);
  CHECK(parsed["c"] == parsed["b"][0]);
  // Each marker names its text's offset and length in the region: "<prefix>out:<offset>:<length>:...".
  const auto text_at_marker = [&](const std::string& marker) {
    const std::string prefix = std::string(kBlobMarkerPrefix) + "out:";
    REQUIRE(marker.starts_with(prefix));
    const std::size_t colon = marker.find(':', prefix.size());
    const std::size_t offset = std::stoul(marker.substr(prefix.size(), colon - prefix.size()));
    const std::size_t length = std::stoul(marker.substr(colon + 1));
    return region.substr(offset, length);
  };
  CHECK(text_at_marker(parsed["a"]) == first);
  CHECK(text_at_marker(parsed["c"]) == second);
}

TEST_CASE("outbound in parts: the blobs are the message's own strings, not copies of them", "[protocol][blobs]") {
  const std::string first(kBlobMinBytes + 1, 'f');
  const std::string second(kBlobMinBytes + 2, 's');
  std::vector<std::string> seen;  // the blobs' bytes as the sender got them
  std::vector<const char*> where;
  std::string json_part;
  const OutboundSender sender = [&](std::string_view json_text, BlobBytes blobs) {
    json_part = json_text;
    seen.clear();
    where.clear();
    for (std::string_view blob : blobs) seen.emplace_back(blob), where.push_back(blob.data());
  };

  // Borrowed: the sender reads each long string where it is; the fields get the same buffers back.
  json fields{{"text", first}, {"again", first}, {"other", second}};
  const char* text_buffer = fields["text"].get_ref<const std::string&>().data();
  const char* again_buffer = fields["again"].get_ref<const std::string&>().data();
  const char* other_buffer = fields["other"].get_ref<const std::string&>().data();
  send_run_event_borrowing(2, fields, R"(,"type":"step-finish")", true, sender);
  REQUIRE(seen.size() == 2);  // each distinct text once, in offset order
  CHECK(joined_parts(json_part, std::vector<std::string_view>(seen.begin(), seen.end())) ==
        render_run_event_borrowing(2, fields, R"(,"type":"step-finish")", true));
  CHECK(std::count(where.begin(), where.end(), other_buffer) == 1);
  CHECK(std::count(where.begin(), where.end(), text_buffer) + std::count(where.begin(), where.end(), again_buffer) == 1);
  CHECK(fields["text"].get_ref<const std::string&>().data() == text_buffer);
  CHECK(fields["again"].get_ref<const std::string&>().data() == again_buffer);
  CHECK(fields["text"] == first);
  CHECK(fields["again"] == first);
  CHECK(fields["other"] == second);

  // Given up: the same parts as the joined text has; a message without long strings has none.
  const json message{{"a", first}, {"b", {second, first}}};
  send_outbound(json(message), true, sender);
  CHECK(joined_parts(json_part, std::vector<std::string_view>(seen.begin(), seen.end())) == render_outbound(message, true));
  send_outbound(json{{"short", "s"}}, true, sender);
  CHECK(seen.empty());
  CHECK(json_part == R"({"short":"s"})");
  CHECK(joined_parts(json_part, {}) == json_part);

  // A whole message borrowed: the same parts as when it is given up, and it keeps its own buffers.
  json reply{{"type", "reply"}, {"id", 3}, {"ok", true}, {"value", {{"index", 1}, {"message", {{"role", "assistant"}, {"content", first}}}}}};
  const char* content_buffer = reply["value"]["message"]["content"].get_ref<const std::string&>().data();
  send_outbound_borrowing(reply, true, sender);
  REQUIRE(seen.size() == 1);
  CHECK(where[0] == content_buffer);
  CHECK(joined_parts(json_part, std::vector<std::string_view>(seen.begin(), seen.end())) == render_outbound(reply, true));
  CHECK(reply["value"]["message"]["content"].get_ref<const std::string&>().data() == content_buffer);
  CHECK(reply["value"]["message"]["content"] == first);
  send_outbound_borrowing(reply, false, sender);  // a host without blobs gets the plain JSON
  CHECK(seen.empty());
  CHECK(json_part == reply.dump());
}

TEST_CASE("outbound: bytes the host sent are named by the host's blob id", "[protocol][blobs]") {
  std::string big(kBlobMinBytes + 3, 'q');
  big[5] = 'z';
  const std::string marker = std::string(kInboundMarkerPrefix) + "42";
  auto batch = parse_batch(batch_with_blobs("0 42:" + std::to_string(big.size()), json{{"type", "c"}, {"v", marker}}.dump(), big));
  REQUIRE(batch.lines[0].message["v"] == big);
  const std::string text = render_outbound(json{{"echo", big}}, true);
  const json parsed = json::parse(text.substr(0, text.find('\0')));
  CHECK(parsed["echo"].get<std::string>().ends_with(":in:42"));
}

namespace {
// The key render_outbound names `text` by: "in:<id>" or "h:<hash>:<bytes>".
std::string outbound_key(const std::string& text) {
  const std::string rendered = render_outbound(json{{"echo", text}}, true);
  const std::string marker = json::parse(rendered.substr(0, rendered.find('\0')))["echo"].get<std::string>();
  const std::size_t in = marker.find(":in:"), hashed = marker.find(":h:");
  return marker.substr(std::min(in, hashed) + 1);
}
// Sends `text` in as blob `id` of a batch of its own.
void send_in(const std::string& id, const std::string& text) {
  const std::string marker = std::string(kInboundMarkerPrefix) + id;
  auto batch = parse_batch(batch_with_blobs("0 " + id + ":" + std::to_string(text.size()), json{{"type", "c"}, {"v", marker}}.dump(), text));
  REQUIRE(batch.lines[0].message["v"] == text);
}
}  // namespace

TEST_CASE("outbound: the engine names bytes by the newest id they came in under, for its last 256 blobs", "[protocol][blobs]") {
  const std::string first(kBlobMinBytes + 10, 'a');
  send_in("7001", first);
  send_in("7002", first);  // the same bytes again: the newer id names them
  CHECK(outbound_key(first) == "in:7002");

  for (int i = 0; i < 255; ++i) send_in(std::to_string(8000 + i), std::string(kBlobMinBytes, 'b') + std::to_string(i));
  CHECK(outbound_key(first) == "in:7002");  // 256 blobs ago: still remembered
  send_in("9000", std::string(kBlobMinBytes, 'c'));
  CHECK(outbound_key(first).starts_with("h:"));  // pushed out: named by its hash, still correct
  CHECK(outbound_key(std::string(kBlobMinBytes, 'c')) == "in:9000");
}

TEST_CASE("outbound: a blob id too long to remember is named by the bytes' hash", "[protocol][blobs]") {
  const std::string text(kBlobMinBytes + 20, 'd');
  const std::string id(40, '9');
  send_in(id, text);
  CHECK(outbound_key(text).starts_with("h:"));
}

TEST_CASE("outbound: a short string that looks like a marker travels as a blob too", "[protocol][blobs]") {
  const std::string lookalike = std::string(kBlobMarkerPrefix) + "out:0:3:h:1:3";
  const std::string text = render_outbound(json{{"v", lookalike}}, true);
  const std::size_t nul = text.find('\0');
  REQUIRE(nul != std::string::npos);
  CHECK(text.substr(nul + 1) == lookalike);
}

TEST_CASE("text_hash tells apart texts that differ in one byte or in length", "[protocol][blobs]") {
  std::string a(1000, 'a');
  std::string b = a;
  b[999] = 'b';
  CHECK(text_hash(a) != text_hash(b));
  CHECK(text_hash(a) != text_hash(a + std::string(1, '\0')));
  CHECK(text_hash(a) == text_hash(std::string(1000, 'a')));
}

TEST_CASE("outbound: a run event is its event wrapped, its blobs after the wrapper", "[protocol][blobs]") {
  const json event{{"type", "step-finish"}, {"text", "hi"}, {"n", 1}};
  const json envelope{{"type", "run.event"}, {"run", 7}, {"event", event}};
  CHECK(render_run_event(7, json(event), true) == envelope.dump());
  CHECK(render_run_event(7, json(event), false) == envelope.dump());

  const std::string big(kBlobMinBytes, 'b');
  const json with_blob{{"type", "step-finish"}, {"text", big}};
  const std::string text = render_run_event(3, json(with_blob), true);
  CHECK(text == render_outbound(json{{"type", "run.event"}, {"run", 3}, {"event", with_blob}}, true));
  const std::size_t nul = text.find('\0');
  REQUIRE(nul != std::string::npos);
  CHECK(text.substr(nul + 1) == big);
  const json parsed = json::parse(text.substr(0, nul));
  CHECK(parsed["type"] == "run.event");
  CHECK(parsed["run"] == 3);
  CHECK(parsed["event"]["text"].get<std::string>().starts_with(std::string(kBlobMarkerPrefix) + "out:0:"));
}

TEST_CASE("outbound: a borrowed run event renders as the copied one and leaves its fields as they were", "[protocol][blobs]") {
  const std::string big(kBlobMinBytes + 3, 't');
  const std::string other(kBlobMinBytes + 5, 'o');
  const json record{{"stepNumber", 0}, {"text", big}, {"toolResults", {{{"result", big}}, {{"result", other}}}}, {"small", "s"}};
  const std::string members = R"(,"type":"step-finish","path":["root"])";
  json expected_event = record;
  expected_event["type"] = "step-finish";
  expected_event["path"] = json::array({"root"});
  for (const bool blobs : {true, false}) {
    json fields = record;
    const std::string text = render_run_event_borrowing(4, fields, members, blobs);
    CHECK(text == render_run_event(4, json(expected_event), blobs));
    CHECK(fields == record);  // every long string is back in its place, duplicates too
  }
  json empty = json::object();
  CHECK(render_run_event_borrowing(1, empty, members, true) == R"({"type":"run.event","run":1,"event":{"type":"step-finish","path":["root"]}})");
  json not_object = json::array();
  CHECK_THROWS_AS(render_run_event_borrowing(1, not_object, members, true), std::invalid_argument);
}

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

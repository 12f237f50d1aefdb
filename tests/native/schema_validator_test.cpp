// Error reporting and edge cases of lmthing::schema::Validator (the suite test covers verdicts).
#include <catch2/catch.hpp>

#include <string>

#include "protocol/json_text.hpp"
#include "schema/validator.hpp"
#include "schema/validator_cache.hpp"

namespace {

using lmthing::schema::SchemaError;
using lmthing::schema::ValidationIssue;
using lmthing::schema::ValidationResult;
using lmthing::schema::Validator;
using json = lmthing::Json;

// A typical tool-argument schema.
json toolSchema() {
  return json::parse(R"({
    "type": "object",
    "properties": {
      "name": {"type": "string", "minLength": 1},
      "mode": {"enum": ["fast", "slow"]},
      "limit": {"type": "integer", "minimum": 1, "maximum": 10},
      "tags": {"type": "array", "items": {"type": "string"}},
      "files": {
        "type": "array",
        "items": {
          "type": "object",
          "properties": {"path": {"type": "string", "pattern": "^/"}},
          "required": ["path"]
        }
      }
    },
    "required": ["name"],
    "additionalProperties": false
  })");
}

// The single issue of a result that must have exactly one.
ValidationIssue onlyIssue(const ValidationResult& result) {
  REQUIRE_FALSE(result.valid);
  REQUIRE(result.errors.size() == 1);
  return result.errors.front();
}

}  // namespace

TEST_CASE("valid tool arguments produce no errors", "[schema]") {
  const Validator validator(toolSchema());
  const auto result = validator.validate(json::parse(R"({"name": "x", "mode": "fast", "limit": 3, "tags": ["a"], "files": [{"path": "/tmp"}]})"));
  CHECK(result.valid);
  CHECK(result.errors.empty());
}

TEST_CASE("missing required property is reported at the object", "[schema]") {
  const auto issue = onlyIssue(Validator(toolSchema()).validate(json::object()));
  CHECK(issue.instancePath == "");
  CHECK(issue.schemaPath == "#/required");
  CHECK(issue.message == "must have required property 'name'");
}

TEST_CASE("wrong type nested in an array names the element", "[schema]") {
  const auto issue = onlyIssue(Validator(toolSchema()).validate(json::parse(R"({"name": "x", "tags": ["a", 2]})")));
  CHECK(issue.instancePath == "/tags/1");
  CHECK(issue.schemaPath == "#/properties/tags/items/type");
  CHECK(issue.message == "must be string");
}

TEST_CASE("missing property inside an array element", "[schema]") {
  const auto issue = onlyIssue(Validator(toolSchema()).validate(json::parse(R"({"name": "x", "files": [{"path": "/a"}, {}]})")));
  CHECK(issue.instancePath == "/files/1");
  CHECK(issue.schemaPath == "#/properties/files/items/required");
  CHECK(issue.message == "must have required property 'path'");
}

TEST_CASE("additionalProperties false names the extra property", "[schema]") {
  const auto issue = onlyIssue(Validator(toolSchema()).validate(json::parse(R"({"name": "x", "extra": 1})")));
  CHECK(issue.instancePath == "");
  CHECK(issue.schemaPath == "#/additionalProperties");
  CHECK(issue.message == "must NOT have additional properties ('extra')");
}

TEST_CASE("enum and range failures", "[schema]") {
  const Validator validator(toolSchema());
  const auto enumIssue = onlyIssue(validator.validate(json::parse(R"({"name": "x", "mode": "medium"})")));
  CHECK(enumIssue.instancePath == "/mode");
  CHECK(enumIssue.schemaPath == "#/properties/mode/enum");
  CHECK(enumIssue.message == R"(must be equal to one of the allowed values ("fast", "slow"))");

  const auto maxIssue = onlyIssue(validator.validate(json::parse(R"({"name": "x", "limit": 11})")));
  CHECK(maxIssue.instancePath == "/limit");
  CHECK(maxIssue.schemaPath == "#/properties/limit/maximum");
  CHECK(maxIssue.message == "must be <= 10");

  const auto typeIssue = onlyIssue(validator.validate(json::parse(R"({"name": "x", "limit": 2.5})")));
  CHECK(typeIssue.message == "must be integer");
}

TEST_CASE("pattern failure quotes the pattern", "[schema]") {
  const auto issue = onlyIssue(Validator(toolSchema()).validate(json::parse(R"({"name": "x", "files": [{"path": "rel"}]})")));
  CHECK(issue.instancePath == "/files/0/path");
  CHECK(issue.message == "must match pattern \"^/\"");
}

TEST_CASE("every failure is collected", "[schema]") {
  const auto result = Validator(toolSchema()).validate(json::parse(R"({"mode": 1, "extra": true})"));
  CHECK_FALSE(result.valid);
  CHECK(result.errors.size() == 3);  // required name, enum mode, additional extra
}

TEST_CASE("instance path tokens are escaped (RFC 6901)", "[schema]") {
  const json schema = {{"additionalProperties", {{"type", "string"}}}};
  const auto issue = onlyIssue(Validator(schema).validate(json{{"a/b~c", 1}}));
  CHECK(issue.instancePath == "/a~1b~0c");
  CHECK(issue.schemaPath == "#/additionalProperties/type");
}

TEST_CASE("errors through $ref point into the referenced schema", "[schema]") {
  const json schema = json::parse(R"({
    "definitions": {"pos": {"type": "integer", "minimum": 0}},
    "properties": {"x": {"$ref": "#/definitions/pos"}}
  })");
  const auto issue = onlyIssue(Validator(schema).validate(json{{"x", -1}}));
  CHECK(issue.instancePath == "/x");
  CHECK(issue.schemaPath == "#/definitions/pos/minimum");
  CHECK(issue.message == "must be >= 0");
}

TEST_CASE("anyOf reports the alternatives and the summary", "[schema]") {
  const json schema = {{"anyOf", json::array({{{"type", "string"}}, {{"type", "number"}}})}};
  const auto result = Validator(schema).validate(json(true));
  REQUIRE_FALSE(result.valid);
  REQUIRE(result.errors.size() == 3);
  CHECK(result.errors[0].schemaPath == "#/anyOf/0/type");
  CHECK(result.errors[1].schemaPath == "#/anyOf/1/type");
  CHECK(result.errors[2].message == "must match a schema in anyOf");
}

TEST_CASE("schemas that are not schemas throw SchemaError", "[schema]") {
  CHECK_THROWS_AS(Validator(json(5)), SchemaError);
  CHECK_THROWS_AS(Validator(json::parse(R"({"type": 5})")), SchemaError);
  CHECK_THROWS_AS(Validator(json::parse(R"({"type": "text"})")), SchemaError);
  CHECK_THROWS_AS(Validator(json::parse(R"({"required": "x"})")), SchemaError);
  CHECK_THROWS_AS(Validator(json::parse(R"({"minLength": -1})")), SchemaError);
  CHECK_THROWS_AS(Validator(json::parse(R"({"multipleOf": 0})")), SchemaError);
  CHECK_THROWS_AS(Validator(json::parse(R"({"pattern": "(unclosed"})")), SchemaError);
  CHECK_THROWS_AS(Validator(json::parse(R"({"properties": {"a": 3}})")), SchemaError);
  CHECK_THROWS_AS(Validator(json::parse(R"({"allOf": []})")), SchemaError);
  CHECK_THROWS_AS(Validator(json::parse(R"({"$ref": "#/definitions/missing"})")), SchemaError);
  CHECK_THROWS_AS(Validator(json::parse(R"({"$ref": "http://example.com/unknown.json"})")), SchemaError);
  CHECK_THROWS_AS(Validator(json::parse(R"({"definitions": {"a": {"$ref": "#/definitions/a"}}, "$ref": "#/definitions/a"})")), SchemaError);
  CHECK_THROWS_WITH(Validator(json::parse(R"({"properties": {"a": {"type": 5}}})")),
                    Catch::Contains("#/properties/a") && Catch::Contains("\"type\""));
  CHECK_THROWS_AS(lmthing::schema::validate(json("x"), json(1)), std::invalid_argument);
}

TEST_CASE("a pattern with a repetition count over 1000 is a SchemaError, not undefined behaviour", "[schema]") {
  // libstdc++'s std::regex reads counts without an overflow check (found by fuzz_schema).
  CHECK_THROWS_WITH(Validator(json::parse(R"({"pattern": "\\d{4999999999999999999999999,}$"})")),
                    Catch::Contains("the repetition count 4999") && Catch::Contains("is over the limit of 1000"));
  CHECK_THROWS_AS(Validator(json::parse(R"({"pattern": "a{2,1001}"})")), SchemaError);
  CHECK(Validator(json::parse(R"({"pattern": "^a{2,1000}$"})")).validate(json("aaa")).valid);
  // Escaped braces and braces in a class are not quantifiers.
  CHECK(Validator(json::parse(R"({"pattern": "\\{99999\\}"})")).validate(json("{99999}")).valid);
  CHECK(Validator(json::parse(R"({"pattern": "^[{9999999}]$"})")).validate(json("9")).valid);
}

TEST_CASE("string length counts code points", "[schema]") {
  const Validator validator(json::parse(R"({"type": "string", "minLength": 2, "maxLength": 3})"));
  CHECK(validator.validate(json("日本")).valid);     // 2 code points, 6 bytes
  CHECK(validator.validate(json("😀😀😀")).valid);      // 3 code points, 12 bytes
  CHECK_FALSE(validator.validate(json("é")).valid);  // 1 code point
  const auto issue = onlyIssue(validator.validate(json("abcd")));
  CHECK(issue.message == "must NOT have more than 3 characters");
}

TEST_CASE("patterns see code points and are unanchored", "[schema]") {
  const Validator validator(json::parse(R"({"type": "string", "pattern": "^.$"})"));
  CHECK(validator.validate(json("é")).valid);
  CHECK_FALSE(validator.validate(json("ab")).valid);
  CHECK(Validator(json{{"pattern", "b"}}).validate(json("abc")).valid);
}

TEST_CASE("integers, numeric equality and multipleOf", "[schema]") {
  CHECK(Validator(json{{"type", "integer"}}).validate(json(1.0)).valid);
  CHECK(Validator(json{{"const", 1}}).validate(json(1.0)).valid);
  CHECK(Validator(json{{"enum", json::array({json::array({1, 2})})}}).validate(json::array({1.0, 2.0})).valid);
  CHECK(Validator(json{{"multipleOf", 0.01}}).validate(json(19.99)).valid);
  CHECK(Validator(json{{"multipleOf", 0.0001}}).validate(json(0.0075)).valid);
  CHECK_FALSE(Validator(json{{"multipleOf", 0.01}}).validate(json(0.075)).valid);
  CHECK_FALSE(Validator(json{{"uniqueItems", true}}).validate(json::array({1, 1.0})).valid);
}

TEST_CASE("formats", "[schema]") {
  const auto check = [](const char* format, const char* value) { return Validator(json{{"format", format}}).validate(json(value)).valid; };
  CHECK(check("email", "joe@example.com"));
  CHECK_FALSE(check("email", "joe"));
  CHECK(check("date-time", "2024-02-29T12:00:00+01:00"));
  CHECK_FALSE(check("date-time", "2023-02-29T12:00:00Z"));
  CHECK(check("ipv6", "::ffff:192.168.0.1"));
  CHECK(check("uri", "https://example.com/a?b#c"));
  CHECK_FALSE(check("uri", "example.com/a"));
  CHECK(check("unknown-format", "anything"));
  const auto issue = onlyIssue(Validator(json{{"format", "ipv4"}}).validate(json("1.2.3")));
  CHECK(issue.message == "must match format \"ipv4\"");
}

TEST_CASE("refs to the built-in draft-07 metaschema", "[schema]") {
  const Validator meta(json{{"$ref", "http://json-schema.org/draft-07/schema#"}});
  CHECK(meta.validate(toolSchema()).valid);
  CHECK_FALSE(meta.validate(json::parse(R"({"type": "text"})")).valid);
  CHECK_FALSE(meta.validate(json::parse(R"({"required": "x"})")).valid);
}

TEST_CASE("remote refs go through the resolver", "[schema]") {
  const auto resolver = [](const std::string& uri) -> std::optional<json> {
    if (uri == "https://schemas.example/point.json") {
      return json::parse(R"({"type": "object", "required": ["x", "y"]})");
    }
    return std::nullopt;
  };
  const Validator validator(json::parse(R"({"$id": "https://schemas.example/shape.json",
                                            "items": {"$ref": "point.json"}})"),
                            resolver);
  CHECK(validator.validate(json::parse(R"([{"x": 1, "y": 2}])")).valid);
  const auto issue = onlyIssue(validator.validate(json::parse(R"([{"x": 1}])")));
  CHECK(issue.instancePath == "/0");
  CHECK(issue.schemaPath == "https://schemas.example/point.json#/required");
}

TEST_CASE("endlessly recursive schemas fail instead of overflowing the stack", "[schema]") {
  const Validator validator(json::parse(R"({"anyOf": [{"$ref": "#"}]})"));
  CHECK_FALSE(validator.validate(json(1)).valid);
}

// Speed is measured in bench/, not asserted here (the suite must pass on a loaded machine): this
// checks that a large array is validated whole, including a duplicate found at its very end.
TEST_CASE("uniqueItems over 100,000 objects finds the one duplicate at the end", "[schema]") {
  const Validator validator(json::parse(R"({
    "type": "array",
    "items": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
              "required": ["id"]},
    "uniqueItems": true
  })"));
  json instance = json::array();
  for (int i = 0; i < 100000; ++i) instance.push_back({{"id", i}, {"name", "item"}});
  CHECK(validator.validate(instance).valid);
  instance.push_back({{"name", "item"}, {"id", 4242}});  // equal to element 4242 (key order differs)
  const ValidationResult result = validator.validate(instance);
  REQUIRE_FALSE(result.valid);
  CHECK(result.errors.at(0).schemaPath == "#/uniqueItems");
}

TEST_CASE("values and schemas deeper than the engine's limit are refused without recursion", "[schema][limits]") {
  const std::size_t limit = lmthing::protocol::limits().json_depth;
  const auto nested = [](std::size_t depth) { return json::parse(std::string(depth, '[') + "1" + std::string(depth, ']')); };
  // An instance: invalid as a whole, whatever the schema (uniqueItems would compare it recursively).
  const Validator unique(json::parse(R"({"type": "array", "uniqueItems": true})"));
  const ValidationResult deep = unique.validate(json::array({nested(100000), nested(100000)}));
  REQUIRE_FALSE(deep.valid);
  CHECK(deep.errors[0].instancePath.empty());
  CHECK(deep.errors[0].message == "is nested deeper than the limit of " + std::to_string(limit) + " levels");
  CHECK_FALSE(unique.validate(json::array({nested(limit - 1), nested(limit - 1)})).valid);  // equal items
  // A schema: a SchemaError naming its own limit, a quarter of the value limit.
  const std::size_t schema_limit = limit / 4;
  const auto items_schema = [](std::size_t depth) {
    std::string schema;
    for (std::size_t i = 0; i < depth; ++i) schema += R"({"items":)";
    return json::parse(schema + "{}" + std::string(depth, '}'));
  };
  CHECK_THROWS_WITH(Validator(items_schema(schema_limit)),
                    Catch::Contains("the schema is nested deeper than the limit of " + std::to_string(schema_limit) + " levels"));
  CHECK(Validator(items_schema(schema_limit - 1)).validate(json::array()).valid);
}

TEST_CASE("shared validators: one compile per schema text while it is recently used", "[schema]") {
  using lmthing::schema::kSharedValidators;
  using lmthing::schema::shared_validator;
  const auto numbered = [](std::size_t n) { return json{{"type", "object"}, {"properties", {{"n", {{"const", n}}}}}, {"required", {"n"}}}; };
  // Schemas no other test uses fill the cache first, so that it holds only this test's, in order.
  for (std::size_t n = 5000; n < 5000 + kSharedValidators; ++n) shared_validator(numbered(n));
  const auto first = shared_validator(numbered(0));
  CHECK(shared_validator(numbered(0)) == first);
  CHECK(first->validate(json{{"n", 0}}).valid);
  CHECK_FALSE(first->validate(json{{"n", 1}}).valid);
  CHECK(shared_validator(numbered(1)) != first);
  // Full, with numbered(0) the least recently used. Used again, it becomes the most recent, so the
  // next new schema evicts numbered(1) instead of it.
  for (std::size_t n = 2; n < kSharedValidators; ++n) shared_validator(numbered(n));
  CHECK(shared_validator(numbered(0)) == first);
  shared_validator(numbered(kSharedValidators));
  CHECK(shared_validator(numbered(0)) == first);
  // Unused for kSharedValidators other schemas, it is compiled again.
  for (std::size_t n = 1000; n < 1000 + kSharedValidators; ++n) shared_validator(numbered(n));
  const auto again = shared_validator(numbered(0));
  CHECK(again != first);
  CHECK(again->validate(json{{"n", 0}}).valid);
  // A schema that does not compile throws each time; nothing is kept for it.
  const json bad{{"type", 7}};
  CHECK_THROWS_AS(shared_validator(bad), SchemaError);
  CHECK_THROWS_AS(shared_validator(bad), SchemaError);
  // A schema text past the size limit is compiled for each caller.
  const json large{{"description", std::string(lmthing::schema::kSharedSchemaBytes, 'x')}};
  CHECK(shared_validator(large) != shared_validator(large));
}

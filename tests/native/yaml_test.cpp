// Byte-exact tests for the YAML emitter (src/prompt/yaml.cpp).
#include <catch2/catch.hpp>

#include <string>

#include "protocol/json.hpp"

#include "prompt/yaml.hpp"
#include "protocol/json_text.hpp"

using lmthing::prompt::formatJsNumber;
using lmthing::prompt::toYaml;
using json = lmthing::Json;

namespace {

// `depth` nested arrays around 1 (parsing is iterative, so any depth is safe to build).
json nestedArray(std::size_t depth) { return json::parse(std::string(depth, '[') + "1" + std::string(depth, ']')); }

// The YAML for {"k": text}, to check how one string renders as a map value.
std::string valueYaml(const std::string& text) { return toYaml(json{{"k", text}}); }

}  // namespace

TEST_CASE("yaml: top-level scalars", "[yaml]") {
  CHECK(toYaml(json(nullptr)) == "null\n");
  CHECK(toYaml(json(true)) == "true\n");
  CHECK(toYaml(json(false)) == "false\n");
  CHECK(toYaml(json(42)) == "42\n");
  CHECK(toYaml(json("hello world")) == "hello world\n");
  CHECK(toYaml(json("123")) == "\"123\"\n");
  CHECK(toYaml(json::object()) == "{}\n");
  CHECK(toYaml(json::array()) == "[]\n");
}

TEST_CASE("yaml: maps and nested maps", "[yaml]") {
  const json config = {{"precision", 1}, {"tags", {"a", "b"}}};
  CHECK(toYaml(config) == "precision: 1\ntags:\n  - a\n  - b\n");

  const json nested = {{"outer", {{"inner", {{"leaf", "x"}}}, {"n", 2}}}, {"top", true}};
  CHECK(toYaml(nested) == "outer:\n  inner:\n    leaf: x\n  n: 2\ntop: true\n");
}

TEST_CASE("yaml: keys come out in their written order", "[yaml]") {
  CHECK(toYaml(json{{"z", 1}, {"a", 2}}) == "z: 1\na: 2\n");
  json ordered;
  ordered["z"] = 1;
  ordered["a"] = json{{"y", 1}, {"b", 2}};
  CHECK(toYaml(ordered) == "z: 1\na:\n  y: 1\n  b: 2\n");
}

TEST_CASE("yaml: sequences", "[yaml]") {
  CHECK(toYaml(json{1, "two", nullptr, false}) == "- 1\n- two\n- null\n- false\n");

  SECTION("maps inside a sequence start on the dash line") {
    const json people = json::array({{{"name", "x"}, {"age", 3}}, {{"name", "y"}, {"age", 4}}});
    CHECK(toYaml(people) == "- name: x\n  age: 3\n- name: y\n  age: 4\n");
    CHECK(toYaml(json{{"people", people}}) == "people:\n  - name: x\n    age: 3\n  - name: y\n    age: 4\n");
  }
  SECTION("sequences inside sequences") {
    CHECK(toYaml(json::array({{"a", "b"}, {"c"}})) == "- - a\n  - b\n- - c\n");
    CHECK(toYaml(json{{"grid", json::array({{1, 2}, {3, 4}})}}) == "grid:\n  - - 1\n    - 2\n  - - 3\n    - 4\n");
    CHECK(toYaml(json::array({json::array({json::array({"deep"})})})) == "- - - deep\n");
  }
  SECTION("a sequence of maps holding sequences") {
    const json value = json::array({{{"id", 1}, {"tags", {"a", "b"}}}});
    CHECK(toYaml(value) == "- id: 1\n  tags:\n    - a\n    - b\n");
  }
  SECTION("a sequence as the first map entry of a sequence item") {
    const json value = json::array({json::array({{{"k", {1}}}})});
    CHECK(toYaml(value) == "- - k:\n      - 1\n");
  }
}

TEST_CASE("yaml: empty containers render inline", "[yaml]") {
  const json value = {{"list", json::array()}, {"map", json::object()}};
  CHECK(toYaml(value) == "list: []\nmap: {}\n");
  CHECK(toYaml(json::array({json::object(), json::array()})) == "- {}\n- []\n");
  CHECK(toYaml(json{{"a", {{"b", json::object()}}}}) == "a:\n  b: {}\n");
}

TEST_CASE("yaml: numbers", "[yaml]") {
  CHECK(toYaml(json(0)) == "0\n");
  CHECK(toYaml(json(-17)) == "-17\n");
  CHECK(toYaml(json::parse("9007199254740993")) == "9007199254740993\n");
  CHECK(toYaml(json::parse("18446744073709551615")) == "18446744073709551615\n");
  CHECK(toYaml(json::parse("-9223372036854775808")) == "-9223372036854775808\n");
  CHECK(toYaml(json(1.5)) == "1.5\n");
  CHECK(toYaml(json(-2.25)) == "-2.25\n");
  CHECK(toYaml(json(0.1)) == "0.1\n");
  CHECK(toYaml(json(0.1 + 0.2)) == "0.30000000000000004\n");
  CHECK(toYaml(json(3.0)) == "3\n");
  CHECK(toYaml(json(1e21)) == "1e+21\n");
  CHECK(toYaml(json(1e20)) == "100000000000000000000\n");
  CHECK(toYaml(json(-0.0)) == "-0\n");
  CHECK(toYaml(json{{"pi", 3.14159}, {"big", 1.5e300}}) == "pi: 3.14159\nbig: 1.5e+300\n");
}

TEST_CASE("yaml: floats print like JavaScript's Number#toString", "[yaml]") {
  CHECK(formatJsNumber(0.0) == "0");
  CHECK(formatJsNumber(-0.0) == "0");
  CHECK(formatJsNumber(123.456) == "123.456");
  CHECK(formatJsNumber(100.0) == "100");
  CHECK(formatJsNumber(1e-6) == "0.000001");
  CHECK(formatJsNumber(1.5e-7) == "1.5e-7");
  CHECK(formatJsNumber(1e-7) == "1e-7");
  CHECK(formatJsNumber(123e-20) == "1.23e-18");
  CHECK(formatJsNumber(1e21) == "1e+21");
  CHECK(formatJsNumber(1.2345e22) == "1.2345e+22");
  CHECK(formatJsNumber(999999999999999900000.0) == "999999999999999900000");
  CHECK(formatJsNumber(5e-324) == "5e-324");
  CHECK(formatJsNumber(1.7976931348623157e308) == "1.7976931348623157e+308");
  CHECK(formatJsNumber(2.0 / 3.0) == "0.6666666666666666");
  CHECK(formatJsNumber(-1234.5) == "-1234.5");
  CHECK(formatJsNumber(9007199254740993.0) == "9007199254740992");
}

TEST_CASE("yaml: plain strings", "[yaml]") {
  CHECK(valueYaml("San Francisco") == "k: San Francisco\n");
  CHECK(valueYaml("a:b") == "k: a:b\n");
  CHECK(valueYaml("a#b") == "k: a#b\n");
  CHECK(valueYaml("x-y") == "k: x-y\n");
  CHECK(valueYaml("yes") == "k: yes\n");
  CHECK(valueYaml("1_000") == "k: 1_000\n");
  CHECK(valueYaml("Infinity") == "k: Infinity\n");
  CHECK(valueYaml("1.2.3") == "k: 1.2.3\n");
  CHECK(valueYaml("0x") == "k: 0x\n");
  CHECK(valueYaml("e5") == "k: e5\n");
  CHECK(valueYaml("it's \"fine\"") == "k: it's \"fine\"\n");
  CHECK(valueYaml("</tag>") == "k: </tag>\n");
}

TEST_CASE("yaml: strings that need quoting", "[yaml]") {
  SECTION("empty and surrounding spaces") {
    CHECK(valueYaml("") == "k: \"\"\n");
    CHECK(valueYaml(" lead") == "k: \" lead\"\n");
    CHECK(valueYaml("trail ") == "k: \"trail \"\n");
  }
  SECTION("values the core schema reads as non-strings") {
    for (const char* text : {"123",  "-5",    "+7",   "1.5",  ".5",   "5.",   "1e3", "1E-3", "0x1F",  "0o17",
                             "true", "False", "TRUE", "null", "Null", "NULL", "~",   ".inf", "-.Inf", ".nan"}) {
      INFO(text);
      CHECK(valueYaml(text) == "k: \"" + std::string(text) + "\"\n");
    }
  }
  SECTION("leading indicators") {
    for (const char* text : {"-x", "?x", ":x", ",x", "[x", "]x", "{x", "}x", "#x", "&x", "*x", "!x", "|x", ">x", "%x", "@x", "`x", "- item"}) {
      INFO(text);
      CHECK(valueYaml(text) == "k: \"" + std::string(text) + "\"\n");
    }
    CHECK(valueYaml("'x") == "k: \"'x\"\n");
    CHECK(valueYaml("\"x\"") == "k: \"\\\"x\\\"\"\n");
  }
  SECTION("separators inside or at the end") {
    CHECK(valueYaml("a: b") == "k: \"a: b\"\n");
    CHECK(valueYaml("a #b") == "k: \"a #b\"\n");
    CHECK(valueYaml("key:") == "k: \"key:\"\n");
    CHECK(valueYaml("...") == "k: \"...\"\n");
  }
  SECTION("control characters and tabs are escaped JSON style") {
    CHECK(valueYaml("a\tb") == "k: \"a\\tb\"\n");
    CHECK(valueYaml("a\rb") == "k: \"a\\rb\"\n");
    CHECK(valueYaml(std::string("a\0b", 3)) == "k: \"a\\u0000b\"\n");
    CHECK(valueYaml("bell\x07") == "k: \"bell\\u0007\"\n");
    CHECK(valueYaml("del\x7f") == "k: \"del\\u007f\"\n");
    CHECK(valueYaml("nel\xC2\x85") == "k: \"nel\\u0085\"\n");
    CHECK(valueYaml("\xEF\xBB\xBF"
                    "bom") == "k: \"\\ufeffbom\"\n");
    CHECK(valueYaml("line\xE2\x80\xA8sep\xE2\x80\xA9par") == "k: \"line\\u2028sep\\u2029par\"\n");
    CHECK(valueYaml("back\\slash\t") == "k: \"back\\\\slash\\t\"\n");
  }
}

TEST_CASE("yaml: unicode stays as written", "[yaml]") {
  CHECK(valueYaml("héllo wörld") == "k: héllo wörld\n");
  CHECK(valueYaml("日本語") == "k: 日本語\n");
  CHECK(valueYaml("🚀 launch") == "k: 🚀 launch\n");
  CHECK(toYaml(json{{"ключ", "значение"}}) == "ключ: значение\n");
}

TEST_CASE("yaml: date strings stay plain", "[yaml]") {
  CHECK(valueYaml("2024-01-02T03:04:05.000Z") == "k: 2024-01-02T03:04:05.000Z\n");
  CHECK(valueYaml("2024-01-02") == "k: 2024-01-02\n");
  CHECK(valueYaml("12:30") == "k: 12:30\n");
}

TEST_CASE("yaml: multi-line strings use literal block scalars", "[yaml]") {
  SECTION("chomping follows the trailing newlines") {
    CHECK(valueYaml("line1\nline2") == "k: |-\n  line1\n  line2\n");
    CHECK(valueYaml("line1\nline2\n") == "k: |\n  line1\n  line2\n");
    // Trailing empty lines would need "|+", whose last line break the rendered prompt (YAML without
    // its final newline) would drop: such a string is double-quoted instead.
    CHECK(valueYaml("line1\nline2\n\n") == "k: \"line1\\nline2\\n\\n\"\n");
  }
  SECTION("empty lines inside carry no indentation") {
    CHECK(valueYaml("a\n\nb") == "k: |-\n  a\n\n  b\n");
    CHECK(valueYaml("\nafter blank") == "k: |-\n\n  after blank\n");
  }
  SECTION("leading spaces get an indentation indicator") {
    CHECK(valueYaml("  indented\nnext") == "k: |2-\n    indented\n  next\n");
    CHECK(valueYaml(" one\n") == "k: |2\n   one\n");
    CHECK(valueYaml("\n  x") == "k: |2-\n\n    x\n");
    CHECK(valueYaml("a\n  b") == "k: |-\n  a\n    b\n");
  }
  SECTION("content that a block scalar keeps as is") {
    CHECK(valueYaml("key: value\n# not a comment") == "k: |-\n  key: value\n  # not a comment\n");
    CHECK(valueYaml("tab\there\nx") == "k: |-\n  tab\there\n  x\n");
    CHECK(valueYaml("trailing \nx") == "k: |-\n  trailing \n  x\n");
  }
  SECTION("strings a block scalar cannot carry are double-quoted") {
    CHECK(valueYaml("\n") == "k: \"\\n\"\n");
    CHECK(valueYaml(" \n ") == "k: \" \\n \"\n");
    CHECK(valueYaml("a\n  ") == "k: \"a\\n  \"\n");
    CHECK(valueYaml("a\r\nb") == "k: \"a\\r\\nb\"\n");
  }
  SECTION("position in the tree sets the indentation") {
    CHECK(toYaml(json("a\nb")) == "|-\n  a\n  b\n");
    CHECK(toYaml(json{"a\nb", "c"}) == "- |-\n  a\n  b\n- c\n");
    CHECK(toYaml(json{{"outer", {{"inner", "a\nb\n"}}}}) == "outer:\n  inner: |\n    a\n    b\n");
    CHECK(toYaml(json::array({{{"text", "x\ny"}}})) == "- text: |-\n    x\n    y\n");
  }
}

TEST_CASE("yaml: keys follow the string rules", "[yaml]") {
  CHECK(toYaml(json{{"plain key", 1}}) == "plain key: 1\n");
  CHECK(toYaml(json{{"", 1}}) == "\"\": 1\n");
  CHECK(toYaml(json{{"123", 1}}) == "\"123\": 1\n");
  CHECK(toYaml(json{{"true", 1}}) == "\"true\": 1\n");
  CHECK(toYaml(json{{"a: b", 1}}) == "\"a: b\": 1\n");
  CHECK(toYaml(json{{"- x", 1}}) == "\"- x\": 1\n");
  CHECK(toYaml(json{{"two\nlines", 1}}) == "\"two\\nlines\": 1\n");
}

TEST_CASE("yaml: deep nesting", "[yaml]") {
  constexpr int kDepth = 200;
  SECTION("maps") {
    json value = "leaf";
    for (int i = 0; i < kDepth; ++i) value = json{{"k", value}};
    std::string expected;
    for (int i = 0; i < kDepth; ++i) {
      expected += std::string(static_cast<std::size_t>(2 * i), ' ') + "k:";
      expected += i + 1 < kDepth ? "\n" : " leaf\n";
    }
    CHECK(toYaml(value) == expected);
  }
  SECTION("sequences") {
    json value = 1;
    for (int i = 0; i < kDepth; ++i) value = json::array({value});
    std::string expected;
    for (int i = 0; i < kDepth; ++i) expected += "- ";
    CHECK(toYaml(value) == expected + "1\n");
  }
}

TEST_CASE("yaml: binary values are rejected", "[yaml]") { CHECK_THROWS_AS(toYaml(json::binary({1, 2, 3})), std::invalid_argument); }

TEST_CASE("yaml: values nested deeper than the engine's limit are refused, not recursed into", "[yaml][limits]") {
  const std::size_t limit = lmthing::protocol::limits().json_depth;
  const std::string rendered = toYaml(nestedArray(limit));
  CHECK(rendered.rfind("- - - ", 0) == 0);
  CHECK_THROWS_AS(toYaml(nestedArray(limit + 1)), lmthing::protocol::LimitExceeded);
  CHECK_THROWS_AS(toYaml(json::parse(std::string(100000, '[') + std::string(100000, ']'))), lmthing::protocol::LimitExceeded);
}

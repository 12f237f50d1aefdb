// The fast reader (protocol/json_read.hpp) must build exactly the value nlohmann's parser builds,
// and decline (leaving the text to the careful path) whatever nlohmann would refuse or the engine
// would repair. Each case compares the two on the same text; values are compared by their dump,
// which tells 1 from 1.0 and keeps key order.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <iterator>
#include <random>
#include <string>

#include "protocol/json_read.hpp"

using lmthing::Json;
using lmthing::protocol::parse_plain_json;

namespace {

constexpr std::size_t kReadDepth = 1000;

std::string read_back(std::string_view text) {
  auto value = parse_plain_json(text, kReadDepth);
  return value ? value->dump() : "(declined)";
}

// A random value whose strings are valid UTF-8 (control characters, quotes, emoji ...).
Json random_plain_value(std::mt19937_64& rng, int depth) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); };
  auto text = [&] {
    static const char* const pieces[] = {
        "a", "Z", " ", "\"", "\\", "/", "\n", "\t", "\x01", "\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xef\xbf\xbf"};
    std::string s;
    for (int i = pick(10); i > 0; --i) s += pieces[pick(static_cast<int>(std::size(pieces)))];
    return s;
  };
  switch (depth <= 0 ? pick(7) : pick(9)) {
    case 0: return nullptr;
    case 1: return pick(2) == 0;
    case 2: return static_cast<std::int64_t>(rng()) >> pick(64);
    case 3: return static_cast<std::uint64_t>(rng()) >> pick(64);
    case 4: return static_cast<double>(static_cast<std::int64_t>(rng() >> 11)) / static_cast<double>(1ULL << pick(60)) * (pick(2) ? 1 : -1);
    case 5: return std::ldexp(static_cast<double>(rng() >> 11), pick(600) - 300);
    case 6: return text();
    case 7: {
      Json array = Json::array();
      for (int i = pick(5); i > 0; --i) array.push_back(random_plain_value(rng, depth - 1));
      return array;
    }
    default: {
      Json object = Json::object();
      for (int i = pick(5); i > 0; --i) object[text()] = random_plain_value(rng, depth - 1);
      return object;
    }
  }
}

}  // namespace

TEST_CASE("json reader: builds what nlohmann builds from plain JSON", "[protocol][json-read]") {
  const char* const texts[] = {
      "0",
      "-0",
      "1",
      "-1",
      "1.5",
      "-1.5e-3",
      "1E2",
      "1e+2",
      "0.0",
      "18446744073709551615",
      "18446744073709551616",
      "-9223372036854775808",
      "-9223372036854775809",
      "123456789012345678901234567890",
      "5e-324",
      "1.7976931348623157e308",
      "true",
      "false",
      "null",
      "\"\"",
      R"("a\"b\\c\/d\b\f\n\r\t")",
      R"("\u0000\u001f\u00e9\u20ac")",
      R"("\ud83d\ude00")",
      R"("\uD83D\uDE00")",
      " \t\r\n[ 1 , 2 ]\n",
      R"({"b":1,"a":[{},[],{"x":null}]})",
      R"({"a":1,"b":2,"a":3})",
      R"([[[[[]]]]])",
      "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"",
  };
  for (const char* text : texts) {
    INFO(text);
    CHECK(read_back(text) == Json::parse(text).dump());
  }
  CHECK(read_back(R"({"a":1,"b":2,"a":3})") == R"({"a":3,"b":2})");
  CHECK(parse_plain_json("0", kReadDepth)->is_number_unsigned());
  CHECK(parse_plain_json("-0", kReadDepth)->is_number_integer());
  CHECK(parse_plain_json("18446744073709551616", kReadDepth)->is_number_float());
}

TEST_CASE("json reader: declines what nlohmann refuses and what the engine repairs", "[protocol][json-read]") {
  const std::string texts[] = {
      "",
      " ",
      "01",
      "-",
      "1.",
      ".5",
      "1e",
      "+1",
      "1e400",
      "-1e400",
      "tru",
      "nul",
      "[1,]",
      "[1 2]",
      "{\"a\"}",
      "{\"a\":}",
      "{a:1}",
      "{\"a\":1,}",
      "[1]x",
      "\"abc",
      "\"a\nb\"",
      "\"\\x\"",
      "\"\\u12\"",
      "\"\\ud83d\"",
      "\"\\ude00\"",
      "\"\\ud83d\\u0041\"",
      "\"\xff\"",
      "\"\xc3\"",
      "\"\xed\xa0\x80\"",
      "\"\xc0\x80\"",
      std::string("[1]\0", 4),
      std::string("\"a\0b\"", 5),
      std::string(200, '1') + ".5",
  };
  for (const std::string& text : texts) {
    INFO(Json(text).dump(-1, ' ', true, Json::error_handler_t::replace));
    CHECK_FALSE(parse_plain_json(text, kReadDepth).has_value());
  }
}

TEST_CASE("json reader: nesting up to the limit is read, one level more is declined", "[protocol][json-read]") {
  CHECK(parse_plain_json(std::string(3, '[') + std::string(3, ']'), 3).has_value());
  CHECK_FALSE(parse_plain_json(std::string(4, '[') + std::string(4, ']'), 3).has_value());
  CHECK_FALSE(parse_plain_json(R"({"a":{"b":{"c":{}}}})", 3).has_value());
  const std::string deep = std::string(kReadDepth, '[') + std::string(kReadDepth, ']');
  CHECK(parse_plain_json(deep, kReadDepth).has_value());
}

TEST_CASE("json reader: random documents are read as nlohmann reads them; mutated ones never differ", "[protocol][json-read]") {
  std::mt19937_64 rng(4122026);
  int declined_valid = 0, accepted_mutants = 0;
  for (int i = 0; i < 20000; ++i) {
    const Json value = random_plain_value(rng, 4);
    const std::string text = value.dump(rng() % 2 ? -1 : 1, ' ', rng() % 2 == 0);  // compact or indented, raw UTF-8 or \u escapes
    const auto plain = parse_plain_json(text, kReadDepth);
    if (!plain)
      ++declined_valid;
    else if (plain->dump() != Json::parse(text).dump())
      FAIL_CHECK("document " << i << ": " << text);

    std::string mutant = text;
    static const char bytes[] = "{}[],:\"\\u0123456789eE.-+tfn \x80\xbf\xc3\xed\xff";
    for (int m = static_cast<int>(rng() % 3) + 1; m > 0 && !mutant.empty(); --m) {
      const std::size_t at = rng() % mutant.size();
      switch (rng() % 3) {
        case 0: mutant.erase(at, 1); break;
        case 1: mutant.insert(at, 1, bytes[rng() % (sizeof bytes - 1)]); break;
        default: mutant[at] = bytes[rng() % (sizeof bytes - 1)];
      }
    }
    if (const auto read = parse_plain_json(mutant, kReadDepth)) {
      ++accepted_mutants;
      const Json reference = Json::parse(mutant, nullptr, false);
      if (reference.is_discarded() || reference.dump() != read->dump()) FAIL_CHECK("mutant " << i << " read differently: " << mutant);
    }
  }
  CHECK(declined_valid == 0);
  CHECK(accepted_mutants > 1000);  // the comparison above did run on many mutants
}

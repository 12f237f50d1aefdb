// The engine's JSON writer (protocol/json_write.hpp) must write exactly the text nlohmann's
// dump(-1, ' ', false, replace) writes: every outbound message goes through it, and the host parses
// what it gets. Each case compares the two on the same value.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <string>

#include "protocol/json_write.hpp"

using lmthing::Json;
using lmthing::protocol::append_json;
using lmthing::protocol::json_text;

namespace {

std::string nlohmann_text(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

// A random value up to `depth` levels deep, with strings of random bytes (valid UTF-8 or not).
Json random_json_value(std::mt19937_64& rng, int depth) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); };
  auto random_bytes = [&] {
    static const std::string pieces[] = {"a",
                                         "Z",
                                         " ",
                                         "\"",
                                         "\\",
                                         "/",
                                         "\x7f",
                                         "\n",
                                         "\t",
                                         "\b",
                                         "\f",
                                         "\r",
                                         "\x01",
                                         "\x1f",
                                         "\xc3\xa9",
                                         "\xe2\x82\xac",
                                         "\xf0\x9f\x98\x80",
                                         "\xc3",
                                         "\x80",
                                         "\xc0\x80",
                                         "\xed\xa0\x80",
                                         "\xf4\x90\x80\x80",
                                         "\xe0\x80\x80",
                                         "\xff",
                                         "\xf0\x9f\x98"};
    std::string text;
    const int parts = pick(12);
    for (int i = 0; i < parts; ++i) text += pieces[static_cast<std::size_t>(pick(static_cast<int>(std::size(pieces))))];
    if (pick(4) == 0) text += std::string(1, static_cast<char>(rng() & 0xFF));
    return text;
  };
  switch (depth <= 0 ? pick(6) : pick(8)) {
    case 0: return nullptr;
    case 1: return pick(2) == 0;
    case 2: return static_cast<std::int64_t>(rng());
    case 3: {
      double value = 0;
      const std::uint64_t bits = rng();
      std::memcpy(&value, &bits, sizeof value);  // any double: subnormals, huge, NaN and infinities
      return pick(2) == 0 ? value : static_cast<double>(pick(2000) - 1000) / 8.0;
    }
    case 4: return static_cast<std::uint64_t>(rng());
    case 5: return random_bytes();
    case 6: {
      Json array = Json::array();
      for (int i = pick(5); i > 0; --i) array.push_back(random_json_value(rng, depth - 1));
      return array;
    }
    default: {
      Json object = Json::object();
      for (int i = pick(5); i > 0; --i) object[random_bytes()] = random_json_value(rng, depth - 1);
      return object;
    }
  }
}

}  // namespace

TEST_CASE("json writer: every ASCII byte is escaped as nlohmann escapes it", "[protocol][json-write]") {
  for (int c = 1; c < 0x80; ++c) {
    const Json value = std::string("<") + static_cast<char>(c) + ">";
    INFO("byte " << c);
    CHECK(json_text(value) == nlohmann_text(value));
  }
  const Json with_nul = std::string("a\0b", 3);
  CHECK(json_text(with_nul) == R"("a\u0000b")");
  CHECK(json_text(Json("\x1f\x7f")) == "\"\\u001f\x7f\"");
}

TEST_CASE("json writer: valid UTF-8 passes as it is, invalid UTF-8 becomes U+FFFD as in nlohmann", "[protocol][json-write]") {
  const std::string cases[] = {
      "caf\xc3\xa9",
      "\xe2\x82\xac 5",
      "\xf0\x9f\x98\x80!",
      "\xef\xbf\xbf",  // valid: 2, 3, 4 bytes, U+FFFF
      "\x80",
      "a\xc3",
      "\xc0\x80",
      "\xc1\xbf",  // lone continuation, truncated, overlong
      "\xe0\x80\x80",
      "\xed\xa0\x80",
      "\xed\xbf\xbf",
      "\xf0\x80\x80\x80",
      "\xf4\x90\x80\x80",
      "\xf5\x80\x80\x80",
      "\xff",
      "\xf0\x9f\x98",  // surrogates, past U+10FFFF, truncated at the end
      "ok\xe2\x82\xac\n\xc3",
      "\xc3\xa9\"\\\x01\xe9x",
  };
  for (const std::string& text : cases) {
    INFO("text " << Json(text).dump(-1, ' ', true, Json::error_handler_t::replace));
    CHECK(json_text(Json(text)) == nlohmann_text(Json(text)));
    const Json keyed = {{text, text}};
    CHECK(json_text(keyed) == nlohmann_text(keyed));
  }
  CHECK(json_text(Json("\xff")) == "\"\xef\xbf\xbd\"");
}

TEST_CASE("json writer: numbers are formatted as nlohmann formats them", "[protocol][json-write]") {
  const double doubles[] = {0.0,
                            -0.0,
                            1.0,
                            -1.0,
                            0.1,
                            1.5,
                            1e21,
                            1e-7,
                            123456789.125,
                            5e-324,
                            std::numeric_limits<double>::max(),
                            -1e300,
                            std::numeric_limits<double>::quiet_NaN(),
                            std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity()};
  for (double d : doubles) CHECK(json_text(Json(d)) == nlohmann_text(Json(d)));
  CHECK(json_text(Json(std::numeric_limits<double>::quiet_NaN())) == "null");
  CHECK(json_text(Json(1.0)) == "1.0");
  for (std::int64_t i : {std::int64_t{0}, std::int64_t{-1}, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()})
    CHECK(json_text(Json(i)) == nlohmann_text(Json(i)));
  CHECK(json_text(Json(std::numeric_limits<std::uint64_t>::max())) == "18446744073709551615");
}

TEST_CASE("json writer: containers keep their written order; binary values are nlohmann's", "[protocol][json-write]") {
  Json object = Json::object();
  object["zeta"] = 1;
  object["alpha"] = Json::array({true, nullptr, Json::object(), Json::array(), "x"});
  object[""] = "";
  CHECK(json_text(object) == R"({"zeta":1,"alpha":[true,null,{},[],"x"],"":""})");
  CHECK(json_text(object) == nlohmann_text(object));
  const Json binary = Json::binary({1, 2, 3}, 7);
  CHECK(json_text(binary) == nlohmann_text(binary));

  std::string out = "prefix:";
  append_json(out, Json::array({1, 2}));
  CHECK(out == "prefix:[1,2]");
}

TEST_CASE("json writer: values nested to the engine's depth limit", "[protocol][json-write]") {
  Json deep = "leaf";
  for (int i = 0; i < 1000; ++i) deep = (i % 2) ? Json::array({std::move(deep)}) : Json{{"k", std::move(deep)}};
  CHECK(json_text(deep) == nlohmann_text(deep));
}

TEST_CASE("json writer: random values, random bytes", "[protocol][json-write]") {
  std::mt19937_64 rng(20261204);
  for (int i = 0; i < 20000; ++i) {
    const Json value = random_json_value(rng, 4);
    const std::string ours = json_text(value);
    const std::string theirs = nlohmann_text(value);
    if (ours != theirs) FAIL_CHECK("value " << i << ": ours " << ours << " vs nlohmann " << theirs);
  }
}

TEST_CASE("json writer: append_json_unless stops at a string value the test picks, never at a key", "[protocol][json-write]") {
  const auto is_long = [](const std::string& text) { return text.size() > 3; };
  const Json plain = {{"long key", "abc"}, {"list", {"x", 1, "yz"}}};
  std::string out = ">";
  CHECK(lmthing::protocol::append_json_unless(out, plain, is_long));
  CHECK(out == ">" + nlohmann_text(plain));

  const Json carrying = {{"a", "abc"}, {"list", {"x", "long one", "after"}}, {"b", "later"}};
  std::string partial;
  CHECK_FALSE(lmthing::protocol::append_json_unless(partial, carrying, is_long));
  CHECK(partial.find("long one") == std::string::npos);  // stopped before writing it
  CHECK(partial.find("later") == std::string::npos);     // and wrote nothing after it
}

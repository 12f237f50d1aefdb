// Token counting: exact o200k_base / cl100k_base BPE against js-tiktoken's reference ids on a fixed
// multilingual corpus, the two merge algorithms against each other, the message counting rule and
// the estimate (src/state/bpe.*, pretokenize.*, token_count.*).
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "runtime/random.hpp"
#include "state/bpe.hpp"
#include "state/state_error.hpp"
#include "state/token_count.hpp"
#include "state_errors.hpp"

using lmthing::testing::state_error_code;

namespace {

using lmthing::Random;
using json = lmthing::Json;
using namespace lmthing::state;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) FAIL("cannot read " << path << " (the rank files are generated into dist/tokenizers by scripts/build.sh)");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const BpeEncoding& encoding(const std::string& name) {
  static std::map<std::string, BpeEncoding> loaded;
  auto it = loaded.find(name);
  if (it == loaded.end()) it = loaded.emplace(name, BpeEncoding::load(read_file(std::string(LMTHING_TOKENIZER_DIR) + "/" + name + ".bpe"))).first;
  return it->second;
}

json fixture(const std::string& file) { return json::parse(read_file(std::string(LMTHING_FIXTURES_DIR) + "/tokens/" + file)); }

}  // namespace

TEST_CASE("o200k_base and cl100k_base give js-tiktoken's exact tokens on the fixed corpus", "[state][tokens]") {
  const json texts = fixture("corpus.json")["texts"];
  const json expected = fixture("expected.json")["encodings"];
  for (const std::string name : {"o200k_base", "cl100k_base"}) {
    const BpeEncoding& e = encoding(name);
    CHECK(e.name() == name);
    for (std::size_t i = 0; i < texts.size(); ++i) {
      const std::string text = texts[i].get<std::string>();
      INFO(name << " text " << i << ": " << json(text).dump().substr(0, 100));
      CHECK(e.encode(text) == expected[name]["tokens"][i].get<std::vector<std::uint32_t>>());
      CHECK(e.count(text) == expected[name]["counts"][i].get<std::size_t>());
    }
  }
}

TEST_CASE("the heap merge for long pieces equals tiktoken's linear merge", "[state][tokens]") {
  const BpeEncoding& e = encoding("o200k_base");
  Random rng(5);
  const std::string alphabet = "aaaabbbcde  \n\t.,!?0123456789xyz";
  for (int trial = 0; trial < 150; ++trial) {
    std::string piece;
    const std::size_t n = 2 + rng.below(400);
    for (std::size_t i = 0; i < n; ++i) piece += alphabet[rng.below(alphabet.size())];
    if (rng.below(3) == 0) piece += "\xe6\x97\xa5\xe6\x9c\xac\xf0\x9f\x9a\x80";  // 日本🚀: multi-byte merges
    std::vector<std::uint32_t> linear, heap;
    e.merge_piece(piece, false, [&](std::uint32_t r) { linear.push_back(r); });
    e.merge_piece(piece, true, [&](std::uint32_t r) { heap.push_back(r); });
    INFO(json(piece).dump());
    REQUIRE(linear == heap);
  }
}

TEST_CASE("a megabyte of one character is counted without quadratic time", "[state][tokens]") {
  const BpeEncoding& e = encoding("cl100k_base");
  const std::string spaces(1 << 20, ' ');
  const std::size_t n = e.count(spaces + "x");
  CHECK(n > 1000);
  CHECK(n < (1 << 20));
}

TEST_CASE("invalid rank files are INVALID_RANKS errors", "[state][tokens]") {
  CHECK(state_error_code([] { BpeEncoding::load(""); }) == error_code::kInvalidRanks);
  CHECK(state_error_code([] { BpeEncoding::load("not a rank file at all"); }) == error_code::kInvalidRanks);
  const std::string good = read_file(std::string(LMTHING_TOKENIZER_DIR) + "/cl100k_base.bpe");
  CHECK(state_error_code([&] { BpeEncoding::load(std::string_view(good).substr(0, good.size() / 2)); }) == error_code::kInvalidRanks);
  std::string other_pattern = good;
  const auto at = other_pattern.find("\\p{N}{1,3}");
  REQUIRE(at != std::string::npos);
  other_pattern[at + 7] = '4';  // \p{N}{1,4}: a pattern the splitter does not implement
  try {
    BpeEncoding::load(other_pattern);
    FAIL("expected an error");
  } catch (const StateError& err) {
    CHECK(err.code() == error_code::kInvalidRanks);
    CHECK_THAT(std::string(err.what()), Catch::Contains("pre-tokenization pattern differs"));
  }
}

TEST_CASE("models map to their encodings; others use the estimate", "[state][tokens]") {
  CHECK(encoding_for_model("gpt-4o") == "o200k_base");
  CHECK(encoding_for_model("openai:gpt-4o-mini") == "o200k_base");
  CHECK(encoding_for_model("openai:gpt-4.1-nano") == "o200k_base");
  CHECK(encoding_for_model("o3-mini") == "o200k_base");
  CHECK(encoding_for_model("gpt-5") == "o200k_base");
  CHECK(encoding_for_model("gpt-4-turbo") == "cl100k_base");
  CHECK(encoding_for_model("openai:gpt-3.5-turbo") == "cl100k_base");
  CHECK(encoding_for_model("text-embedding-3-small") == "cl100k_base");
  CHECK_FALSE(encoding_for_model("anthropic:claude-sonnet-4-5").has_value());
  CHECK_FALSE(encoding_for_model("ollama:llama3.2").has_value());
}

TEST_CASE("the estimate: a weight per character, close to o200k over a mixed corpus", "[state][tokens]") {
  CHECK(estimate_tokens("") == 0);
  CHECK(estimate_tokens("a") == 1);
  CHECK(estimate_tokens("abcd") == 1);
  CHECK(estimate_tokens("abcde") == 2);
  CHECK(estimate_tokens("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e") == 3);  // 日本語: one per CJK character
  CHECK(estimate_tokens("\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2") == 2);      // Прив: half per Cyrillic letter
  CHECK(estimate_tokens(std::string(1000, ' ')) == 16);                 // a whitespace run is cheap
  // Over the whole corpus within 10% of o200k; every text within 0.5×–2×.
  const json texts = fixture("corpus.json")["texts"];
  std::size_t exact = 0, estimate = 0;
  for (const auto& t : texts) {
    const std::string text = t.get<std::string>();
    const std::size_t x = encoding("o200k_base").count(text), e = estimate_tokens(text);
    exact += x;
    estimate += e;
    INFO(json(text).dump().substr(0, 60) << ": exact " << x << ", estimate " << e);
    CHECK(e * 2 >= x);
    CHECK(e <= x * 2);
  }
  CHECK(estimate * 10 >= exact * 9);
  CHECK(estimate * 10 <= exact * 11);
}

TEST_CASE("messages are counted with OpenAI's per-message rule", "[state][tokens]") {
  const BpeEncoding& e = encoding("o200k_base");
  const TextCounter count = [&](std::string_view s) { return e.count(s); };
  const json messages = json::array({{{"role", "system"}, {"content", "You are terse."}}, {{"role", "user"}, {"content", "Hi!"}, {"name", "ann"}}});
  const std::size_t expected = 3 + (3 + e.count("system") + e.count("You are terse.")) + (3 + e.count("user") + e.count("Hi!") + e.count("ann") + 1);
  CHECK(count_messages_tokens(messages, count) == expected);
  CHECK(count_messages_tokens(json::array(), count) == 0);

  const json tool_turn = {{"role", "assistant"},
                          {"content",
                           {{{"type", "text"}, {"text", "Checking."}},
                            {{"type", "tool-call"}, {"toolCallId", "c1"}, {"toolName", "weather"}, {"args", {{"city", "Paris"}}}}}}};
  CHECK(count_message_tokens(tool_turn, count) ==
        3 + e.count("assistant") + e.count("Checking.") + e.count("weather") + e.count("{\"city\":\"Paris\"}"));
  const json result = {{"role", "tool"}, {"content", {{{"type", "tool-result"}, {"toolCallId", "c1"}, {"result", "sunny"}}}}};
  CHECK(count_message_tokens(result, count) == 3 + e.count("tool") + e.count("sunny"));
  const json image = {{"role", "user"}, {"content", {{{"type", "image"}, {"image", "data:..."}}}}};
  CHECK(count_message_tokens(image, count) == 3 + e.count("user") + 85);
  // A file (a PDF) counts as an image does: its pages are not known before the provider reads it.
  const json file = {{"role", "user"}, {"content", {{{"type", "file"}, {"data", "JVBERi0="}, {"mediaType", "application/pdf"}}}}};
  CHECK(count_message_tokens(file, count) == 3 + e.count("user") + 85);

  CHECK(state_error_code([&] { count_messages_tokens(json::object(), count); }) == error_code::kInvalidMessages);
  CHECK(state_error_code([&] { count_messages_tokens(json::array({{{"content", "x"}}}), count); }) == error_code::kInvalidMessages);
  CHECK(state_error_code([&] {
          count_message_tokens({{"role", "user"}, {"content", {{{"type", "video"}}}}}, count);
        }) == error_code::kInvalidMessages);
}

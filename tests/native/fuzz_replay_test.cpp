// The libFuzzer targets of tests/fuzz inside the ordinary suite, natively and in wasm: every input
// of tests/fuzz/corpus/<target>/ (seeds and every input that once failed) is replayed, then a fixed
// number of seeded mutations of them. A target that finds a broken invariant aborts, which fails
// this test. `npm run fuzz` runs the same targets under libFuzzer, ASan and UBSan for longer.
#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

// Each target's LLVMFuzzerTestOneInput, renamed when compiled into this suite (CMakeLists.txt).
extern "C" int fuzz_json_text_one(const std::uint8_t* data, std::size_t size);
extern "C" int fuzz_inbox_one(const std::uint8_t* data, std::size_t size);
extern "C" int fuzz_schema_one(const std::uint8_t* data, std::size_t size);
extern "C" int fuzz_yaml_one(const std::uint8_t* data, std::size_t size);
extern "C" int fuzz_prompt_one(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;
using Target = int (*)(const std::uint8_t*, std::size_t);

// The input being run, printed if a target aborts (native only: wasm has no signals).
const std::string* current_input = nullptr;

void print_current_input(int) {
  if (current_input) {
    std::fputs("\nfuzz replay: the failing input, escaped:\n", stderr);
    for (unsigned char c : *current_input) std::fprintf(stderr, (c >= 0x20 && c < 0x7f && c != '\\') ? "%c" : "\\x%02x", c);
    std::fputs("\n", stderr);
  }
  std::signal(SIGABRT, SIG_DFL);
}

std::vector<std::string> corpus(const std::string& target) {
  std::vector<std::string> inputs;
  const fs::path dir = fs::path(LMTHING_FUZZ_CORPUS_DIR) / target;
  if (!fs::is_directory(dir)) return inputs;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    inputs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::sort(inputs.begin(), inputs.end());  // the directory's order is not fixed
  return inputs;
}

// Pieces that matter to the parsers: brackets, quotes, surrogate escapes, tags, protocol words.
const std::array<std::string, 16> kTokens = {
    "[", "]", "{", "}", "\"", ",", ":", "\\ud83d", "\\ude00", "\xed\xa0\xbd", "</variables>", "<role>", "\"type\"", "\"op.done\"", "\"id\":1", "\n"};

std::string mutate(std::string input, const std::vector<std::string>& others, std::mt19937& rng) {
  auto pick = [&](std::size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  const int edits = 1 + static_cast<int>(pick(4));
  for (int e = 0; e < edits; ++e) {
    const std::size_t at = pick(input.size() + 1);
    switch (pick(5)) {
      case 0:  // flip a byte
        if (!input.empty()) input[pick(input.size())] = static_cast<char>(pick(256));
        break;
      case 1:  // insert a token
        input.insert(at, kTokens[pick(kTokens.size())]);
        break;
      case 2:  // delete a range
        if (at < input.size()) input.erase(at, 1 + pick(std::min<std::size_t>(16, input.size() - at)));
        break;
      case 3: {  // repeat a range (nesting, long strings)
        if (at >= input.size()) break;
        const std::string piece = input.substr(at, 1 + pick(8));
        for (std::size_t n = 1 + pick(64); n > 0; --n) input.insert(at, piece);
        break;
      }
      default: {  // splice in part of another input
        const std::string& other = others[pick(others.size())];
        if (!other.empty()) input.insert(at, other.substr(pick(other.size())));
      }
    }
  }
  if (input.size() > 65536) input.resize(65536);
  return input;
}

void replay(const std::string& name, Target target, int mutations) {
  const std::vector<std::string> inputs = corpus(name);
  REQUIRE(!inputs.empty());
  std::signal(SIGABRT, print_current_input);
  for (const std::string& input : inputs) {
    current_input = &input;
    target(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
  }
  std::mt19937 rng(20261202);  // fixed: a failure is reproducible
  for (int i = 0; i < mutations; ++i) {
    const std::string input = mutate(inputs[i % inputs.size()], inputs, rng);
    current_input = &input;
    target(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
  }
  current_input = nullptr;
  std::signal(SIGABRT, SIG_DFL);
  SUCCEED(name << ": " << inputs.size() << " corpus inputs and " << mutations << " mutations ran");
}

}  // namespace

TEST_CASE("fuzz corpus and seeded mutations: the boundary scanner", "[fuzz]") { replay("fuzz_json_text", fuzz_json_text_one, 3000); }
TEST_CASE("fuzz corpus and seeded mutations: inbox batches into a fresh engine", "[fuzz]") { replay("fuzz_inbox", fuzz_inbox_one, 600); }
TEST_CASE("fuzz corpus and seeded mutations: the JSON Schema validator", "[fuzz]") { replay("fuzz_schema", fuzz_schema_one, 1500); }
TEST_CASE("fuzz corpus and seeded mutations: YAML rendering", "[fuzz]") { replay("fuzz_yaml", fuzz_yaml_one, 1500); }
TEST_CASE("fuzz corpus and seeded mutations: prompt rendering", "[fuzz]") { replay("fuzz_prompt", fuzz_prompt_one, 1500); }
